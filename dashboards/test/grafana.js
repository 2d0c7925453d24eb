// What Grafana does to an InfluxQL query before it sends it, reproduced for the tests: template
// variables (single value, multi-value and "All" in regular-expression context), $timeFilter,
// $__interval and $__interval_ms. Everything else about the query is left exactly as generated.
/** Grafana's rounding of an interval to a "nice" value (kbn.roundInterval), in ms. */
function roundInterval(ms) {
    const steps = [
        [15, 10],
        [35, 20],
        [75, 50],
        [150, 100],
        [350, 200],
        [750, 500],
        [1500, 1000],
        [3500, 2000],
        [7500, 5000],
        [12500, 10000],
        [17500, 15000],
        [25000, 20000],
        [45000, 30000],
        [90000, 60000],
        [450000, 300000],
        [1050000, 600000],
        [2100000, 1200000],
        [5400000, 3600000],
        [9000000, 7200000],
        [16200000, 10800000],
        [32400000, 21600000],
        [86400000, 43200000],
    ];
    for (const [limit, value] of steps)
        if (ms < limit)
            return value;
    return 86400000;
}
function parseDuration(text) {
    const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
    if (!m)
        throw new Error(`bad interval ${text}`);
    const unit = { ms: 1, s: 1000, m: 60000, h: 3600000, d: 86400000 }[m[2]];
    return Number(m[1]) * unit;
}
/** $__interval as Grafana computes it: range / max data points, rounded, at least the panel's min interval. */
export function intervalMs(range, minInterval, maxDataPoints = 1000) {
    const computed = roundInterval((range.to - range.from) / maxDataPoints);
    return Math.max(computed, minInterval ? parseDuration(minInterval) : 0);
}
function formatInterval(ms) {
    if (ms % 86400000 === 0)
        return `${ms / 86400000}d`;
    if (ms % 3600000 === 0)
        return `${ms / 3600000}h`;
    if (ms % 60000 === 0)
        return `${ms / 60000}m`;
    if (ms % 1000 === 0)
        return `${ms / 1000}s`;
    return `${ms}ms`;
}
/** A value escaped for an InfluxQL regular expression (Grafana escapes multi-value variables in regex context). */
export function regexEscape(value) {
    return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}
export function formatSelection(s) {
    if (s.all)
        return s.allValue ?? `(${s.options.map(regexEscape).join('|')})`;
    if (s.values.length === 1)
        return regexEscape(s.values[0]);
    return `(${s.values.map(regexEscape).join('|')})`;
}
/** Fills variables and macros; throws on a `$name` nobody defines (Grafana would send it as text). */
export function interpolate(query, variables, range, minInterval) {
    const iv = intervalMs(range, minInterval);
    let q = query
        .replace(/\$timeFilter\b/g, `time >= ${range.from}ms and time <= ${range.to}ms`)
        .replace(/\$__interval_ms\b/g, String(iv))
        .replace(/\$__interval\b/g, formatInterval(iv));
    q = q.replace(/\$\{(\w+)(?::\w+)?\}|\$(\w+)/g, (whole, a, b) => {
        const name = (a ?? b);
        const sel = variables[name];
        if (!sel)
            throw new Error(`query uses undefined variable $${name}: ${query}`);
        return formatSelection(sel);
    });
    return q;
}
