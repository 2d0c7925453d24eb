// Platform health: message rates through ingest, rejections by reason, the spool (data waiting for
// the database), database write latency, and the rules engine's load.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { board, DATASOURCE, levelColour, NORMAL, thresholds } from '../common.ts';
import { from } from '../influxql.ts';
import { legend } from '../panels.ts';
// Platform processes write every 10 s (docs/storage.md).
const WRITE_INTERVAL = '10s';
function panel(title, unit, description, ...queries) {
    const p = new timeseries.PanelBuilder()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .unit(unit)
        .interval(WRITE_INTERVAL)
        .insertNulls(30000)
        .showPoints(common.VisibilityMode.Never)
        .legend(legend());
    for (const q of queries)
        p.withTarget(q);
    return p;
}
export const platformHealth = {
    file: 'platform-health.json',
    build() {
        const rates = from('platform_ingest', DATASOURCE)
            .select({ rate: 'received', per: '1s' }, { rate: 'stored', per: '1s' }, { rate: 'rejected', per: '1s' }, { rate: 'duplicates', per: '1s' })
            .groupByTime()
            .groupBy('instance')
            .fill('none')
            .alias('$tag_instance $col');
        const rejections = from('platform_rejection', DATASOURCE)
            .select({ rate: 'count', per: '1m', as: 'per_minute' })
            .groupByTime()
            .groupBy('reason')
            .fill('none')
            .alias('$tag_reason');
        const spool = from('platform_ingest', DATASOURCE)
            .select({ field: 'spool_depth', fn: 'max', as: 'spool_depth' })
            .groupByTime()
            .groupBy('instance')
            .fill('none')
            .alias('$tag_instance depth');
        const spoolAge = from('platform_ingest', DATASOURCE)
            .select({ field: 'spool_age_s', fn: 'max', as: 'spool_age_s' })
            .groupByTime()
            .groupBy('instance')
            .fill('none')
            .alias('$tag_instance oldest')
            .refId('B');
        const latency = from('platform_ingest', DATASOURCE)
            .select({ field: 'write_latency_ms', fn: 'max', as: 'write_latency_ms' })
            .groupByTime()
            .groupBy('instance')
            .fill('none')
            .alias('$tag_instance');
        const rules = from('platform_rules', DATASOURCE)
            .select({ rate: 'evaluated', per: '1s' }, { rate: 'alarm_changes', per: '1m', as: 'alarm_changes_per_min' }, { field: 'alarms_active', fn: 'last', as: 'alarms_active' })
            .groupByTime()
            .groupBy('instance')
            .fill('none')
            .alias('$tag_instance $col');
        return board('hazwatch-platform-health', 'Hazwatch · Platform health', 'Ingest message rates, rejections by reason, spool depth, database write latency and rules engine load.')
            .withRow(new dashboard.RowBuilder('Ingest'))
            .withPanel(panel('Messages per second', 'reqps', 'Readings received, stored, rejected and duplicates dropped, per ingest instance.', rates))
            .withPanel(panel('Rejections per minute by reason', 'short', 'Rejected messages and values by HW_ERR_* code (see docs/errors.md).', rejections).drawStyle(common.GraphDrawStyle.Bars).fillOpacity(70))
            .withPanel(panel('Spool: data waiting for the database', 'short', 'Messages held on disk because the database is slow or down (depth) and the age of the oldest one. Zero in normal operation.', spool, spoolAge)
            .thresholds(thresholds(NORMAL, [1, levelColour(3)]))
            .overrideByQuery('B', [{ id: 'unit', value: 's' }]))
            .withPanel(panel('Database write latency (max)', 'ms', 'Slowest InfluxDB write per interval and ingest instance.', latency)
            .thresholds(thresholds(NORMAL, [1000, levelColour(3)]))
            .thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed)))
            .withRow(new dashboard.RowBuilder('Rules'))
            .withPanel(panel('Rules engine', 'short', 'Readings evaluated per second, alarm changes per minute and alarms active, per rules instance.', rules).span(24))
            .build();
    },
};
