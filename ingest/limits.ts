// Rate limits that keep a flood of bad messages from drowning the log or the devices' error topics.
// Everything suppressed is still counted (metrics) and summarised in the log.
import type { Logger } from '../core/log.ts';

/** One token bucket per key (device); idle buckets are forgotten. */
export function tokenBuckets(options: { burst: number; perSecond: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let sweptAt = now();
  return (key: string): boolean => {
    const t = now();
    if (t - sweptAt > 60_000) {
      for (const [k, b] of buckets) if (b.tokens + ((t - b.at) / 1000) * options.perSecond >= options.burst) buckets.delete(k);
      sweptAt = t;
    }
    const b = buckets.get(key) ?? { tokens: options.burst, at: t };
    b.tokens = Math.min(options.burst, b.tokens + ((t - b.at) / 1000) * options.perSecond);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  };
}

/**
 * Logs at most `perInterval` lines per key (reason code) per interval; at the end of an interval
 * with suppressed lines, one summary line gives their number per key.
 */
export function limitedLog(log: Logger, options: { perInterval: number; intervalMs: number; now?: () => number }) {
  const now = options.now ?? Date.now;
  let windowStart = now();
  const counts = new Map<string, number>();
  function roll(t: number) {
    if (t - windowStart < options.intervalMs) return;
    const suppressed = Object.fromEntries([...counts].filter(([, n]) => n > options.perInterval).map(([k, n]) => [k, n - options.perInterval]));
    if (Object.keys(suppressed).length) log.warn({ suppressed, intervalMs: options.intervalMs }, 'log lines suppressed by rate limit (counted in metrics)');
    counts.clear();
    windowStart = t;
  }
  return {
    warn(key: string, obj: Record<string, unknown>, msg: string) {
      roll(now());
      const n = (counts.get(key) ?? 0) + 1;
      counts.set(key, n);
      if (n <= options.perInterval) log.warn(obj, msg);
    },
    flush() {
      roll(Infinity);
    },
  };
}
