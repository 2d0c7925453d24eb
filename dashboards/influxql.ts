// A small typed builder for InfluxQL targets of Grafana's InfluxDB data source. The foundation SDK has
// none, and raw strings would let a misspelt measurement, tag or field through to an empty panel:
// here every name is checked against dashboards/schema.ts (itself derived from contract/catalog.ts).
// Only InfluxQL that runs unchanged on InfluxDB 1.x, on 2.x through the v1 API and on 3.x is produced.
import type * as cog from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';
import type { AggregateFieldOf, FieldOf, Measurement, TagOf } from './schema.ts';

/** The target object Grafana's InfluxDB data source stores for an InfluxQL query in raw mode. */
export interface InfluxQLTarget extends cog.Dataquery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  alias?: string;
  hide?: boolean;
}

export type Aggregate = 'mean' | 'max' | 'min' | 'last' | 'first' | 'count' | 'sum' | 'spread';

/** One selected column. Every column gets an `AS` alias (the field name unless given), so panels and tests know the output names. */
export type Column<F extends string, T extends string> =
  | { field: F; fn?: Aggregate; as?: string }
  /** `non_negative_derivative(max(field), per)`: the rate of a cumulative counter. */
  | { rate: F; per: string; as?: string }
  /** A tag selected next to a selector function (last/first/max/min) or in a raw query. */
  | { tag: T; as?: string };

export type Fill = 'none' | 'null' | 'previous' | 'linear' | number;

/** Quotes an identifier the way InfluxQL wants it. */
export function ident(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Quotes a string literal. */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function columnSql<F extends string, T extends string>(c: Column<F, T>): { sql: string; name: string } {
  if ('rate' in c) return { sql: `non_negative_derivative(max(${ident(c.rate)}), ${c.per})`, name: c.as ?? c.rate };
  if ('tag' in c) return { sql: ident(c.tag), name: c.as ?? c.tag };
  return { sql: c.fn ? `${c.fn}(${ident(c.field)})` : ident(c.field), name: c.as ?? c.field };
}

interface Condition {
  sql: string;
}

/**
 * SELECT ... FROM <measurement | subquery> WHERE ... GROUP BY ... in InfluxQL.
 * `M` is a measurement of the schema; for a subquery the outer query selects the inner aliases.
 */
export class InfluxQL<F extends string, T extends string> implements cog.Builder<InfluxQLTarget> {
  private columns: { sql: string; name: string }[] = [];
  private conditions: Condition[] = [];
  private timeCondition: string | null = '$timeFilter';
  private groupTime: string | null = null;
  private groupTags: string[] = [];
  private fillWith: Fill | null = null;
  private descending = false;
  private limitTo: number | null = null;
  private target: Omit<InfluxQLTarget, 'query' | '_implementsDataqueryVariant'>;

  constructor(
    private readonly source: string,
    datasource: DataSourceRef,
    /** Names the outer query may use when the source is a subquery (its aliases and GROUP BY tags). */
    private readonly known?: { fields: string[]; tags: string[] },
  ) {
    this.target = { refId: 'A', datasource, rawQuery: true, resultFormat: 'time_series' };
  }

  select(...columns: Column<F, T>[]): this {
    for (const c of columns) {
      const col = columnSql(c);
      if (this.known) {
        const name = 'rate' in c ? c.rate : 'tag' in c ? c.tag : c.field;
        if (![...this.known.fields, ...this.known.tags].includes(name)) throw new Error(`subquery has no column ${name}`);
      }
      this.columns.push(col);
    }
    return this;
  }

  /** `"tag" =~ /^$variable$/`: Grafana fills a multi-value or "All" variable as a regular expression. */
  whereVariable(tag: T, variable: string): this {
    this.conditions.push({ sql: `${ident(tag)} =~ /^$${variable}$/` });
    return this;
  }

  whereTag(tag: T, op: '=' | '!=', value: string): this {
    this.conditions.push({ sql: `${ident(tag)} ${op} ${literal(value)}` });
    return this;
  }

  /** Field comparison; a RegExp becomes `=~`. */
  whereField(field: F, op: '=' | '!=' | '>' | '<' | '>=' | '<=' | '=~' | '!~', value: number | boolean | string | RegExp): this {
    const v = value instanceof RegExp ? `/${value.source}/` : typeof value === 'string' ? literal(value) : String(value);
    this.conditions.push({ sql: `${ident(field)} ${op} ${v}` });
    return this;
  }

  /**
   * Look back a fixed duration instead of the dashboard's time range: "what is active now" must
   * not depend on the range the operator happens to be looking at.
   */
  since(duration: string): this {
    this.timeCondition = `time > now() - ${duration}`;
    return this;
  }

  /** No time condition (only for an outer query over a subquery that has one). */
  anyTime(): this {
    this.timeCondition = null;
    return this;
  }

  /**
   * A bound relative to now in addition to the time range: `time > now() - 2d` (newer) or
   * `time <= now() - 2d` (older or as old). The two never both hold, so tiers split at one age never overlap.
   */
  whereAge(op: 'newer' | 'older', duration: string): this {
    this.conditions.push({ sql: `time ${op === 'newer' ? '>' : '<='} now() - ${duration}` });
    return this;
  }

  groupByTime(interval = '$__interval'): this {
    this.groupTime = interval;
    return this;
  }

  groupBy(...tags: T[]): this {
    this.groupTags.push(...tags);
    return this;
  }

  fill(fill: Fill): this {
    this.fillWith = fill;
    return this;
  }

  orderByTimeDesc(): this {
    this.descending = true;
    return this;
  }

  limit(n: number): this {
    this.limitTo = n;
    return this;
  }

  refId(refId: string): this {
    this.target.refId = refId;
    return this;
  }

  /** Legend name; `$tag_<name>` and `$col` are Grafana's InfluxDB alias patterns. */
  alias(alias: string): this {
    this.target.alias = alias;
    return this;
  }

  format(format: 'time_series' | 'table'): this {
    this.target.resultFormat = format;
    return this;
  }

  /** Output column names (aliases) of this query, in order. */
  outputColumns(): string[] {
    return this.columns.map((c) => c.name);
  }

  /** Tags the result is grouped by. */
  outputTags(): string[] {
    return [...this.groupTags];
  }

  toString(): string {
    if (this.columns.length === 0) throw new Error(`query on ${this.source} selects nothing`);
    const where = [...(this.timeCondition ? [this.timeCondition] : []), ...this.conditions.map((c) => c.sql)];
    const group = [...(this.groupTime ? [`time(${this.groupTime})`] : []), ...this.groupTags.map(ident)];
    return [
      `SELECT ${this.columns.map((c) => `${c.sql} AS ${ident(c.name)}`).join(', ')}`,
      `FROM ${this.source}`,
      where.length ? `WHERE ${where.join(' AND ')}` : '',
      group.length ? `GROUP BY ${group.join(', ')}` : '',
      this.fillWith !== null && (this.groupTime || this.groupTags.length) ? `fill(${this.fillWith})` : '',
      this.descending ? 'ORDER BY time DESC' : '',
      this.limitTo !== null ? `LIMIT ${this.limitTo}` : '',
    ]
      .filter(Boolean)
      .join(' ');
  }

  build(): InfluxQLTarget {
    return { ...this.target, query: this.toString(), _implementsDataqueryVariant() {} };
  }
}

/** A query on one measurement of the schema. */
export function from<M extends Measurement>(measurement: M, datasource: DataSourceRef): InfluxQL<FieldOf<M>, TagOf<M>> {
  return new InfluxQL<FieldOf<M>, TagOf<M>>(ident(measurement), datasource);
}

/**
 * A query on the aggregates ingest keeps of one measurement in a retention policy (ingest/retention.ts):
 * fields `mean_<field>`, `max_<field>`, `min_<field>`, the measurement's tags.
 */
export function fromAggregates<M extends Measurement>(measurement: M, retentionPolicy: string, datasource: DataSourceRef): InfluxQL<AggregateFieldOf<M>, TagOf<M>> {
  return new InfluxQL<AggregateFieldOf<M>, TagOf<M>>(`${ident(retentionPolicy)}.${ident(measurement)}`, datasource);
}

/**
 * One query over several subqueries of the same shape (`FROM (a), (b), ...`): InfluxDB merges their
 * rows into one series per tag set, so a panel gets one line per device whichever source a row came from.
 */
export function fromSubqueries(inners: InfluxQL<string, string>[], datasource: DataSourceRef): InfluxQL<string, string> {
  const [first, ...rest] = inners;
  if (!first) throw new Error('no subquery');
  const shape = (q: InfluxQL<string, string>) => JSON.stringify([q.outputColumns(), q.outputTags()]);
  for (const q of rest) if (shape(q) !== shape(first)) throw new Error(`subqueries differ: ${shape(first)} and ${shape(q)}`);
  return new InfluxQL<string, string>(inners.map((q) => `(${q.toString()})`).join(', '), datasource, { fields: first.outputColumns(), tags: first.outputTags() });
}

/** A query over a subquery: the outer query sees the inner aliases as fields and its GROUP BY tags as tags. */
export function fromSubquery(inner: InfluxQL<string, string>, datasource: DataSourceRef): InfluxQL<string, string> {
  return new InfluxQL<string, string>(`(${inner.toString()})`, datasource, { fields: inner.outputColumns(), tags: inner.outputTags() });
}

/** `SHOW TAG VALUES` for a template variable, optionally filtered by other variables. */
export function showTagValues<M extends Measurement>(
  measurement: M | null,
  key: TagOf<M>,
  filters: { tag: TagOf<M>; variable: string }[] = [],
): string {
  const where = filters.map((f) => `${ident(f.tag)} =~ /^$${f.variable}$/`);
  return [
    'SHOW TAG VALUES',
    measurement ? `FROM ${ident(measurement)}` : '',
    `WITH KEY = ${ident(key)}`,
    where.length ? `WHERE ${where.join(' AND ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}
