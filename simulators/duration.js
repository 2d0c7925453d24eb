// Durations in scenario files and flags: seconds as a number, or a string such as "90s", "2m",
// "1h30m", "500ms".
import { z } from 'zod';
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const UNIT = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };
/** Seconds in a duration; throws on anything else. */
export function parseDuration(input) {
    if (typeof input === 'number') {
        if (!Number.isFinite(input) || input < 0)
            throw new Error(`duration must be a non-negative number of seconds, got ${input}`);
        return input;
    }
    const text = input.trim();
    if (/^\d+(\.\d+)?$/.test(text))
        return Number(text);
    const compact = text.replace(/\s+/g, '');
    let total = 0;
    let matched = '';
    for (const m of compact.matchAll(PART)) {
        total += Number(m[1]) * UNIT[m[2]];
        matched += m[0];
    }
    if (!matched || matched !== compact)
        throw new Error(`"${input}" is not a duration (e.g. 90, "90s", "2m", "1h30m")`);
    return total;
}
/** Zod type for a duration: yields seconds. */
export const Duration = z.union([z.number(), z.string()]).transform((v, ctx) => {
    try {
        return parseDuration(v);
    }
    catch (err) {
        ctx.issues.push({ code: 'custom', message: err.message, input: v });
        return z.NEVER;
    }
});
export function formatDuration(seconds) {
    if (seconds < 60)
        return `${+seconds.toFixed(1)}s`;
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = Math.round(seconds % 60);
    return [h ? `${h}h` : '', m ? `${m}m` : '', s ? `${s}s` : ''].join('') || '0s';
}
