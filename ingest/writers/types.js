// What the drain loop needs from a database, whatever its version.
export class WriteError extends Error {
    failure;
    status;
    /** Delay asked for by the server (Retry-After), in ms. */
    retryAfterMs;
    constructor(failure, message, options = {}) {
        super(message);
        this.name = 'WriteError';
        this.failure = failure;
        this.status = options.status;
        this.retryAfterMs = options.retryAfterMs;
    }
}
/** Retry-After is either delta-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(value, now = Date.now()) {
    const v = Array.isArray(value) ? value[0] : value;
    if (!v)
        return undefined;
    if (/^\s*\d+\s*$/.test(v))
        return Number(v) * 1000;
    const at = Date.parse(v);
    return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
/** How an HTTP status of a write answer is handled. */
export function classifyStatus(status) {
    if (status === 413)
        return 'too_large';
    // 400 bad line protocol / partial write / field type conflict / beyond retention; 422 the same in 2.x.
    if (status === 400 || status === 422)
        return 'refused';
    // 401/403/404 are configuration faults (token, database): keep the data and retry until fixed.
    return 'transient';
}
