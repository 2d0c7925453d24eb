/** One token bucket per key (device); idle buckets are forgotten. */
export function tokenBuckets(options) {
    const now = options.now ?? Date.now;
    const buckets = new Map();
    let sweptAt = now();
    return (key) => {
        const t = now();
        if (t - sweptAt > 60000) {
            for (const [k, b] of buckets)
                if (b.tokens + ((t - b.at) / 1000) * options.perSecond >= options.burst)
                    buckets.delete(k);
            sweptAt = t;
        }
        const b = buckets.get(key) ?? { tokens: options.burst, at: t };
        b.tokens = Math.min(options.burst, b.tokens + ((t - b.at) / 1000) * options.perSecond);
        b.at = t;
        buckets.set(key, b);
        if (b.tokens < 1)
            return false;
        b.tokens -= 1;
        return true;
    };
}
/**
 * Logs at most `perInterval` lines per key (reason code) per interval; at the end of an interval
 * with suppressed lines, one summary line gives their number per key.
 */
export function limitedLog(log, options) {
    const now = options.now ?? Date.now;
    let windowStart = now();
    const counts = new Map();
    function roll(t) {
        if (t - windowStart < options.intervalMs)
            return;
        const suppressed = Object.fromEntries([...counts].filter(([, n]) => n > options.perInterval).map(([k, n]) => [k, n - options.perInterval]));
        if (Object.keys(suppressed).length)
            log.warn({ suppressed, intervalMs: options.intervalMs }, 'log lines suppressed by rate limit (counted in metrics)');
        counts.clear();
        windowStart = t;
    }
    return {
        warn(key, obj, msg) {
            roll(now());
            const n = (counts.get(key) ?? 0) + 1;
            counts.set(key, n);
            if (n <= options.perInterval)
                log.warn(obj, msg);
        },
        flush() {
            roll(Infinity);
        },
    };
}
