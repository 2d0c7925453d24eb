import { WriteError, retryDelay } from './writers/index.ts';
export function startDrain(options) {
    const { spool, writer, log, batchSize, flushMs } = options;
    const now = options.now ?? Date.now;
    let stopped = false;
    let flushAll = false;
    let wake;
    let attempt = 0;
    let lastLatencyMs = 0;
    const sleep = (ms) => new Promise((resolve) => {
        const timer = setTimeout(done, ms);
        function done() {
            clearTimeout(timer);
            wake = undefined;
            resolve();
        }
        wake = done;
    });
    async function send(rows) {
        const body = rows.map((r) => r.lines).join('\n');
        const points = body.split('\n').length;
        const started = performance.now();
        try {
            await writer.write(body);
        }
        catch (err) {
            const error = err instanceof WriteError ? err : new WriteError('transient', err.message);
            if (error.failure === 'transient')
                throw error;
            if (rows.length === 1) {
                // One message the database will never take (or too large alone): keep it aside, loudly.
                spool.refuse(rows[0], error.message, now());
                options.onRefused?.(points, error);
                return;
            }
            const half = Math.ceil(rows.length / 2);
            await send(rows.slice(0, half));
            await send(rows.slice(half));
            return;
        }
        lastLatencyMs = performance.now() - started;
        spool.remove(rows[rows.length - 1].seq);
        try {
            options.onStored?.(points, rows.length, lastLatencyMs);
        }
        catch (err) {
            log.error({ err }, 'after-write hook failed');
        }
    }
    const done = (async () => {
        while (!stopped) {
            const batch = spool.head(batchSize);
            if (!batch) {
                if (flushAll)
                    return;
                await sleep(flushMs);
                continue;
            }
            // Time batching: a partial batch waits until its oldest message is flushMs old.
            const age = now() - batch.rows[0].receivedAt;
            if (!flushAll && batch.points < batchSize && age < flushMs) {
                await sleep(Math.max(1, flushMs - age));
                continue;
            }
            try {
                await send(batch.rows);
                attempt = 0;
            }
            catch (err) {
                const error = err;
                attempt++;
                const delay = retryDelay(attempt, options.retry, error.retryAfterMs);
                options.onError?.(error, attempt, delay);
                if (flushAll)
                    return;
                await sleep(delay);
            }
        }
    })().catch((err) => log.error({ err }, 'drain loop failed'));
    return {
        notify() {
            // Only a full batch is worth waking for; partial batches go out on their timer.
            if (wake && attempt === 0 && spool.stats().points >= batchSize)
                wake();
        },
        async stop(o = {}) {
            if (o.flush) {
                flushAll = true;
                wake?.();
                const timeout = new Promise((resolve) => setTimeout(resolve, o.timeoutMs ?? 5000).unref());
                await Promise.race([done, timeout]);
            }
            stopped = true;
            wake?.();
            await done;
        },
        get failing() {
            return attempt > 0;
        },
        get lastLatencyMs() {
            return lastLatencyMs;
        },
    };
}
