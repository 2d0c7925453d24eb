// The outbox: every alarm change is a history row with a global seq. Each consumer (MQTT alarm topic,
// InfluxDB alarm_event, notifications) tails the history from its own persisted cursor and moves the
// cursor only after its side effect succeeded, so a crash repeats a publication (same alarm id and
// seq: consumers dedupe by seq) but never loses one, and one slow consumer never holds up another.
import type { MqttClient } from 'mqtt';
import { topicFor } from '../contract/topics.ts';
import type { AlarmEventPayload } from '../contract/alarms.ts';
import type { Logger } from '../core/log.ts';
import { counter, gauge, type Registry as MetricsRegistry } from '../core/metrics.ts';
import type { AlarmStore } from './store-types.ts';

export interface TailerOptions {
  store: AlarmStore;
  name: string;
  /** 'persist': the tailer stores its cursor after each batch; 'handler': the handler stores it; 'memory': start at the end, keep nothing. */
  cursor: 'persist' | 'handler' | 'memory';
  handle(changes: AlarmEventPayload[]): Promise<void>;
  log: Logger;
  metrics: MetricsRegistry;
  /** Poll for changes made by other processes (the API) this often. */
  pollMs?: number;
  batch?: number;
}

export function createTailer(options: TailerOptions) {
  const { store, name, log } = options;
  const pollMs = options.pollMs ?? 200;
  const batch = options.batch ?? 500;
  const lag = gauge(options.metrics, 'hazwatch_rules_outbox_lag', 'Alarm changes written but not yet handled, per consumer', ['consumer']);
  const failures = counter(options.metrics, 'hazwatch_rules_outbox_failures_total', 'Failed attempts to hand alarm changes to a consumer (retried)', ['consumer']);
  let cursor = 0;
  let running = false;
  let again = false;
  let stopped = false;
  let failuresInRow = 0;
  let retryAt = 0;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();

  async function run(): Promise<void> {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    if (Date.now() < retryAt) return;
    running = true;
    try {
      do {
        again = false;
        for (;;) {
          const changes = await store.tailHistory(cursor, batch);
          if (changes.length === 0 || stopped) break;
          await options.handle(changes);
          cursor = changes[changes.length - 1].change.seq;
          if (options.cursor === 'persist') await store.setCursor(name, cursor);
          failuresInRow = 0;
        }
      } while (again && !stopped);
      lag.set({ consumer: name }, 0);
    } catch (err) {
      failuresInRow++;
      failures.inc({ consumer: name });
      // Back off up to 30 s; the same changes are tried again (at-least-once).
      retryAt = Date.now() + Math.min(30_000, 250 * 2 ** Math.min(failuresInRow, 7));
      log.warn({ err, consumer: name, cursor, attempt: failuresInRow }, 'alarm changes not handed over yet; retrying');
    } finally {
      running = false;
    }
  }

  const tailer = {
    name,
    async start(): Promise<void> {
      cursor = options.cursor === 'memory' ? await store.lastSeq() : await store.cursor(name);
      timer = setInterval(() => void tailer.kick(), pollMs);
      timer.unref();
      void tailer.kick();
    },
    kick(): Promise<void> {
      current = current.then(run, run);
      return current;
    },
    cursor: () => cursor,
    /** Resolves once everything written so far has been handled (or `timeoutMs` passed). */
    async drain(timeoutMs = 10_000): Promise<boolean> {
      const target = await store.lastSeq();
      const deadline = Date.now() + timeoutMs;
      while (cursor < target && Date.now() < deadline && !stopped) {
        retryAt = 0;
        await tailer.kick();
        if (cursor < target) await new Promise((r) => setTimeout(r, 20));
      }
      return cursor >= target;
    },
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      // A publish waiting for a broker that is down must not hold the shutdown: it is redone at the next start.
      await Promise.race([current, new Promise((r) => setTimeout(r, 2000).unref())]);
    },
  };
  return tailer;
}

export type Tailer = ReturnType<typeof createTailer>;

/** Publishes each change on hw/v1/<enterprise>/<device>/alarm, QoS1, not retained. */
export function mqttAlarmSink(client: MqttClient) {
  return async (changes: AlarmEventPayload[]): Promise<void> => {
    await Promise.all(
      changes.map((p) => client.publishAsync(topicFor(p.alarm.enterprise, p.alarm.device, 'alarm'), JSON.stringify(p), { qos: 1, retain: false })),
    );
  };
}

function escapeTag(v: string): string {
  return v.replace(/[,= \\]/g, (c) => `\\${c}`) || '_';
}

function escapeField(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`).replace(/[\r\n]+/g, ' ')}"`;
}

/** One `alarm_event` point per change (docs/storage.md), millisecond precision, at the change's time. */
export function alarmEventLine(p: AlarmEventPayload, at = p.change.at): string {
  const { alarm, change } = p;
  const tags = [
    `enterprise=${escapeTag(alarm.enterprise)}`,
    `device=${escapeTag(alarm.device)}`,
    `class=${escapeTag(alarm.deviceClass)}`,
    `condition=${escapeTag(alarm.condition)}`,
    `level=${change.level}`,
    `action=${escapeTag(change.action)}`,
  ];
  const fields = [
    `alarm_id=${escapeField(alarm.id)}`,
    `state=${escapeField(change.state)}`,
    `message=${escapeField(change.note ? `${alarm.message} (${change.note})` : alarm.message)}`,
    `by=${escapeField(change.by)}`,
    `seq=${change.seq}i`,
  ];
  if (typeof change.value === 'number' && Number.isFinite(change.value)) fields.push(`value=${change.value}`);
  return `alarm_event,${tags.join(',')} ${fields.join(',')} ${at}`;
}

/** Line protocol for a batch; two changes of one series in the same millisecond are spread 1 ms apart so
 * that neither overwrites the other (deterministic: a replay of the batch overwrites itself). */
export function alarmEventLines(changes: AlarmEventPayload[]): string {
  const last = new Map<string, number>();
  return changes
    .map((p) => {
      const series = `${p.alarm.enterprise}/${p.alarm.device}/${p.alarm.condition}/${p.change.level}/${p.change.action}`;
      const prev = last.get(series);
      const at = prev !== undefined && p.change.at <= prev ? prev + 1 : p.change.at;
      last.set(series, at);
      return alarmEventLine(p, at);
    })
    .join('\n');
}

/** Writes changes to InfluxDB with the ingest writer (same database settings: ingest.influx). */
export function influxAlarmSink(writer: { write(body: string): Promise<void> }) {
  return async (changes: AlarmEventPayload[]): Promise<void> => {
    await writer.write(alarmEventLines(changes));
  };
}
