// Alarms about the platform itself. A process reports its own state, retained, on
// hw/platform/<service>/<instance> (ingest: its spool `ok`, `filling` or `full`, docs/ingest.md); the
// monitoring room must see a platform that is delaying data in the same alarm list as a gas leak, so
// these states become alarm instances like any other, under the reserved enterprise `platform`.
import { PLATFORM_ENTERPRISE, PLATFORM_TOPIC_PREFIX } from '../contract/topics.ts';
import type { AlarmLevel } from '../contract/alarms.ts';
import type { Logger } from '../core/log.ts';
import type { AlarmStore } from './store-types.ts';

export const PLATFORM_FILTER = `${PLATFORM_TOPIC_PREFIX}/#`;
const CONDITION = 'HW_ALM_INGEST_BACKPRESSURE';

/** Spool states and their level: a full spool stops acknowledging (data delayed at the broker); filling warns. */
const SPOOL_LEVEL: Record<string, AlarmLevel | null> = { full: 2, filling: 3, ok: null };

interface IngestState {
  state: string;
  instance?: string;
  spool?: { messages?: number; fill?: number };
  database?: string;
  at?: number;
}

export interface PlatformWatcherOptions {
  store: AlarmStore;
  log: Logger;
  now: () => number;
  /** Off-delay: how long `ok` must hold before the alarm clears. */
  clearDelayMs: number;
  onWrite?: () => void;
}

export function platformWatcher(options: PlatformWatcherOptions) {
  const { store, log, now } = options;
  // One chain per reporting process: its states are applied in the order they were published.
  const chains = new Map<string, Promise<void>>();
  // Pending clears (off-delay): ingest resuming after `full` refills its spool from the broker's
  // backlog and may report full -> ok -> filling -> full several times while it drains.
  const clearing = new Map<string, NodeJS.Timeout>();

  function enqueue(device: string, work: () => Promise<void>): void {
    const next = (chains.get(device) ?? Promise.resolve()).then(work).catch((err) => log.error({ err, device }, 'platform alarm not written'));
    chains.set(device, next);
  }

  async function apply(device: string, report: IngestState): Promise<void> {
    const level = SPOOL_LEVEL[report.state];
    if (level === undefined) {
      log.warn({ device, state: report.state }, 'unknown platform state ignored');
      return;
    }
    const at = typeof report.at === 'number' ? report.at : now();
    const fill = typeof report.spool?.fill === 'number' ? report.spool.fill : null;
    const message = `ingest ${report.instance ?? device}: spool ${report.state}` + (fill === null ? '' : ` (${Math.round(fill * 100)} %)`) + (report.database ? `, database ${report.database}` : '');
    const active = await store.activeFor(PLATFORM_ENTERPRISE, device, CONDITION);
    if (level === null) {
      // `ok`: the alarm clears once `ok` has held for the off-delay (a clear already pending keeps its time).
      if (active && !clearing.has(device)) {
        clearing.set(
          device,
          setTimeout(() => {
            clearing.delete(device);
            enqueue(device, () => clear(device, fill, message));
          }, options.clearDelayMs),
        );
      }
      return;
    }
    clearTimeout(clearing.get(device));
    clearing.delete(device);
    const rule = 'platform.ingest.spool';
    const change = !active
      ? await store.raise({ enterprise: PLATFORM_ENTERPRISE, device, deviceClass: 'platform', site: '', hazardSource: null, condition: CONDITION, level, metric: 'spool_fill', value: fill, threshold: null, message, at, rule })
      : active.level !== level
        ? await store.changeLevel(active.id, { level, value: fill, threshold: null, message, at, rule })
        : undefined;
    if (change) options.onWrite?.();
  }

  async function clear(device: string, fill: number | null, message: string): Promise<void> {
    const active = await store.activeFor(PLATFORM_ENTERPRISE, device, CONDITION);
    if (active && (await store.clearAuto(active.id, fill, now(), message))) options.onWrite?.();
  }

  return {
    filter: PLATFORM_FILTER,
    /** A message on hw/platform/#; anything it does not understand is logged and ignored. */
    handle(topic: string, payload: Buffer): void {
      const [, , service, instance, ...rest] = topic.split('/');
      if (service !== 'ingest' || !instance || rest.length) return;
      let report: IngestState;
      try {
        report = JSON.parse(payload.toString()) as IngestState;
        if (typeof report?.state !== 'string') throw new Error('no state');
      } catch (err) {
        log.warn({ topic, err: (err as Error).message }, 'unreadable platform state ignored');
        return;
      }
      const device = `ingest-${instance}`;
      enqueue(device, () => apply(device, report));
    },
    /** Resolves when every state received so far is applied. */
    async settle(): Promise<void> {
      await Promise.all(chains.values());
    },
    close(): void {
      for (const t of clearing.values()) clearTimeout(t);
      clearing.clear();
    },
  };
}
