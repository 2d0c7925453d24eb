// Panel shapes the dashboards repeat: a metric of a device class over time, a count stat, a table.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import { DEVICE_CLASSES } from '../contract/catalog.ts';
import { classInterval, DATASOURCE, gapMs, VAR } from './common.ts';
import { from } from './influxql.ts';
/** Catalog unit → Grafana unit id; units Grafana lacks are shown as a suffix. */
const UNITS = {
    m: 'lengthm',
    '°C': 'celsius',
    mA: 'mamp',
    V: 'volt',
    A: 'amp',
    kW: 'kwatt',
    kWh: 'kwatth',
    '%': 'percent',
    dBm: 'dBm',
    ppm: 'ppm',
};
export function grafanaUnit(unit) {
    return UNITS[unit] ?? (unit ? `suffix: ${unit}` : 'none');
}
export function metricUnit(cls, metric) {
    const metrics = DEVICE_CLASSES[cls].metrics;
    return grafanaUnit(metrics[metric]?.unit ?? '');
}
/** Series name of one device: `<enterprise>/<device>`, the same as its MQTT user name. */
export const DEVICE_ALIAS = '$tag_enterprise/$tag_device';
/** One metric of one class per device over time. */
export function metricQuery(cls, metric, options = {}) {
    const q = from(cls, DATASOURCE)
        .select({ field: metric, fn: options.fn ?? 'mean', as: metric })
        .whereVariable('enterprise', VAR.enterprise);
    if (options.site)
        q.whereVariable('site', VAR.site);
    if (options.hazardSource)
        q.whereVariable('hazard_source', VAR.hazardSource);
    if (options.device ?? true)
        q.whereVariable('device', VAR.device);
    return q
        .groupByTime()
        .groupBy('enterprise', 'device')
        .fill('none')
        .alias(DEVICE_ALIAS);
}
export function legend() {
    return new common.VizLegendOptionsBuilder()
        .showLegend(true)
        .displayMode(common.LegendDisplayMode.Table)
        .placement(common.LegendPlacement.Right)
        .calcs(['lastNotNull', 'max']);
}
/** A time-series panel of one class's metric, threshold bands drawn as dashed lines over shaded areas. */
export function metricPanel(cls, metric, title, query, bands) {
    const seconds = DEVICE_CLASSES[cls].intervalSeconds;
    const p = new timeseries.PanelBuilder()
        .title(title)
        .datasource(DATASOURCE)
        .withTarget(query)
        .unit(metricUnit(cls, metric))
        .interval(classInterval(seconds))
        .insertNulls(gapMs(seconds))
        .lineWidth(1)
        .fillOpacity(0)
        .showPoints(common.VisibilityMode.Never)
        .legend(legend())
        .tooltip(new common.VizTooltipOptionsBuilder().mode(common.TooltipDisplayMode.Multi).sort(common.SortOrder.Descending));
    if (bands) {
        p.thresholds(bands).thresholdsStyle(new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.DashedAndArea));
    }
    return p;
}
/** A big number: a count that turns the given colour when it is not zero. */
export function countStat(title, query, steps, description) {
    return new stat.PanelBuilder()
        .title(title)
        .description(description)
        .datasource(DATASOURCE)
        .withTarget(query)
        .thresholds(steps)
        .noValue('0')
        .colorMode(common.BigValueColorMode.Background)
        .graphMode(common.BigValueGraphMode.None)
        .textMode(common.BigValueTextMode.Value)
        .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']).values(false))
        .height(5)
        .span(4);
}
/** A table panel on the data source. */
export function tablePanel(title, description, ...queries) {
    const p = new table.PanelBuilder().title(title).description(description).datasource(DATASOURCE).cellHeight(common.TableCellHeight.Sm);
    for (const q of queries)
        p.withTarget(q);
    return p;
}
/** Field override: colour the cell background by the field's thresholds. */
export function colouredCell(thresholds) {
    return [
        { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground, mode: common.TableCellBackgroundDisplayMode.Basic } },
        { id: 'thresholds', value: thresholds.build() },
        { id: 'color', value: { mode: dashboard.FieldColorModeId.Thresholds } },
    ];
}
/** Transformation helper (the SDK types them as `any` options). */
export function transformation(id, options) {
    return { id, options };
}
/** Hides the Time column and renames columns in a table. */
export function organize(rename, hide = ['Time']) {
    return transformation('organize', {
        excludeByName: Object.fromEntries(hide.map((h) => [h, true])),
        renameByName: rename,
        indexByName: {},
    });
}
