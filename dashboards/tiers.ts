// Which stored resolution a trend panel reads, by the age of the data. Grafana cannot pick a retention
// policy by the time range (InfluxDB does not either: influxdata/influxdb#2625), so every trend query
// reads all of them at once, each limited to its own age: the raw readings for the last 2 days, the
// minute aggregates up to 60 days, the hour aggregates beyond (the limits of the console's chart,
// api/chart.ts, which applies them to the width of its range: Grafana cannot switch by range). The three are subqueries of one query, merged by InfluxDB into one series per device:
// one legend entry and one colour per device whatever the range, and each stored row is read by exactly
// one of them (`time > now() - 2d` / `time <= now() - 2d`), so nothing is counted twice where they meet.
import type { DeviceClass } from '../contract/catalog.ts';
import { AGGREGATE_RPS } from '../ingest/retention.ts';
import { DATASOURCE } from './common.ts';
import { from, fromAggregates, fromSubqueries, type Fill, type InfluxQL } from './influxql.ts';
import { aggregateField, type AggregateFunction, type FieldOf, type TagOf } from './schema.ts';

export interface LongRanges {
  /** Read the minute and hour aggregates (InfluxDB 1.x set up by ingest); false: the raw readings at every age. */
  aggregates: boolean;
  /** Data newer than this many days is read raw (raw readings are kept at least 30 days). */
  rawDays: number;
  /** Data older than `rawDays` and newer than this is read from the minute aggregates; older, from the hour ones. */
  minuteDays: number;
}

/** The console chart's limits (api/chart.ts chartSource): raw up to 2 days, minute aggregates up to 60. */
export const RAW_DAYS = 2;
export const MINUTE_DAYS = 60;

export const DEFAULT_LONG_RANGES: LongRanges = { aggregates: true, rawDays: RAW_DAYS, minuteDays: MINUTE_DAYS };

/**
 * What the dashboards read, from the settings: aggregates only where ingest makes them (InfluxDB 1.x
 * with `ingest.influx.retention.enabled`), and the minute ones no longer than they are kept.
 */
export function longRangesFrom(settings: {
  aggregates: boolean;
  kind: string;
  retention: { enabled: boolean; minuteDays: number };
}): LongRanges {
  return {
    aggregates: settings.aggregates && settings.retention.enabled && settings.kind !== 'v2',
    rawDays: RAW_DAYS,
    minuteDays: Math.max(RAW_DAYS, Math.min(MINUTE_DAYS, settings.retention.minuteDays)),
  };
}

/** One line for the command's report. */
export function describeLongRanges(r: LongRanges): string {
  if (!r.aggregates) return 'trends read the raw readings at every age';
  const minute = r.minuteDays > r.rawDays ? `, minute aggregates up to ${r.minuteDays} days` : '';
  return `trends read raw readings up to ${r.rawDays} days old${minute}, hour aggregates beyond`;
}

/** One source of a tiered query: a retention policy (null: the raw readings) and the ages it covers. */
export interface Tier {
  rp: string | null;
  /** Rows newer than this many days (none: no lower bound on age). */
  newerThanDays?: number;
  /** Rows this many days old or older. */
  olderThanDays?: number;
}

export function tiers(r: LongRanges): Tier[] {
  if (!r.aggregates) return [{ rp: null }];
  const out: Tier[] = [{ rp: null, newerThanDays: r.rawDays }];
  if (r.minuteDays > r.rawDays) out.push({ rp: AGGREGATE_RPS.minute, olderThanDays: r.rawDays, newerThanDays: r.minuteDays });
  out.push({ rp: AGGREGATE_RPS.hour, olderThanDays: r.minuteDays });
  return out;
}

export interface TrendSpec<C extends DeviceClass> {
  cls: C;
  metric: FieldOf<C>;
  /** mean of means, max of maxima, min of minima: the aggregates keep exactly these. */
  fn: AggregateFunction;
  /** Tag filters (dashboard variables); applied to every tier. */
  filter: (q: InfluxQL<string, TagOf<C>>) => void;
  groupBy: TagOf<C>[];
  fill: Fill;
  alias: string;
}

/**
 * One metric of one class over time, per `groupBy`, from the best resolution stored for each age.
 * Without aggregates it is the plain query on the raw readings.
 */
export function trendQuery<C extends DeviceClass>(spec: TrendSpec<C>, ranges: LongRanges): InfluxQL<string, string> {
  const { cls, metric, fn } = spec;
  const list = tiers(ranges);
  if (list.length === 1) {
    const q = from(cls, DATASOURCE).select({ field: metric, fn, as: metric });
    spec.filter(q as unknown as InfluxQL<string, TagOf<C>>);
    return (q.groupByTime().groupBy(...spec.groupBy).fill(spec.fill).alias(spec.alias) as unknown as InfluxQL<string, string>);
  }
  const inners = list.map((tier) => {
    const q = (
      tier.rp === null
        ? from(cls, DATASOURCE).select({ field: metric, fn, as: metric })
        : fromAggregates(cls, tier.rp, DATASOURCE).select({ field: aggregateField<C>(fn, metric), fn, as: metric })
    ) as unknown as InfluxQL<string, TagOf<C>>;
    // The time range goes on the outer query only: InfluxDB applies it to the subqueries (and does so faster).
    q.anyTime();
    if (tier.newerThanDays !== undefined) q.whereAge('newer', `${tier.newerThanDays}d`);
    if (tier.olderThanDays !== undefined) q.whereAge('older', `${tier.olderThanDays}d`);
    spec.filter(q);
    // fill(none): an empty bucket of one tier must not hide the rows of another.
    return q.groupByTime().groupBy(...spec.groupBy).fill('none') as unknown as InfluxQL<string, string>;
  });
  return fromSubqueries(inners, DATASOURCE)
    .select({ field: metric, fn, as: metric })
    .groupByTime()
    .groupBy(...(spec.groupBy as string[]))
    .fill(spec.fill)
    .alias(spec.alias);
}
