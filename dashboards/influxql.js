/** Quotes an identifier the way InfluxQL wants it. */
export function ident(name) {
    return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
/** Quotes a string literal. */
export function literal(value) {
    return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
function columnSql(c) {
    if ('rate' in c)
        return { sql: `non_negative_derivative(max(${ident(c.rate)}), ${c.per})`, name: c.as ?? c.rate };
    if ('tag' in c)
        return { sql: ident(c.tag), name: c.as ?? c.tag };
    return { sql: c.fn ? `${c.fn}(${ident(c.field)})` : ident(c.field), name: c.as ?? c.field };
}
/**
 * SELECT ... FROM <measurement | subquery> WHERE ... GROUP BY ... in InfluxQL.
 * `M` is a measurement of the schema; for a subquery the outer query selects the inner aliases.
 */
export class InfluxQL {
    source;
    known;
    columns = [];
    conditions = [];
    timeCondition = '$timeFilter';
    groupTime = null;
    groupTags = [];
    fillWith = null;
    descending = false;
    limitTo = null;
    target;
    constructor(source, datasource, 
    /** Names the outer query may use when the source is a subquery (its aliases and GROUP BY tags). */
    known) {
        this.source = source;
        this.known = known;
        this.target = { refId: 'A', datasource, rawQuery: true, resultFormat: 'time_series' };
    }
    select(...columns) {
        for (const c of columns) {
            const col = columnSql(c);
            if (this.known) {
                const name = 'rate' in c ? c.rate : 'tag' in c ? c.tag : c.field;
                if (![...this.known.fields, ...this.known.tags].includes(name))
                    throw new Error(`subquery has no column ${name}`);
            }
            this.columns.push(col);
        }
        return this;
    }
    /** `"tag" =~ /^$variable$/`: Grafana fills a multi-value or "All" variable as a regular expression. */
    whereVariable(tag, variable) {
        this.conditions.push({ sql: `${ident(tag)} =~ /^$${variable}$/` });
        return this;
    }
    whereTag(tag, op, value) {
        this.conditions.push({ sql: `${ident(tag)} ${op} ${literal(value)}` });
        return this;
    }
    /** Field comparison; a RegExp becomes `=~`. */
    whereField(field, op, value) {
        const v = value instanceof RegExp ? `/${value.source}/` : typeof value === 'string' ? literal(value) : String(value);
        this.conditions.push({ sql: `${ident(field)} ${op} ${v}` });
        return this;
    }
    /**
     * Look back a fixed duration instead of the dashboard's time range: "what is active now" must
     * not depend on the range the operator happens to be looking at.
     */
    since(duration) {
        this.timeCondition = `time > now() - ${duration}`;
        return this;
    }
    /** No time condition (only for an outer query over a subquery that has one). */
    anyTime() {
        this.timeCondition = null;
        return this;
    }
    groupByTime(interval = '$__interval') {
        this.groupTime = interval;
        return this;
    }
    groupBy(...tags) {
        this.groupTags.push(...tags);
        return this;
    }
    fill(fill) {
        this.fillWith = fill;
        return this;
    }
    orderByTimeDesc() {
        this.descending = true;
        return this;
    }
    limit(n) {
        this.limitTo = n;
        return this;
    }
    refId(refId) {
        this.target.refId = refId;
        return this;
    }
    /** Legend name; `$tag_<name>` and `$col` are Grafana's InfluxDB alias patterns. */
    alias(alias) {
        this.target.alias = alias;
        return this;
    }
    format(format) {
        this.target.resultFormat = format;
        return this;
    }
    /** Output column names (aliases) of this query, in order. */
    outputColumns() {
        return this.columns.map((c) => c.name);
    }
    /** Tags the result is grouped by. */
    outputTags() {
        return [...this.groupTags];
    }
    toString() {
        if (this.columns.length === 0)
            throw new Error(`query on ${this.source} selects nothing`);
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
    build() {
        return { ...this.target, query: this.toString(), _implementsDataqueryVariant() { } };
    }
}
/** A query on one measurement of the schema. */
export function from(measurement, datasource) {
    return new InfluxQL(ident(measurement), datasource);
}
/** A query over a subquery: the outer query sees the inner aliases as fields and its GROUP BY tags as tags. */
export function fromSubquery(inner, datasource) {
    return new InfluxQL(`(${inner.toString()})`, datasource, { fields: inner.outputColumns(), tags: inner.outputTags() });
}
/** `SHOW TAG VALUES` for a template variable, optionally filtered by other variables. */
export function showTagValues(measurement, key, filters = []) {
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
