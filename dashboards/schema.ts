// The InfluxDB storage schema of docs/storage.md as types, so that every dashboard query names only
// measurements, tags and fields that exist: a renamed metric in contract/catalog.ts breaks `tsc`,
// not a panel on a monitoring-room wall. Readings come straight from the catalog (measurement = class
// id, field = metric name); the other measurements are listed here exactly as docs/storage.md has them.
import { DEVICE_CLASSES, type DeviceClass } from '../contract/catalog.ts';

type Metrics<C extends DeviceClass> = keyof (typeof DEVICE_CLASSES)[C]['metrics'] & string;

/** Tags of every reading measurement. `site` is omitted when empty, `hazard_source` when the device has none. */
export const READING_TAGS = ['enterprise', 'site', 'device', 'hazard_source'] as const;

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
} as const;

type Platform = typeof PLATFORM_MEASUREMENTS;

/** Fields docs/storage.md marks optional: a panel column of them may be empty in every row. */
export const OPTIONAL_FIELDS: Partial<Record<keyof Platform, readonly string[]>> = {
  device_event: ['message', 'active'],
  alarm_event: ['value'],
};

/** Every measurement with its tags and fields, as types. */
export type Schema = {
  [C in DeviceClass]: { tags: (typeof READING_TAGS)[number]; fields: Metrics<C> | 'receive_time' };
} & {
  [M in keyof Platform]: { tags: Platform[M]['tags'][number]; fields: Platform[M]['fields'][number] };
};

export type Measurement = keyof Schema;
export type TagOf<M extends Measurement> = Schema[M]['tags'];
export type FieldOf<M extends Measurement> = Schema[M]['fields'];

/** The functions ingest's continuous queries keep per minute and hour (ingest/retention.ts: `mean(*), max(*), min(*)`). */
export const AGGREGATE_FUNCTIONS = ['mean', 'max', 'min'] as const;
export type AggregateFunction = (typeof AGGREGATE_FUNCTIONS)[number];

/** Fields of a measurement in the minute and hour retention policies: InfluxDB names them `<function>_<field>`. */
export type AggregateFieldOf<M extends Measurement> = `${AggregateFunction}_${FieldOf<M>}`;

export function aggregateField<M extends Measurement>(fn: AggregateFunction, field: FieldOf<M>): AggregateFieldOf<M> {
  return `${fn}_${field}` as AggregateFieldOf<M>;
}

/** Tags of a measurement at run time (for tests and for the variable queries). */
export function tagsOf(measurement: Measurement): readonly string[] {
  return Object.hasOwn(PLATFORM_MEASUREMENTS, measurement) ? PLATFORM_MEASUREMENTS[measurement as keyof Platform].tags : READING_TAGS;
}

/** Fields of a measurement at run time. */
export function fieldsOf(measurement: Measurement): readonly string[] {
  if (Object.hasOwn(PLATFORM_MEASUREMENTS, measurement)) return PLATFORM_MEASUREMENTS[measurement as keyof Platform].fields;
  return [...Object.keys(DEVICE_CLASSES[measurement as DeviceClass].metrics), 'receive_time'];
}
