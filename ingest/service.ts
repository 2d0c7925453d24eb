// `startIngest`: broker → validation → spool → database. Library entry point for `hazwatch ingest`,
// `hazwatch start` and the tests. See docs/ingest.md for the guarantees and their reasons.
import { hostname } from 'node:os';
import { serviceSession } from '../core/mqtt-session.ts';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import type { Registry as MetricsRegistry } from 'prom-client';
import { ERRORS, HazwatchError, channelFilter, errorMessage, type Rejection } from '../contract/index.ts';
import type { Service } from '../core/command.ts';
import { dataPath, type Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { deviceDirectory, heldForRegistry, type Registry } from '../registry/registry.ts';
import { topicParser } from '../contract/topics.ts';
import { startDrain, type Drain } from './drain.ts';
import { createInterpreter, type DeviceLookup } from './interpret.ts';
import { limitedLog, tokenBuckets } from './limits.ts';
import { healthLines, ingestMetrics } from './metrics.ts';
import { deferAcks } from '../core/mqtt-acks.ts';
import { hotIncrement } from '../core/metrics.ts';
import { coalesceClientWrites } from '../core/coalesce.ts';
import { redeliveryKey, redeliveryTracker } from './redelivery.ts';
import { openSpool, type SpoolEntry, type SpoolOptions, type SpoolStats } from './spool.ts';
import { createWriter, type WriteError } from './writers/index.ts';
import { subscribeWithDeadline } from '../core/subscribe.ts';

export interface IngestStats {
  /** Messages received (every delivery, redeliveries included). */
  received: number;
  /** Points the database accepted. */
  stored: number;
  /** Messages acknowledged to the broker (spooled, refused or recognised as duplicates). */
  acknowledged: number;
  rejected: number;
  rejectedByReason: Record<string, number>;
  warnings: number;
  duplicates: number;
  dbErrors: number;
  refusedPoints: number;
  spool: SpoolStats & { fill: number; full: boolean };
  connected: boolean;
  database: string;
}

export interface IngestService extends Service {
  /** Resolves once connected and subscribed the first time. */
  ready: Promise<void>;
  stats(): IngestStats;
  /** Settles when the broker refuses ingest's subscriptions: nothing would ever arrive. */
  failed: Promise<Error>;
  /** Writes platform_ingest / platform_rejection now (tests; otherwise every healthIntervalS). */
  writeHealth(): Promise<void>;
}

export interface StartIngestOptions {
  config: Config;
  log: Logger;
  metrics: MetricsRegistry;
  /** The registry (read for the device directory), or a directory already built. */
  registry: Registry | { devices: DeviceLookup };
  now?: () => number;
  /** Replaces the spool's fsync: tests holding the disk back to show that PUBACKs wait for it. */
  spoolFsync?: SpoolOptions['fsync'];
}

type Pending = { entry?: SpoolEntry; ack: () => boolean };

export async function startIngest(options: StartIngestOptions): Promise<IngestService> {
  const { config, metrics: registry } = options;
  const cfg = config.ingest;
  const now = options.now ?? Date.now;
  const instance = cfg.instance ?? (hostname().replace(/[^A-Za-z0-9_.-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64) || 'ingest');
  const log = options.log.child({ component: 'ingest', instance });
  const m = ingestMetrics(registry);
  const devices: DeviceLookup = 'devices' in options.registry && typeof options.registry.devices === 'object' ? options.registry.devices : deviceDirectory(options.registry as Registry);
  const registryOf = typeof (options.registry as Registry).pollChanges === 'function' ? (options.registry as Registry) : undefined;
  const parseTopic = topicParser();
  const knownSender = (packet: IPublishPacket, _ack?: () => boolean): boolean => {
    const t = parseTopic(packet.topic);
    return !t || devices.get(t.enterprise, t.device) !== undefined || devices.gateway?.(t.enterprise, t.device) === true;
  };
  const interpret = createInterpreter({ devices, time: cfg.time, limits: { maxBatch: cfg.maxBatch }, maxPayloadBytes: cfg.maxPayloadBytes, parseTopic, ...(cfg.shareGroup ? { receiver: instance } : {}) });
  const limited = limitedLog(log, { perInterval: 20, intervalMs: 60_000 });
  const mayAnswer = tokenBuckets(cfg.errorReplies);

  // One of several ingest processes (a share or a partition): its own spool and session.
  const oneOfSeveral = cfg.shareGroup !== undefined || cfg.enterprises.length > 0;
  const spoolPath = cfg.spool.path ?? dataPath(config, oneOfSeveral ? `spool-${instance}.db` : 'spool.db');
  const spool = openSpool(spoolPath, { sync: cfg.spool.sync, syncEveryMs: cfg.spool.syncEveryMs, maxBytes: cfg.spool.maxBytes, maxMessages: cfg.spool.maxMessages, fsync: options.spoolFsync });
  const writer = createWriter(cfg.influx);

  const counts = { received: 0, stored: 0, acknowledged: 0, rejected: 0, warnings: 0, duplicates: 0, dbErrors: 0, refusedPoints: 0 };
  const rejectedByReason: Record<string, number> = {};

  const start = spool.stats();
  if (!writer) {
    log.error(
      { code: 'HW_ERR_CONFIG', spool: spoolPath, spooled: start.messages, limitBytes: cfg.spool.maxBytes },
      `NO DATABASE CONFIGURED (ingest.influx.kind = ${cfg.influx.kind}${cfg.influx.kind === 'auto' ? ': only hazwatch start runs an InfluxDB of its own' : ''}): readings are validated, answered and kept in the spool up to its limit, but NOTHING IS STORED. Set ingest.influx to write them.`,
    );
  } else {
    const problem = await writer.prepare?.();
    if (problem) log.warn({ target: writer.target, problem }, 'could not prepare the database (ingest keeps retrying its writes)');
    log.info({ target: writer.target, spool: spoolPath, backlog: start.messages }, 'writing to InfluxDB');
  }

  // ---- health signal on the platform topic -------------------------------------------------------
  const platformTopic = `${cfg.platformTopic}/${instance}`;
  let spoolState: 'ok' | 'filling' | 'full' = 'ok';
  let client: MqttClient | undefined;
  function publishState(state: typeof spoolState): void {
    if (state === spoolState) return;
    spoolState = state;
    const s = spool.stats();
    const payload = {
      instance,
      state,
      ...(state === 'full' ? { code: 'HW_ERR_SPOOL_FULL', message: ERRORS.HW_ERR_SPOOL_FULL.message } : {}),
      spool: { messages: s.messages, bytes: s.bytes, fill: Math.round(spool.fill() * 1000) / 1000 },
      database: writer ? writer.target : 'none',
      at: now(),
    };
    client?.publish(platformTopic, JSON.stringify(payload), { qos: 1, retain: true }, (err) => {
      if (err) log.warn({ err, topic: platformTopic }, 'could not publish ingest state');
    });
  }

  // ---- spool state, back-pressure ------------------------------------------------------------------
  let paused = false;
  let closing = false;

  function refreshSpoolMetrics(): SpoolStats {
    const s = spool.stats();
    m.spoolMessages.set(s.messages);
    m.spoolPoints.set(s.points);
    m.spoolBytes.set(s.bytes);
    m.spoolFill.set(spool.fill());
    m.spoolAge.set(s.oldestReceivedAt === undefined ? 0 : Math.max(0, now() - s.oldestReceivedAt) / 1000);
    m.spoolRefused.set(s.refused);
    return s;
  }

  function checkFill(): void {
    const fill = spool.fill();
    if (paused) {
      if (fill < cfg.spool.resumeRatio && !closing) {
        paused = false;
        m.spoolFull.set(0);
        log.info({ fill }, 'spool below its resume mark: taking messages again');
        if (client && !client.disconnected) client.end(true);
        client = openClient();
        publishState(fill >= cfg.spool.warnRatio ? 'filling' : 'ok');
      }
      return;
    }
    if (fill >= cfg.spool.warnRatio && spoolState === 'ok') {
      log.warn({ fill, spool: refreshSpoolMetrics() }, 'spool is filling: the database is not keeping up or is unreachable');
      publishState('filling');
    } else if (fill < cfg.spool.warnRatio * 0.9 && spoolState === 'filling') {
      publishState('ok');
    }
  }

  function goFull(): void {
    if (paused) return;
    paused = true;
    m.spoolFull.set(1);
    const s = refreshSpoolMetrics();
    log.error(
      { code: 'HW_ERR_SPOOL_FULL', spool: s, limitBytes: cfg.spool.maxBytes, limitMessages: cfg.spool.maxMessages, database: writer?.target ?? 'none' },
      `${ERRORS.HW_ERR_SPOOL_FULL.message}: disconnecting; the broker keeps the messages in ingest's persistent session until the spool drains below ${cfg.spool.resumeRatio * 100} %`,
    );
    publishState('full');
    // Leave once the state message is acknowledged (end without force waits for it): the broker
    // queues for the persistent session meanwhile.
    client?.end(false);
  }

  // ---- group commit ---------------------------------------------------------------------------------
  const pending: Pending[] = [];
  const pendingKeys = new Set<string>();
  const redelivery = redeliveryTracker({ tailMs: 5000, replayMs: cfg.spool.replayWindowMs, now });
  // After a crash: the previous process's last receive-time messages may come again.
  redelivery.restored(spool.lastKeys(5000));
  let scheduled = false;

  let closed = false;
  let lastCommitAt = 0;
  function commit(): void {
    scheduled = false;
    lastCommitAt = performance.now();
    // After close: not acknowledged, the broker redelivers at the next start.
    if (pending.length === 0 || closed) return;
    const items = pending.splice(0);
    if (pendingKeys.size > 0) pendingKeys.clear();
    if (paused) return; // not acknowledged: redelivered after the reconnect
    let fitting = items.length;
    let messages = 0;
    let bytes = 0;
    for (let i = 0; i < items.length; i++) {
      const e = items[i].entry;
      if (!e) continue;
      messages++;
      bytes += e.lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);
      if (!spool.fits(messages, bytes)) {
        fitting = i;
        break;
      }
    }
    const accepted = items.slice(0, fitting);
    try {
      spool.append(accepted.flatMap((i) => (i.entry ? [i.entry] : [])));
    } catch (err) {
      // Disk full or I/O error: acknowledge nothing of this batch; the broker redelivers it.
      log.error({ err, code: 'HW_ERR_SPOOL_FULL', spool: spoolPath }, 'spool write failed: messages not acknowledged');
      goFull();
      return;
    }
    // Committed: the drain may read it now. Acknowledged only once on disk; the event loop goes on
    // with the next messages while the fsync runs, and PUBACKs keep receive order (callbacks do).
    spool.afterSync((err) => acknowledge(accepted, err));
    if (fitting < items.length) goFull();
    else checkFill();
    drain?.notify();
  }

  function acknowledge(accepted: Pending[], err: Error | null): void {
    if (err) {
      // The disk refused the fsync: what it held may be lost, so nothing of it is acknowledged; the
      // broker redelivers after the reconnect, and redelivered points are idempotent in the database.
      if (closed) return;
      log.error({ err, code: 'HW_ERR_SPOOL_FULL', spool: spoolPath }, 'spool sync failed: messages not acknowledged');
      goFull();
      return;
    }
    for (const item of accepted) {
      const sent = item.ack();
      const key = item.entry?.dedupeKey;
      if (key) sent ? redelivery.taken(key) : redelivery.unacknowledged(key);
    }
    counts.acknowledged += accepted.length;
  }

  function enqueue(item: Pending): void {
    pending.push(item);
    if (pending.length >= cfg.batch.maxCommit) commit();
    else if (!scheduled) {
      scheduled = true;
      // After every packet of the current socket read has been handled: one commit per read, but under
      // load no sooner than commitEveryMs after the last one, so that commits (and fsyncs) grow with the
      // rate instead of their number: the PUBACKs wait that long at most.
      const wait = cfg.batch.commitEveryMs - (performance.now() - lastCommitAt);
      if (wait > 0) setTimeout(commit, wait);
      else setImmediate(commit);
    }
  }

  // ---- answers to devices ---------------------------------------------------------------------------
  function answer(errorTopic: string | undefined, rejection: Rejection, topic: string, receivedAt: number): void {
    if (!errorTopic || !client) return;
    if (!mayAnswer(errorTopic)) {
      m.errorReplies.inc({ result: 'suppressed' });
      return;
    }
    m.errorReplies.inc({ result: 'sent' });
    client.publish(errorTopic, JSON.stringify(errorMessage(rejection, topic, receivedAt)), { qos: 1 }, (err) => {
      if (err) limited.warn('error-reply', { err: err.message, topic: errorTopic }, 'could not answer on the error topic');
    });
  }

  /** The received counter of each channel (telemetry, event, status, other): one increment function each. */
  const receivedCounters = new Map<string, () => void>();
  function receivedBy(channel: string): () => void {
    const c = ['telemetry', 'event', 'status'].includes(channel) ? channel : 'other';
    let counter = receivedCounters.get(c);
    if (!counter) receivedCounters.set(c, (counter = hotIncrement(m.received, { channel: c })));
    return counter;
  }

  function onPublish(packet: IPublishPacket, ack: () => boolean): void {
    const topic = packet.topic;
    // mqtt.js hands a Buffer of its own per packet: no copy needed.
    const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : (packet.payload as Buffer);
    const receivedAt = now();
    counts.received++;
    receivedBy(topic.slice(topic.lastIndexOf('/') + 1))();

    // A redelivery of a message already spooled with receive-time points: storing it again would
    // stamp the same readings with a second time (see redelivery.ts).
    // The key (a SHA-1 of the message) only when it can matter: a redelivery may be arriving, or the
    // points will carry the receive time and must be recognised if they come again.
    const messageId = packet.messageId;
    let key: Buffer | undefined;
    const keyOf = () => (key ??= redeliveryKey(topic, messageId!, payload));
    const suspect = messageId !== undefined && (packet.dup || redelivery.suspecting());
    if (suspect && (redelivery.isRedelivery(keyOf()) || (packet.dup && (pendingKeys.has(keyOf().toString('hex')) || spool.seen(keyOf()))))) {
      counts.duplicates++;
      m.duplicates.inc({ kind: 'redelivery' });
      enqueue({ ack });
      return;
    }

    let result;
    try {
      result = interpret(topic, payload, receivedAt, packet.retain);
    } catch (err) {
      // A bug in validation must not take ingest down nor lose the message: keep it unacknowledged.
      log.error({ err, topic }, 'validation failed unexpectedly: message not acknowledged');
      return;
    }
    for (const r of result.rejections) {
      counts.rejected++;
      rejectedByReason[r.code] = (rejectedByReason[r.code] ?? 0) + 1;
      m.rejected.inc({ reason: r.code });
      limited.warn(r.code, { code: r.code, topic, detail: r.message, metric: r.metric, index: r.index }, 'rejected');
      answer(result.errorTopic, r, topic, receivedAt);
    }
    for (const w of result.warnings) {
      counts.warnings++;
      m.warnings.inc({ reason: w.code });
      limited.warn(w.code, { code: w.code, topic, detail: w.message, index: w.index }, 'stored with a correction');
      answer(result.errorTopic, w, topic, receivedAt);
    }
    if (result.retainedReplay) {
      counts.duplicates++;
      m.duplicates.inc({ kind: 'retained' });
    }
    if (result.lines.length === 0) {
      enqueue({ ack });
      return;
    }
    const dedupeKey = result.receiveTime && messageId !== undefined ? keyOf() : undefined;
    if (dedupeKey) pendingKeys.add(dedupeKey.toString('hex'));
    enqueue({ entry: { receivedAt, lines: result.lines, dedupeKey }, ack });
  }

  // ---- database -------------------------------------------------------------------------------------
  let writeLatencyMs = 0;
  const drain: Drain | undefined = writer
    ? startDrain({
        spool,
        writer,
        log,
        batchSize: cfg.batch.size,
        flushMs: cfg.batch.flushMs,
        retry: cfg.retry,
        now,
        onStored(points, _messages, latencyMs) {
          counts.stored += points;
          m.stored.inc(points);
          m.writeLatency.observe(latencyMs / 1000);
          writeLatencyMs = latencyMs;
          checkFill();
        },
        onError(error: WriteError, attempt, delayMs) {
          counts.dbErrors++;
          m.dbErrors.inc({ kind: error.failure });
          const s = spool.stats();
          limited.warn('HW_ERR_DB_WRITE', { code: 'HW_ERR_DB_WRITE', target: writer.target, status: error.status, attempt, retryInMs: delayMs, spooled: s.messages, error: error.message }, 'database write failed: kept in the spool, retrying');
        },
        onRefused(points, error) {
          counts.refusedPoints += points;
          m.refusedPoints.inc(points);
          m.dbErrors.inc({ kind: error.failure });
          log.error({ code: 'HW_ERR_DB_WRITE', target: writer.target, status: error.status, points, error: error.message }, 'the database refuses a message for good: kept aside in the spool table "refused"');
        },
      })
    : undefined;

  // ---- housekeeping -------------------------------------------------------------------------------
  const metricsTimer = setInterval(() => {
    refreshSpoolMetrics();
    checkFill();
  }, 1000);
  metricsTimer.unref();
  const pruneTimer = setInterval(() => spool.prune(now() - cfg.spool.dedupeWindowS * 1000), 60_000);
  pruneTimer.unref();

  function snapshot(): IngestStats {
    return {
      ...counts,
      rejectedByReason: { ...rejectedByReason },
      spool: { ...spool.stats(), fill: spool.fill(), full: paused },
      connected: client?.connected ?? false,
      database: writer?.target ?? 'none',
    };
  }

  async function writeHealth(): Promise<void> {
    if (!writer) return;
    const s = spool.stats();
    const lines = healthLines(
      instance,
      {
        ...counts,
        spoolDepth: s.messages,
        spoolAgeS: s.oldestReceivedAt === undefined ? 0 : Math.max(0, now() - s.oldestReceivedAt) / 1000,
        writeLatencyMs,
        rejectedByReason,
      },
      now(),
    );
    // Platform health is about the platform, not the legal record: best effort, not spooled.
    await writer.write(lines.join('\n')).catch((err) => log.debug({ err: (err as Error).message }, 'platform health not written'));
  }
  const healthTimer = setInterval(() => void writeHealth(), cfg.healthIntervalS * 1000);
  healthTimer.unref();

  // ---- broker ---------------------------------------------------------------------------------------
  const clientId = cfg.clientId ?? (oneOfSeveral ? `svc:ingest:${instance}` : 'svc:ingest');
  const share = cfg.shareGroup ? `$share/${cfg.shareGroup}/` : '';
  const partition = cfg.enterprises.length ? cfg.enterprises : ['+'];
  const filters = partition.flatMap((e) => (['telemetry', 'event', 'status'] as const).map((c) => share + channelFilter(c, e)));
  let readyResolve!: () => void;
  const ready = new Promise<void>((resolve) => (readyResolve = resolve));
  let fail!: (err: Error) => void;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  /** A new client each time: after back-pressure ingest leaves the broker and comes back later. */
  function openClient(): MqttClient {
    const c = mqtt.connect(config.mqtt.url, serviceSession(config, clientId, { protocolVersion: 4, resubscribe: false, manualConnect: true }));
    deferAcks(c, registryOf ? heldForRegistry(registryOf, knownSender, onPublish, { now }) : onPublish);
    coalesceClientWrites(c);
    c.on('connect', (connack) => {
      m.connected.set(1);
      if (connack.sessionPresent) redelivery.connected();
      log.info({ url: config.mqtt.url, clientId, sessionPresent: connack.sessionPresent }, 'connected to the broker');
      if (connack.sessionPresent) {
        readyResolve();
        return;
      }
      subscribeWithDeadline(c, filters, log, (err, _subs, suback) => {
        // mqtt.js fails the whole SUBSCRIBE when one return code is 0x80 [MQTT-3.9.3-2]; the codes are in order.
        const codes = (suback as { granted?: number[] } | undefined)?.granted ?? [];
        const refused = filters.filter((_f, i) => ((codes[i] ?? 0) & 0x80) !== 0).map((topic) => ({ topic }));
        if (err && !refused.length) {
          log.warn({ err: err.message }, 'subscribe failed; retried at the next connection');
          return;
        }
        if (refused.length) {
          // A broker without shared subscriptions refuses `$share/...` (or accepts it and delivers nothing):
          // ingest would store nothing, so it stops and says why.
          const error = cfg.shareGroup
            ? new HazwatchError('HW_ERR_SHARED_SUBSCRIPTION', `ingest.shareGroup "${cfg.shareGroup}": the broker at ${config.mqtt.url} refused ${refused.map((g) => g.topic).join(', ')}; it may have no shared subscriptions, or the service account may not read these topics: run one ingest process without ingest.shareGroup, or use a broker that has them (hazwatch's own, Mosquitto 2, EMQX)`, { refused: refused.map((g) => g.topic) })
            : new HazwatchError('HW_ERR_ACL_SUBSCRIBE', `the broker at ${config.mqtt.url} refused ingest's subscriptions ${refused.map((g) => g.topic).join(', ')}: check the service account (${config.mqtt.username ?? 'no user name'})`, { refused: refused.map((g) => g.topic) });
          log.error({ code: error.code, refused: refused.map((g) => g.topic) }, error.message);
          fail(error);
          return;
        }
        log.info({ filters }, 'subscribed');
        readyResolve();
      });
    });
    c.on('close', () => {
      m.connected.set(0);
      redelivery.disconnected();
    });
    c.on('error', (err) => limited.warn('mqtt', { err: err.message }, 'broker connection error'));
    c.connect();
    return c;
  }
  client = openClient();

  return {
    name: 'ingest',
    ready,
    stats: snapshot,
    failed,
    writeHealth,
    async close() {
      closing = true;
      clearInterval(metricsTimer);
      clearInterval(pruneTimer);
      clearInterval(healthTimer);
      commit();
      // The last commit's PUBACKs go out before the connection closes.
      await spool.synced().catch(() => undefined);
      await new Promise<void>((resolve) => (client && !client.disconnected ? client.end(false, {}, () => resolve()) : resolve()));
      // What is due goes out now; the rest stays in the spool for the next start.
      await drain?.stop({ flush: true, timeoutMs: 5000 });
      await writeHealth();
      limited.flush();
      closed = true;
      pending.length = 0;
      spool.close();
      log.info({ ...counts }, 'ingest stopped');
    },
  };
}
