// Empties the spool into the database, oldest first, one request at a time so that order holds.
// A batch leaves the spool only once the database has accepted it; a transient failure retries the
// same batch after a backoff; a batch the database refuses is split until the refused message is
// found, which is set aside in the spool's `refused` table (rewriting the accepted rest is harmless:
// the same point at the same time overwrites itself).
import type { Logger } from '../core/log.ts';
import type { Spool, SpoolBatch } from './spool.ts';
import { WriteError, retryDelay, type Writer } from './writers/index.ts';

export interface DrainOptions {
  spool: Spool;
  writer: Writer;
  log: Logger;
  batchSize: number;
  flushMs: number;
  retry: { minMs: number; maxMs: number };
  now?: () => number;
  /** Called after each batch the database accepted. */
  onStored?(points: number, messages: number, latencyMs: number): void;
  /** Called for every failed request. */
  onError?(error: WriteError, attempt: number, delayMs: number): void;
  /** Called for each message the database refused for good. */
  onRefused?(points: number, error: WriteError): void;
}

export interface Drain {
  /** Something was appended: wake up if waiting for data. */
  notify(): void;
  /** Stops after the request in flight; with `flush`, first writes what is due (bounded by `timeoutMs`). */
  stop(options?: { flush?: boolean; timeoutMs?: number }): Promise<void>;
  readonly failing: boolean;
  readonly lastLatencyMs: number;
}

export function startDrain(options: DrainOptions): Drain {
  const { spool, writer, log, batchSize, flushMs } = options;
  const now = options.now ?? Date.now;
  let stopped = false;
  let flushAll = false;
  let wake: (() => void) | undefined;
  let attempt = 0;
  let lastLatencyMs = 0;

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wake = undefined;
        resolve();
      }
      wake = done;
    });

  async function send(rows: SpoolBatch['rows']): Promise<void> {
    const body = rows.map((r) => r.lines).join('\n');
    const points = body.split('\n').length;
    const started = performance.now();
    try {
      await writer.write(body);
    } catch (err) {
      const error = err instanceof WriteError ? err : new WriteError('transient', (err as Error).message);
      if (error.failure === 'transient') throw error;
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
    } catch (err) {
      log.error({ err }, 'after-write hook failed');
    }
  }

  const done = (async () => {
    while (!stopped) {
      const batch = spool.head(batchSize);
      if (!batch) {
        if (flushAll) return;
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
      } catch (err) {
        const error = err as WriteError;
        attempt++;
        const delay = retryDelay(attempt, options.retry, error.retryAfterMs);
        options.onError?.(error, attempt, delay);
        if (flushAll) return;
        await sleep(delay);
      }
    }
  })().catch((err) => log.error({ err }, 'drain loop failed'));

  return {
    notify() {
      // Only a full batch is worth waking for; partial batches go out on their timer.
      if (wake && attempt === 0 && spool.stats().points >= batchSize) wake();
    },
    async stop(o = {}) {
      if (o.flush) {
        flushAll = true;
        wake?.();
        const timeout = new Promise<void>((resolve) => setTimeout(resolve, o.timeoutMs ?? 5000).unref());
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
