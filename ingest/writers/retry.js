// Exponential backoff with jitter; the server's Retry-After wins when it gives one.
/** Delay before attempt `attempt` (1 = first retry). Jitter spreads the retries of several ingest processes. */
export function retryDelay(attempt, options, retryAfterMs, random = Math.random) {
    // A server that names its delay knows its load best; still cap it so a bogus header cannot stall ingest for days.
    if (retryAfterMs !== undefined)
        return Math.min(retryAfterMs, 10 * options.maxMs);
    const ceiling = Math.min(options.maxMs, options.minMs * 2 ** Math.max(0, attempt - 1));
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}
