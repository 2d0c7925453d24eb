// The InfluxDB storage schema of docs/storage.md as types, so that every dashboard query names only
// measurements, tags and fields that exist: a renamed metric in contract/catalog.ts breaks `tsc`,
// not a panel on a monitoring-room wall. Readings come straight from the catalog (measurement = class
// id, field = metric name); the other measurements are listed here exactly as docs/storage.md has them.
import { DEVICE_CLASSES } from '../contract/catalog.ts';
/** Tags of every reading measurement. `site` is omitted when empty, `hazard_source` when the device has none. */
export const READING_TAGS = ['enterprise', 'site', 'device', 'hazard_source'];
export const PLATFORM_MEASUREMENTS = {
    device_event: { tags: ['enterprise', 'site', 'device', 'class', 'type'], fields: ['active', 'message'] },
    device_status: { tags: ['enterprise', 'site', 'device', 'class'], fields: ['online'] },
    alarm_event: {
        tags: ['enterprise', 'device', 'class', 'condition', 'level', 'action'],
        fields: ['alarm_id', 'state', 'value', 'message', 'by'],
    },
    platform_ingest: {
        tags: ['instance'],
        fields: ['received', 'stored', 'rejected', 'duplicates', 'spool_depth', 'spool_age_s', 'write_latency_ms'],
    },
    platform_rejection: { tags: ['instance', 'reason'], fields: ['count'] },
    platform_rules: { tags: ['instance'], fields: ['evaluated', 'alarms_active', 'alarm_changes'] },
};
/** Fields docs/storage.md marks optional: a panel column of them may be empty in every row. */
export const OPTIONAL_FIELDS = {
    device_event: ['message', 'active'],
    alarm_event: ['value'],
};
/** Tags of a measurement at run time (for tests and for the variable queries). */
export function tagsOf(measurement) {
    return Object.hasOwn(PLATFORM_MEASUREMENTS, measurement) ? PLATFORM_MEASUREMENTS[measurement].tags : READING_TAGS;
}
/** Fields of a measurement at run time. */
export function fieldsOf(measurement) {
    if (Object.hasOwn(PLATFORM_MEASUREMENTS, measurement))
        return PLATFORM_MEASUREMENTS[measurement].fields;
    return [...Object.keys(DEVICE_CLASSES[measurement].metrics), 'receive_time'];
}
