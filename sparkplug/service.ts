// `hazwatch sparkplug`: the primary host application for Sparkplug B edge nodes. It subscribes to
// spBv1.0/#, decodes each payload with the Eclipse Tahu codec (sparkplug-payload), follows every edge
// node's births, deaths and sequence (sparkplug/session.ts), and publishes what it learns on the hw/v1
// topics of the mapped devices: readings on telemetry, online/offline on status. From there ingest and
// rules take them exactly as a native device's (same validation, spool, error counting, alarms).
// An incoming message is acknowledged only once everything it gave has been acknowledged by the broker,
// and the session is persistent: a translator that dies or is cut off loses nothing.
import mqtt from 'mqtt';
import sparkplugPayload from 'sparkplug-payload';
import type { UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { Registry as MetricsRegistry } from 'prom-client';
import { ERRORS, HazwatchError, type ErrorCode } from '../contract/errors.ts';
import type { ErrorPayload } from '../contract/payloads.ts';
import { isValidId, topicFor } from '../contract/topics.ts';
import type { Service } from '../core/command.ts';
import type { Config } from '../core/config.ts';
import { oncePer, type Logger } from '../core/log.ts';
import { counter, gauge } from '../core/metrics.ts';
import { serviceSession } from '../core/mqtt-session.ts';
import { subscribeWithDeadline } from '../core/subscribe.ts';
import type { Registry } from '../registry/registry.ts';
import { loadSparkplugMaps } from './mapping.ts';
import { hostSessions, REBIRTH_METRIC, type Action } from './session.ts';
import { NAMESPACE, parseSparkplugTopic, sparkplugTopic, stateTopic, type SparkplugTopic } from './topics.ts';

const codec = sparkplugPayload.get('spBv1.0')!;

export interface SparkplugService extends Service {
  /** Resolves once connected and subscribed the first time. */
  ready: Promise<void>;
}

export interface SparkplugDeps {
  config: Config;
  log: Logger;
  metrics: MetricsRegistry;
  registry: Registry;
}

export async function startSparkplug({ config, log: parentLog, metrics, registry }: SparkplugDeps): Promise<SparkplugService> {
  const cfg = config.sparkplug;
  const log = parentLog.child({ component: 'sparkplug' });
  if (!cfg.maps.length) throw new HazwatchError('HW_ERR_CONFIG', 'sparkplug.maps: no map file given: name the files or directories that map Sparkplug devices to hazwatch devices');
  const maps = loadSparkplugMaps(cfg.maps);
  const sessions = hostSessions(maps);
  const m = {
    messages: counter(metrics, 'hazwatch_sparkplug_messages_total', 'Sparkplug B messages received, by message type', ['type']),
    refused: counter(metrics, 'hazwatch_sparkplug_refused_total', 'Sparkplug B messages not taken, by code', ['code']),
    rebirths: counter(metrics, 'hazwatch_sparkplug_rebirths_total', 'Rebirth requests (NCMD Node Control/Rebirth) sent to edge nodes'),
    readings: counter(metrics, 'hazwatch_sparkplug_readings_total', 'Readings published on hw/v1 telemetry topics'),
    ignored: counter(metrics, 'hazwatch_sparkplug_metrics_ignored_total', 'Sparkplug metrics in no map (or null), left out'),
    nodes: gauge(metrics, 'hazwatch_sparkplug_nodes_online', 'Edge nodes with a current birth certificate'),
    connected: gauge(metrics, 'hazwatch_sparkplug_connected', 'Connected to the broker (1) or not (0)'),
  };
  const firstThisMinute = oncePer(60_000);
  /**
   * Counted, logged once a minute per code, and told to the edge node on its gateway's error topic
   * (hw/v1/<group>/<node>/error, which the gateway account may read) when the message came from one.
   */
  const refuse = async (code: ErrorCode, detail: string, from?: { topic: string; t: SparkplugTopic; receivedAt: number }) => {
    m.refused.inc({ code });
    // One line per code and minute: a node that keeps sending what is refused must not flood the log.
    if (firstThisMinute(code)) {
      log.warn({ code, detail }, ERRORS[code].message);
    }
    if (from && isValidId(from.t.group) && isValidId(from.t.node)) {
      const body: ErrorPayload = { code, message: `${ERRORS[code].message}: ${detail}`, topic: from.topic, receivedAt: from.receivedAt };
      await out.publishAsync(topicFor(from.t.group, from.t.node, 'error'), JSON.stringify(body), { qos: 1 });
    }
  };
  const rebirthAsked = new Map<string, number>();
  const classConflict = new Set<string>();

  const clientId = cfg.clientId ?? config.mqtt.username ?? 'svc:sparkplug';
  const client = mqtt.connect(
    config.mqtt.url,
    serviceSession(config, clientId, {
      // [Sparkplug 2.2, 7.1.1] the host's death certificate: edge nodes see at once that it is gone.
      will: { topic: stateTopic(cfg.hostId), payload: Buffer.from('OFFLINE'), qos: 1, retain: true },
    }),
  );
  // What a message gives goes out on a connection of its own: mqtt.js reads one incoming packet at a
  // time, so a PUBACK for a publish of ours could not be read on the connection whose message waits for it.
  const out = mqtt.connect(config.mqtt.url, serviceSession(config, `${clientId}:out`, { clean: true }));
  out.on('error', () => undefined);

  async function perform(a: Action, from: { topic: string; t: SparkplugTopic; receivedAt: number }): Promise<void> {
    switch (a.kind) {
      case 'register': {
        const { enterprise, device } = a.mapped;
        // A birth is rare: read what other processes registered meanwhile before deciding.
        await registry.pollChanges();
        const known = registry.device(enterprise, device);
        if (known && known.class !== a.mapped.class) {
          classConflict.add(`${enterprise}/${device}`);
          return refuse('HW_ERR_MAP_CLASS', `${enterprise}/${device} is registered as ${known.class}, mapped as ${a.mapped.class} (${a.mapped.source})`, from);
        }
        classConflict.delete(`${enterprise}/${device}`);
        if (!known && cfg.register) {
          await registry.addDevice({ enterprise, id: device, class: a.mapped.class, meta: { sparkplug: a.mapped.source } });
          log.info({ device: `${enterprise}/${device}`, class: a.mapped.class }, 'device registered from its Sparkplug DBIRTH');
        }
        return;
      }
      case 'status':
        if (classConflict.has(`${a.enterprise}/${a.device}`)) return;
        await out.publishAsync(topicFor(a.enterprise, a.device, 'status'), JSON.stringify({ state: a.state, ts: a.ts }), { qos: 1, retain: true });
        return;
      case 'readings': {
        if (classConflict.has(`${a.enterprise}/${a.device}`)) return;
        const body = a.readings.length === 1 ? a.readings[0] : { readings: a.readings };
        await out.publishAsync(topicFor(a.enterprise, a.device, 'telemetry'), JSON.stringify(body), { qos: 1 });
        m.readings.inc(a.readings.length);
        return;
      }
      case 'rebirth': {
        const key = `${a.group}/${a.node}`;
        if (Date.now() - (rebirthAsked.get(key) ?? 0) < cfg.rebirthIntervalMs) return;
        rebirthAsked.set(key, Date.now());
        const payload = codec.encodePayload({ timestamp: Date.now(), metrics: [{ name: REBIRTH_METRIC, type: 'Boolean', value: true }] });
        // [tck-id-topics-ncmd-mqtt] NCMD goes with QoS 0 and not retained.
        await out.publishAsync(sparkplugTopic({ group: a.group, type: 'NCMD', node: a.node }), Buffer.from(payload), { qos: 0 });
        m.rebirths.inc();
        log.info({ node: key, code: a.code }, 'rebirth requested');
        return;
      }
      case 'refused':
        return refuse(a.code, a.detail, from);
      case 'ignored':
        m.ignored.inc(a.metrics);
        return;
    }
  }

  async function handle(topic: string, bytes: Buffer): Promise<void> {
    const t = parseSparkplugTopic(topic);
    if (!t) return;
    m.messages.inc({ type: t.type });
    const from = { topic, t, receivedAt: Date.now() };
    let payload: UPayload;
    try {
      payload = codec.decodePayload(new Uint8Array(bytes));
    } catch (err) {
      return refuse('HW_ERR_SPARKPLUG_PAYLOAD', `${topic}: ${(err as Error).message}`, from);
    }
    for (const a of sessions.handle(t, payload, from.receivedAt)) await perform(a, from);
    m.nodes.set(sessions.nodesOnline());
  }

  // mqtt.js sends the PUBACK of an incoming message when this calls back: after what it gave is acknowledged.
  client.handleMessage = (packet, done) => {
    handle(packet.topic, packet.payload as Buffer).then(
      () => done(),
      (err: Error) => {
        // Not acknowledged: the broker sends it again on the next connection.
        log.warn({ err: err.message, topic: packet.topic }, 'Sparkplug message not taken yet; it comes again');
        done(err);
      },
    );
  };

  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  client.on('connect', (connack) => {
    m.connected.set(1);
    log.info({ url: config.mqtt.url, clientId, sessionPresent: connack.sessionPresent, hostId: cfg.hostId, devices: maps.size }, 'connected to the broker');
    subscribeWithDeadline(client, [`${NAMESPACE}/+/+/+`, `${NAMESPACE}/+/+/+/+`], log, (err) => {
      if (err) return log.error({ err: err.message }, 'Sparkplug subscription refused');
      // [Sparkplug 2.2, 7.1.1] ONLINE after the subscription: a node that sees it may publish at once.
      client.publish(stateTopic(cfg.hostId), 'ONLINE', { qos: 1, retain: true });
      resolveReady();
    });
  });
  client.on('close', () => m.connected.set(0));
  let lastError = 0;
  client.on('error', (err) => {
    if (Date.now() - lastError < 60_000) return;
    lastError = Date.now();
    log.warn({ err: err.message, url: config.mqtt.url }, 'MQTT error; retrying every second');
  });

  return {
    name: 'sparkplug',
    ready,
    async close() {
      // A clean stop says OFFLINE itself (the will is only for an unclean end).
      if (client.connected) await client.publishAsync(stateTopic(cfg.hostId), 'OFFLINE', { qos: 1, retain: true }).catch(() => undefined);
      await client.endAsync();
      await out.endAsync();
    },
  };
}
