// Panel shapes the dashboards repeat: a metric of a device class over time, a count stat, a table.
import * as common from '@grafana/grafana-foundation-sdk/common';
import * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import * as stat from '@grafana/grafana-foundation-sdk/stat';
import * as table from '@grafana/grafana-foundation-sdk/table';
import * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import { DEVICE_CLASSES, type DeviceClass } from '../contract/catalog.ts';
import { classInterval, DATASOURCE, gapMs, VAR } from './common.ts';
import type { InfluxQL } from './influxql.ts';
import type { AggregateFunction, FieldOf, TagOf } from './schema.ts';
import { trendQuery, type LongRanges } from './tiers.ts';

/** Catalog unit → Grafana unit id; units Grafana lacks are shown as a suffix. */
const UNITS: Record<string, string> = {
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

export function grafanaUnit(unit: string): string {
  return UNITS[unit] ?? (unit ? `suffix: ${unit}` : 'none');
}

export function metricUnit<C extends DeviceClass>(cls: C, metric: FieldOf<C>): string {
  const metrics = DEVICE_CLASSES[cls].metrics as Record<string, { unit: string }>;
  return grafanaUnit(metrics[metric]?.unit ?? '');
}

/** Series name of one device: `<enterprise>/<device>`, the same as its MQTT user name. */
export const DEVICE_ALIAS = '$tag_enterprise/$tag_device';

export interface MetricQueryOptions {
  /** How long ranges are read (the raw readings, the minute and hour aggregates by age). */
  ranges: LongRanges;
  fn?: AggregateFunction;
  /** Filter by the dashboard's device variable (and hazard source variable). */
  device?: boolean;
  hazardSource?: boolean;
  site?: boolean;
}

/** One metric of one class per device over time, from the raw readings or the aggregates by age (dashboards/tiers.ts). */
export function metricQuery<C extends DeviceClass>(cls: C, metric: FieldOf<C>, options: MetricQueryOptions): InfluxQL<string, string> {
  return trendQuery(
    {
      cls,
      metric,
      fn: options.fn ?? 'mean',
      filter: (q: InfluxQL<string, TagOf<C>>) => {
        q.whereVariable('enterprise' as TagOf<C>, VAR.enterprise);
        if (options.site) q.whereVariable('site' as TagOf<C>, VAR.site);
        if (options.hazardSource) q.whereVariable('hazard_source' as TagOf<C>, VAR.hazardSource);
        if (options.device ?? true) q.whereVariable('device' as TagOf<C>, VAR.device);
      },
      groupBy: ['enterprise' as TagOf<C>, 'device' as TagOf<C>],
      fill: 'null',
      alias: DEVICE_ALIAS,
    },
    options.ranges,
  );
}

export function legend(): common.VizLegendOptionsBuilder {
  return new common.VizLegendOptionsBuilder()
    .showLegend(true)
    .displayMode(common.LegendDisplayMode.Table)
    .placement(common.LegendPlacement.Right)
    .calcs(['lastNotNull', 'max']);
}

/** A time-series panel of one class's metric, threshold bands drawn as dashed lines over shaded areas. */
export function metricPanel<C extends DeviceClass>(
  cls: C,
  metric: FieldOf<C>,
  title: string,
  query: cog.Builder<cog.Dataquery>,
  bands?: dashboard.ThresholdsConfigBuilder,
): timeseries.PanelBuilder {
  const seconds = DEVICE_CLASSES[cls].intervalSeconds;
  const p = new timeseries.PanelBuilder()
    .title(title)
    .datasource(DATASOURCE)
    .withTarget(query)
    .unit(metricUnit(cls, metric))
    .interval(classInterval(seconds))
    // Every interval is a row (fill(null) in the queries): an interval without readings is a gap, drawn
    // where readings are missing for three reporting intervals or, in a long range, for a whole interval.
    // A fixed "disconnect values" threshold instead would break every line once the interval is longer.
    .spanNulls(gapMs(seconds))
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
export function countStat(title: string, query: cog.Builder<cog.Dataquery>, steps: dashboard.ThresholdsConfigBuilder, description: string): stat.PanelBuilder {
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
export function tablePanel(title: string, description: string, ...queries: cog.Builder<cog.Dataquery>[]): table.PanelBuilder {
  const p = new table.PanelBuilder().title(title).description(description).datasource(DATASOURCE).cellHeight(common.TableCellHeight.Sm);
  for (const q of queries) p.withTarget(q);
  return p;
}

/** Field override: colour the cell background by the field's thresholds. */
export function colouredCell(thresholds: dashboard.ThresholdsConfigBuilder): dashboard.DynamicConfigValue[] {
  return [
    { id: 'custom.cellOptions', value: { type: common.TableCellDisplayMode.ColorBackground, mode: common.TableCellBackgroundDisplayMode.Basic } },
    { id: 'thresholds', value: thresholds.build() },
    { id: 'color', value: { mode: dashboard.FieldColorModeId.Thresholds } },
  ];
}

/** Transformation helper (the SDK types them as `any` options). */
export function transformation(id: string, options: Record<string, unknown>): dashboard.DataTransformerConfig {
  return { id, options };
}

/** Hides the Time column and renames columns in a table. */
export function organize(rename: Record<string, string>, hide: string[] = ['Time']): dashboard.DataTransformerConfig {
  return transformation('organize', {
    excludeByName: Object.fromEntries(hide.map((h) => [h, true])),
    renameByName: rename,
    indexByName: {},
  });
}
