// `hazwatch northbound`: sends base data (enterprises, hazard sources, devices) and sensing data
// (readings per interval, alarm changes) to an upper-level platform, through a northbound map
// (northbound/map.ts). docs/northbound.md.
//
// In: hw/v1/+/+/telemetry (interpreted with the contract as ingest does, so that only what ingest
// stores goes up) and hw/v1/+/+/alarm (AlarmEventPayload), QoS 1 on a persistent session; a message is
// acknowledged once what it gives is committed to the spool (northbound/spool.ts).
// Out: the spool in order, per device, base data before whatever was queued after it, retried with
// backoff through any outage of the upper platform; resumed from the spool after a restart.
// State: retained on hw/platform/northbound/<instance>, and Prometheus metrics.
import mqtt from 'mqtt';
import type { Registry as MetricsRegistry } from 'prom-client';
import { AlarmEventPayload } from '../contract/alarms.ts';
import { DEVICE_CLASSES } from '../contract/catalog.ts';
import { HazwatchError } from '../contract/errors.ts';
import { interpretTelemetry } from '../contract/payloads.ts';
import { PLATFORM_ENTERPRISE, TOPIC_PREFIX, parseTopic } from '../contract/topics.ts';
import type { Service } from '../core/command.ts';
import { dataPath, type Config } from '../core/config.ts';
import { oncePer, type Logger } from '../core/log.ts';
import { counter, gauge } from '../core/metrics.ts';
import { serviceSession } from '../core/mqtt-session.ts';
import { subscribeWithDeadline } from '../core/subscribe.ts';
import { openHazardSources, type EnterprisePlace } from '../registry/hazard-sources.ts';
import type { DeviceRecord, Registry } from '../registry/registry.ts';
import { alarmContext, deviceContext, enterpriseContext, hazardSourceContext, readingContext, valueContext, type MessageKind } from './fields.ts';
import { loadNorthboundMap, type CompiledMessage, type NorthboundMap } from './map.ts';
import { BASE_KEY, openNorthboundSpool, type NewRow, type OutboxRow } from './spool.ts';
import { renderNode, renderText, type Context } from './template.ts';
import { createSender, type SendResult } from './transport.ts';

export interface NorthboundService extends Service {
  /** Resolves once the base data is queued and the subscriptions are granted the first time. */
  ready: Promise<void>;
  instance: string;
  map: NorthboundMap;
  spoolPath: string;
  /** The state as published on the platform topic. */
  state(): NorthboundState;
}

export interface NorthboundState {
  instance: string;
  map: string;
  transport: string;
  connected: boolean | null;
  backlog: { rows: number; oldestAgeS: number; pendingIntervals: number; refused: number };
  lastError: { message: string; at: number } | null;
  delivered: number;
  at: number;
}

export interface NorthboundDeps {
  config: Config;
  log: Logger;
  metrics: MetricsRegistry;
  registry: Registry;
  /** Where the map's ${NAME} references are looked up (default the process environment). */
  env?: NodeJS.ProcessEnv;
}

const HOUR = 3600_000;
/** Alarm changes remembered this long to drop the rules outbox's re-deliveries. */
const SEEN_KEEP_MS = 7 * 24 * HOUR;

export async function startNorthbound({ config, log: parentLog, metrics, registry, env }: NorthboundDeps): Promise<NorthboundService> {
  const cfg = config.northbound;
  if (!cfg.map) throw new HazwatchError('HW_ERR_CONFIG', 'northbound.map: no map file given: name the northbound map of the upper platform (--map <file>)');
  const map = loadNorthboundMap(cfg.map, env ?? process.env);
  const instance = cfg.instance ?? map.name;
  const log = parentLog.child({ component: 'northbound', instance });
  const spoolPath = cfg.spool.path ?? dataPath(config, `northbound-${instance}.db`);
  const spool = openNorthboundSpool(spoolPath, { sync: cfg.spool.sync });
  const sources = await openHazardSources(registry.database);
  const wanted = (enterprise: string) => enterprise !== PLATFORM_ENTERPRISE && (cfg.enterprises.length === 0 || cfg.enterprises.includes(enterprise));
  const intervalMs = cfg.readingIntervalSeconds * 1000;
  const graceMs = cfg.readingGraceSeconds * 1000;
  const L = { instance };
  const m = {
    taken: counter(metrics, 'hazwatch_northbound_messages_taken_total', 'Messages taken from the broker into the spool, by channel', ['instance', 'channel']),
    queued: counter(metrics, 'hazwatch_northbound_queued_total', 'Rows queued for the upper platform, by kind', ['instance', 'kind']),
    delivered: counter(metrics, 'hazwatch_northbound_delivered_total', 'Messages the upper platform took, by kind', ['instance', 'kind']),
    failures: counter(metrics, 'hazwatch_northbound_send_failures_total', 'Sends that failed and are retried, by reason', ['instance', 'reason']),
    refused: counter(metrics, 'hazwatch_northbound_refused_total', 'Messages the upper platform refused for good (moved to the refused table), by kind', ['instance', 'kind']),
    unmapped: counter(metrics, 'hazwatch_northbound_unmapped_codes_total', 'Values a code table of the map had no entry for (sent as they are), by table', ['instance', 'table']),
    connected: gauge(metrics, 'hazwatch_northbound_connected', 'Connected to the upper platform (1), not (0); HTTPS: the last request was answered 2xx', ['instance']),
    backlog: gauge(metrics, 'hazwatch_northbound_backlog_rows', 'Rows in the spool waiting to be sent', ['instance']),
    age: gauge(metrics, 'hazwatch_northbound_backlog_oldest_age_seconds', 'Age of the oldest row waiting to be sent (0: none)', ['instance']),
    pending: gauge(metrics, 'hazwatch_northbound_pending_intervals', 'Device intervals collecting readings, not yet over', ['instance']),
    refusedRows: gauge(metrics, 'hazwatch_northbound_refused_rows', 'Rows in the refused table of the spool', ['instance']),
  };

  // ---- logging without floods -----------------------------------------------------------------------
  const firstThisMinute = oncePer(60_000);
  const limited = (key: string, fn: () => void) => {
    if (firstThisMinute(key)) fn();
  };
  const onUnmapped = (table: string, value: unknown) => {
    m.unmapped.inc({ ...L, table });
    limited(`unmapped\0${table}\0${String(value)}`, () => log.warn({ table, value, map: map.source }, `code table "${table}" has no entry for ${JSON.stringify(value)} and no "*": sent as it is`));
  };

  // ---- state ------------------------------------------------------------------------------------------
  let lastError: NorthboundState['lastError'] = null;
  let delivered = 0;
  let closing = false;
  let reportedConnected: boolean | undefined;
  const sender = createSender(map.transport, log, (connected, error) => {
    m.connected.set(L, connected ? 1 : 0);
    const changed = connected !== reportedConnected;
    reportedConnected = connected;
    if (connected) {
      log.info({ target: sender.target }, 'connected to the upper platform');
      wake(true);
    } else if (error) {
      lastError = { message: error, at: Date.now() };
      limited('disconnected', () => log.warn({ target: sender.target, err: error }, 'upper platform not reachable: data waits in the spool'));
    }
    // A reconnection that fails again every second is not news each time.
    publishState(changed);
  });

  function state(): NorthboundState {
    const s = spool.stats();
    return {
      instance,
      map: map.name,
      transport: sender.target,
      connected: sender.connected(),
      backlog: { rows: s.rows, oldestAgeS: s.oldestQueuedAt === undefined ? 0 : Math.max(0, Math.round((Date.now() - s.oldestQueuedAt) / 1000)), pendingIntervals: s.pending, refused: s.refused },
      lastError,
      delivered,
      at: Date.now(),
    };
  }

  const platformTopic = `${cfg.platformTopic}/${instance}`;
  let lastPublished = '';
  let lastPublishedAt = 0;
  function publishState(force = false): void {
    if (closing) return;
    const s = state();
    m.connected.set(L, s.connected ? 1 : 0);
    m.backlog.set(L, s.backlog.rows);
    m.age.set(L, s.backlog.oldestAgeS);
    m.pending.set(L, s.backlog.pendingIntervals);
    m.refusedRows.set(L, s.backlog.refused);
    // Unchanged apart from clocks and counts: not again, except once a minute (the backlog's age).
    const key = JSON.stringify({ ...s, at: 0, delivered: 0, backlog: { ...s.backlog, oldestAgeS: 0 }, lastError: s.lastError?.message ?? null });
    if (!force && key === lastPublished && Date.now() - lastPublishedAt < 60_000) return;
    if (!client.connected) return;
    lastPublished = key;
    lastPublishedAt = Date.now();
    client.publish(platformTopic, JSON.stringify(s), { qos: 1, retain: true }, (err) => {
      if (err) limited('state', () => log.warn({ err: err.message, topic: platformTopic }, 'could not publish the northbound state'));
    });
  }

  // ---- base data ----------------------------------------------------------------------------------------
  /** What was last queued of each enterprise, hazard source and device (JSON of its context). */
  const sentBase = new Map<string, string>();
  let places = new Map<string, EnterprisePlace>();

  function enterpriseCtx(id: string): Context {
    const e = registry.enterprise(id);
    return e ? enterpriseContext(e, places.get(id)) : { enterprise: id, 'enterprise.name': id, 'enterprise.address': '', 'enterprise.createdAt': null };
  }

  async function checkBaseNow(): Promise<number> {
    places = new Map((await sources.places()).map((p) => [p.enterprise, p]));
    const candidates: Array<{ id: string; row: NewRow }> = [];
    const add = (kind: MessageKind, id: string, ctx: Context) => {
      if (map.messages[kind]) candidates.push({ id: `${kind}:${id}`, row: { kind, key: BASE_KEY, ctx } });
    };
    const enterprises = registry.enterprises().filter((e) => wanted(e.id));
    for (const e of enterprises) add('enterprise', e.id, enterpriseContext(e, places.get(e.id)));
    for (const s of await sources.list()) if (wanted(s.enterprise)) add('hazardSource', `${s.enterprise}/${s.id}`, hazardSourceContext(s, enterpriseCtx(s.enterprise)));
    for (const d of registry.devices()) if (wanted(d.enterprise)) add('device', `${d.enterprise}/${d.id}`, deviceContext(d, enterpriseCtx(d.enterprise)));
    const changed = candidates.filter((c) => sentBase.get(c.id) !== JSON.stringify(c.row.ctx));
    if (!changed.length) return 0;
    spool.enqueue(changed.map((c) => c.row));
    for (const c of changed) {
      sentBase.set(c.id, JSON.stringify(c.row.ctx));
      m.queued.inc({ ...L, kind: c.row.kind });
    }
    wake();
    return changed.length;
  }

  let baseChain: Promise<unknown> = Promise.resolve();
  /** Compares the base data with what was queued and queues what changed; one check at a time. */
  function checkBase(): Promise<void> {
    const next = baseChain.then(checkBaseNow).then(
      (n) => {
        if (n) log.info({ rows: n }, 'base data queued for the upper platform');
      },
      (err: Error) => limited('base', () => log.warn({ err: err.message }, 'base data not compared; tried again at the next check')),
    );
    baseChain = next;
    return next;
  }

  /** A device heard of before its base data was queued (registered a moment ago): its base data first. */
  async function ensureBase(d: DeviceRecord): Promise<void> {
    if (map.messages.device && !sentBase.has(`device:${d.enterprise}/${d.id}`)) await checkBase();
  }

  // ---- what comes in ------------------------------------------------------------------------------------
  let lastReread = 0;
  async function activeDevice(enterprise: string, id: string): Promise<DeviceRecord | undefined> {
    let d = registry.device(enterprise, id);
    if ((!d || d.revokedAt !== null) && Date.now() - lastReread >= 1000) {
      lastReread = Date.now();
      await registry.pollChanges();
      d = registry.device(enterprise, id);
    }
    return d && d.revokedAt === null ? d : undefined;
  }

  function readingRows(msg: CompiledMessage, key: string, device: Context, values: Context[], interval: { start: number; end: number }): NewRow[] {
    if (msg.per === 'metric') return values.map((v) => ({ kind: 'reading' as const, key, ctx: { ...readingContext(device, [v], interval), ...v } }));
    return [{ kind: 'reading', key, ctx: readingContext(device, values, interval) }];
  }

  async function telemetry(enterprise: string, id: string, payload: Buffer, receivedAt: number): Promise<void> {
    const msg = map.messages.reading;
    if (!msg || payload.length > config.ingest.maxPayloadBytes) return;
    const d = await activeDevice(enterprise, id);
    // Refused by ingest as well: nothing of it is stored, nothing of it goes up.
    if (!d) return;
    const result = interpretTelemetry(d.class, payload, receivedAt, config.ingest.time, { maxBatch: config.ingest.maxBatch });
    if (!result.readings.length) return;
    await ensureBase(d);
    const key = `${enterprise}/${id}`;
    const device = deviceContext(d, enterpriseCtx(enterprise));
    let rows = 0;
    spool.transaction(() => {
      for (const r of result.readings) {
        const values = Object.entries(r.values).map(([metric, v]) => valueContext(d.class, metric, v, r.ts));
        if (intervalMs === 0) {
          const out = readingRows(msg, key, device, values, { start: r.ts, end: r.ts });
          spool.enqueue(out);
          rows += out.length;
        } else {
          const start = Math.floor(r.ts / intervalMs) * intervalMs;
          spool.mergePending(key, start, start + intervalMs, device, values);
        }
      }
    });
    if (rows) {
      m.queued.inc({ ...L, kind: 'reading' }, rows);
      wake();
    }
  }

  async function alarm(enterprise: string, id: string, payload: Buffer): Promise<void> {
    const msg = map.messages.alarm;
    if (!msg) return;
    let parsed;
    try {
      parsed = AlarmEventPayload.safeParse(JSON.parse(payload.toString('utf8')));
    } catch (err) {
      limited('alarm-json', () => log.warn({ err: (err as Error).message, device: `${enterprise}/${id}` }, 'alarm message is not JSON: not sent'));
      return;
    }
    if (!parsed.success) {
      limited('alarm-schema', () => log.warn({ device: `${enterprise}/${id}`, issues: parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`) }, 'alarm message does not match AlarmEventPayload: not sent'));
      return;
    }
    const p = parsed.data;
    if (!msg.actions.has(p.change.action)) return;
    const d = registry.device(enterprise, id);
    if (d) await ensureBase(d);
    const device = d
      ? deviceContext(d, enterpriseCtx(enterprise))
      : { ...enterpriseCtx(enterprise), device: id, 'device.class': p.alarm.deviceClass, 'device.site': p.alarm.site, 'device.hazardSource': p.alarm.hazardSource };
    const queued = spool.transaction(() => {
      if (!spool.firstSeen(`${p.alarm.id}:${p.change.seq}`)) return false;
      spool.enqueue([{ kind: 'alarm', key: `${enterprise}/${id}`, ctx: alarmContext(p, device) }]);
      return true;
    });
    if (queued) {
      m.queued.inc({ ...L, kind: 'alarm' });
      wake();
    }
  }

  async function handle(topic: string, payload: Buffer): Promise<void> {
    const t = parseTopic(topic);
    if (!t || !wanted(t.enterprise)) return;
    if (t.channel === 'telemetry') await telemetry(t.enterprise, t.device, payload, Date.now());
    else if (t.channel === 'alarm') await alarm(t.enterprise, t.device, payload);
    else return;
    m.taken.inc({ ...L, channel: t.channel });
  }

  /** Intervals that are over (and their grace) become rows, oldest first. */
  function closeIntervals(): void {
    const msg = map.messages.reading;
    if (!msg || intervalMs === 0) return;
    let rows = 0;
    spool.closeIntervals(Date.now() - graceMs, (key, interval, data) => {
      const cls = data.device['device.class'] as keyof typeof DEVICE_CLASSES;
      const order = Object.keys(DEVICE_CLASSES[cls]?.metrics ?? {});
      const values = Object.values(data.values).sort((a, b) => order.indexOf(a.metric as string) - order.indexOf(b.metric as string));
      const out = readingRows(msg, key, data.device, values, interval);
      rows += out.length;
      return out;
    });
    if (rows) {
      m.queued.inc({ ...L, kind: 'reading' }, rows);
      wake();
    }
  }

  // ---- what goes out ------------------------------------------------------------------------------------
  let wakeUp: (() => void) | undefined;
  let backoffMs = 0;
  function wake(resetBackoff = false): void {
    if (resetBackoff) backoffMs = 0;
    if (resetBackoff || backoffMs === 0) wakeUp?.();
  }
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        wakeUp = undefined;
        resolve();
      }
      wakeUp = done;
    });

  function render(msg: CompiledMessage, ctx: Context): { target: string; body: string } {
    return { target: renderText(msg.target, ctx, map.tables, onUnmapped), body: JSON.stringify(renderNode(msg.body, ctx, map.tables, onUnmapped)) };
  }

  /** True when the row is done with (taken, or refused for good and moved aside); false to try again later. */
  async function deliver(row: OutboxRow): Promise<boolean> {
    const msg = map.messages[row.kind];
    const base: Context = { ...row.ctx, kind: row.kind, instance, messageId: row.id, now: Date.now() };
    let result: SendResult;
    if (!msg) {
      result = { ok: false, retry: false, reason: 'no_message', error: `the map ${map.source} has no ${row.kind} message (it changed since the row was queued)` };
    } else if (row.kind === 'reading' && msg.per === 'metric' && (row.ctx.values?.length ?? 0) > 1) {
      // Queued per device under an earlier map: one message per value now.
      result = { ok: true };
      for (const [i, v] of row.ctx.values!.entries()) {
        const r = render(msg, { ...readingContext(row.ctx, [v], { start: row.ctx['interval.start'] as number, end: row.ctx['interval.end'] as number }), ...v, kind: row.kind, instance, messageId: `${row.id}.${i}`, now: Date.now() });
        result = await sender.send(r.target, r.body);
        if (!result.ok) break;
      }
    } else {
      const r = render(msg, base);
      result = await sender.send(r.target, r.body);
    }
    if (result.ok) {
      spool.delivered(row.id);
      delivered++;
      m.delivered.inc({ ...L, kind: row.kind });
      return true;
    }
    lastError = { message: result.error, at: Date.now() };
    if (!result.retry) {
      spool.refuse(row.id, result.error);
      m.refused.inc({ ...L, kind: row.kind });
      limited(`refused\0${result.reason}`, () => log.error({ kind: row.kind, key: row.key, id: row.id, err: result.error }, 'the upper platform refused a message for good: moved to the refused table of the spool'));
      return true;
    }
    spool.failed(row.id, result.error);
    m.failures.inc({ ...L, reason: result.reason });
    return false;
  }

  /** Rows of one device in order, stopping at the first that must be tried again. */
  async function deliverInOrder(rows: OutboxRow[]): Promise<boolean> {
    for (const row of rows) {
      if (closing) return false;
      if (!(await deliver(row))) return false;
    }
    return true;
  }

  let failingSince: number | undefined;
  async function pump(): Promise<void> {
    while (!closing) {
      closeIntervals();
      const rows = spool.head(500);
      if (!rows.length) {
        await sleep(1000);
        continue;
      }
      // Base data is a barrier: what was queued after it goes after it (the upper platform must know a
      // device before its readings). A round is the oldest run of base rows, or of sensing rows.
      const isBase = rows[0].key === BASE_KEY;
      const cut = rows.findIndex((r) => (r.key === BASE_KEY) !== isBase);
      const round = cut < 0 ? rows : rows.slice(0, cut);
      let ok: boolean;
      if (isBase) ok = await deliverInOrder(round);
      else {
        const byDevice = new Map<string, OutboxRow[]>();
        for (const r of round) byDevice.set(r.key, [...(byDevice.get(r.key) ?? []), r]);
        const queue = [...byDevice.values()];
        const results: boolean[] = [];
        await Promise.all(
          Array.from({ length: Math.min(cfg.concurrency, queue.length) }, async () => {
            for (let group = queue.shift(); group; group = queue.shift()) results.push(await deliverInOrder(group));
          }),
        );
        ok = results.every(Boolean);
      }
      if (ok) {
        if (failingSince !== undefined) {
          log.info({ target: sender.target, downS: Math.round((Date.now() - failingSince) / 1000), backlog: spool.stats().rows }, 'the upper platform takes messages again: sending the backlog in order');
          failingSince = undefined;
          publishState(true);
        }
        backoffMs = 0;
        continue;
      }
      if (closing) break;
      if (failingSince === undefined) {
        failingSince = Date.now();
        log.warn({ target: sender.target, err: lastError?.message, backlog: spool.stats().rows }, 'sending to the upper platform failed: retrying with backoff, nothing is dropped');
        publishState(true);
      }
      backoffMs = Math.min(cfg.retry.maxMs, backoffMs ? backoffMs * 2 : cfg.retry.minMs);
      await sleep(backoffMs * (0.8 + Math.random() * 0.4));
    }
  }

  // ---- hazwatch's broker --------------------------------------------------------------------------------
  const clientId = cfg.clientId ?? `${config.mqtt.username ?? 'svc:northbound'}:${instance}`;
  const client = mqtt.connect(config.mqtt.url, serviceSession(config, clientId));
  const handling = new Set<Promise<void>>();
  // mqtt.js sends the PUBACK when this calls back: after the spool transaction of the message committed.
  client.handleMessage = (packet, done) => {
    const work = handle(packet.topic, packet.payload as Buffer).then(
      () => done(),
      (err: Error) => {
        // Not acknowledged: the broker sends it again on the next connection, which this starts.
        limited('handle', () => log.error({ err: err.message, topic: packet.topic }, 'message not taken into the spool; it comes again'));
        client.stream?.destroy();
        done(err);
      },
    );
    handling.add(work);
    void work.finally(() => handling.delete(work));
  };

  const enterprises = cfg.enterprises.length ? cfg.enterprises : ['+'];
  const channels = [...(map.messages.reading ? ['telemetry'] : []), ...(map.messages.alarm ? ['alarm'] : [])];
  const filters = enterprises.flatMap((e) => channels.map((c) => `${TOPIC_PREFIX}/${e}/+/${c}`));

  // Base data before anything else, at every start.
  await checkBase();
  log.info({ map: map.source, target: sender.target, spool: spoolPath, backlog: spool.stats().rows, readingIntervalSeconds: cfg.readingIntervalSeconds }, 'northbound forwarder starting');

  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  client.on('connect', (connack) => {
    log.info({ url: config.mqtt.url, clientId, sessionPresent: connack.sessionPresent }, 'connected to the broker');
    publishState(true);
    if (!filters.length) return resolveReady();
    subscribeWithDeadline(client, filters, log, (err, granted) => {
      if (err) return log.error({ err: err.message }, 'northbound subscriptions refused');
      const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
      if (refused.length) log.error({ code: 'HW_ERR_ACL_SUBSCRIBE', filters: refused }, 'the broker refused these topics to the northbound forwarder: nothing of them goes up');
      resolveReady();
    });
  });
  client.on('error', (err) => limited('broker', () => log.warn({ err: err.message, url: config.mqtt.url }, 'MQTT error; retrying every second')));

  const pumping = pump().catch((err: Error) => log.error({ err: err.message }, 'northbound sender stopped'));
  const timers = [
    setInterval(() => void registry.pollChanges().catch(() => undefined), 1000),
    setInterval(() => void checkBase(), cfg.baseCheckSeconds * 1000),
    setInterval(() => publishState(), cfg.stateIntervalSeconds * 1000),
    setInterval(() => spool.forgetSeenBefore(Date.now() - SEEN_KEEP_MS), HOUR),
  ];
  const offChange = registry.onChange(() => void checkBase());

  return {
    name: 'northbound',
    ready,
    instance,
    map,
    spoolPath,
    state,
    async close() {
      for (const t of timers) clearInterval(t);
      offChange();
      // No more messages in; those being taken finish their transaction first.
      await client.endAsync();
      await Promise.all([...handling]);
      await baseChain;
      closing = true;
      wakeUp?.();
      await sender.close();
      await pumping;
      spool.close();
    },
  };
}
