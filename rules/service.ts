// `startRules`: the rules process. Consumes the device stream from the broker (own service client id,
// persistent session, QoS1), evaluates rules per device in arrival order and keeps alarm instances in
// the alarm store. One rules process of those sharing a store, elected (core/leader.ts), publishes
// every alarm change (its own, the other rules processes' and the API's) to the MQTT alarm topic,
// InfluxDB and the notification channels; another takes over when it dies. Library entry point for
// `hazwatch rules`, `hazwatch start` and the tests.
import { watch, type FSWatcher } from 'node:fs';
import { hostname } from 'node:os';
import mqtt, { type MqttClient } from 'mqtt';
import type { Registry as MetricsRegistry } from 'prom-client';
import { channelFilter, PLATFORM_TOPIC_PREFIX, topicFor, topicParser } from '../contract/topics.ts';
import type { PresencePayload } from '../contract/presence.ts';
import type { Service } from '../core/command.ts';
import { alarmStoreTarget, rosterTarget, warningsTarget, type Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { electLeader, type Leadership } from '../core/leader.ts';
import { openOutbox } from '../core/dispatch/store.ts';
import { openRoster } from '../registry/roster.ts';
import { counter, gauge } from '../core/metrics.ts';
import { serviceSession } from '../core/mqtt-session.ts';
import { coalesceClientWrites } from '../core/coalesce.ts';
import { gateAcks } from './ack-gate.ts';
import { deviceDirectory, heldForRegistry, serviceUsername, type DeviceRecord, type Registry } from '../registry/registry.ts';
import { createWriter } from '../ingest/writers/index.ts';
import { loadRuleSet, type RuleSet } from './definitions.ts';
import { createEngine, hazardGrade, type DeviceLookup, type Engine, type PresenceReport } from './engine.ts';
import { createNotifier, NOTIFY_CURSOR, rosterPeople, type Notifier } from './notify/notifier.ts';
import { createTailer, influxAlarmSink, mqttAlarmSink, type Tailer } from './outbox.ts';
import { platformWatcher } from './platform.ts';
import { openAlarmStore } from './store.ts';
import type { AlarmStore } from './store-types.ts';
import { subscribeWithDeadline } from '../core/subscribe.ts';

/** Devices' presence records per registry transaction (about a millisecond of work each slice). */
const PRESENCE_SLICE = 250;

export interface StartRulesOptions {
  config: Config;
  log: Logger;
  metrics: MetricsRegistry;
  /** The registry (its device directory is used), or a directory already built. */
  registry: Registry | { devices: DeviceLookup };
  now?: () => number;
  /** Rule defaults directory (tests). */
  defaultsDir?: string;
}

export interface RulesService extends Service {
  /** Resolves once connected and subscribed the first time. */
  ready: Promise<void>;
  store: AlarmStore;
  engine: Engine;
  notifier: Notifier;
  rules(): RuleSet;
  /** Whether this process publishes the alarm outbox now (elected among the rules processes of the store). */
  publishing(): boolean;
  /** Reloads the rule files; keeps the current rules and returns the error when the new ones are invalid. */
  reload(): Error | undefined;
  /** Waits until every store write is done and every change is published (tests, benchmarks). */
  settle(timeoutMs?: number): Promise<void>;
  client: MqttClient;
}

export async function startRules(options: StartRulesOptions): Promise<RulesService> {
  const { config, metrics } = options;
  const cfg = config.rules;
  const log = options.log.child({ component: 'rules' });
  const now = options.now ?? Date.now;
  const store = await openAlarmStore(alarmStoreTarget(config), { now, maxShelveMs: cfg.maxShelveHours * 3_600_000, log });
  let ruleSet: RuleSet;
  try {
    ruleSet = loadRuleSet(cfg.files, { defaultsDir: options.defaultsDir, now });
  } catch (err) {
    await store.dispose();
    throw err;
  }
  const devices: DeviceLookup =
    'devices' in options.registry && typeof options.registry.devices === 'object'
      ? options.registry.devices
      : (() => {
          const registry = options.registry as Registry;
          return Object.assign(deviceDirectory(registry), { refresh: () => void registry.pollChanges().catch(() => undefined) });
        })();
  const reloads = counter(metrics, 'hazwatch_rules_reloads_total', 'Rule file reloads', ['outcome']);

  let tailers: Tailer[] = [];
  const kickAll = () => {
    for (const t of tailers) void t.kick();
  };
  // Each rules process tells the presence of the devices it judges: retained on each device's presence
  // topic at every change, and in the registry (last heard, next due) for `hazwatch device list` and the console.
  let publishPresence: (device: DeviceRecord, report: PresenceReport) => void = () => undefined;
  const engine = createEngine({
    store,
    rules: () => ruleSet,
    devices,
    log,
    metrics,
    now,
    grade1RaisesLevel: cfg.grade1RaisesLevel,
    onWrite: kickAll,
    onPresence: (d, r) => publishPresence(d, r),
    enterprises: cfg.enterprises,
    expire: () => publisher?.leader === true,
  });
  // Built before connecting: a failure here stops the start with nothing left open.
  let notifier: Notifier;
  // Routes to whoever is on duty: the roster's chain, and the outbox the API nodes send from.
  const dutyRouted = cfg.notify.routes.some((r) => r.duty);
  const roster = dutyRouted ? await openRoster(rosterTarget(config), { now, log }) : undefined;
  const outbox = dutyRouted ? await openOutbox(warningsTarget(config), { now, log }) : undefined;
  try {
    await engine.start();
    notifier = createNotifier({
      ...(roster && outbox ? { duty: { people: rosterPeople(roster), outbox, channels: config.dispatch.channels } } : {}),
      store,
      config: cfg.notify,
      log,
      metrics,
      now,
      hazardGrade: (e, d) => {
        const device = devices.get(e, d);
        return device ? hazardGrade(device) : undefined;
      },
    });
  } catch (err) {
    await store.dispose();
    await roster?.close();
    await outbox?.close();
    throw err;
  }

  const clientId = cfg.clientId ?? config.mqtt.username ?? serviceUsername('rules');
  const client = mqtt.connect(config.mqtt.url, serviceSession(config, clientId));
  coalesceClientWrites(client);
  const acksHeld = gauge(metrics, 'hazwatch_rules_acks_held', 'PUBACKs waiting until what their messages changed is in the alarm store');
  publishPresence = (d, r) => {
    const payload: PresencePayload = { state: r.state, reason: r.reason, mode: r.mode, heardAt: r.heardAt, nextExpectedAt: r.nextExpectedAt, offlineAt: r.offlineAt, ts: r.ts };
    // Sent when connected, queued by the client meanwhile; the next change supersedes it anyway.
    client.publish(topicFor(d.enterprise, d.id, 'presence'), JSON.stringify(payload), { qos: 1, retain: true }, (err) => {
      if (err) log.debug({ err: err.message, device: `${d.enterprise}/${d.id}` }, 'presence not published');
    });
  };
  const registryWriter = !('devices' in options.registry && typeof options.registry.devices === 'object') ? (options.registry as Registry) : undefined;
  const channels = ['telemetry', 'event', 'status'] as const;
  // A rules process restricted to some enterprises leaves the platform's own alarms to the others.
  const platform = cfg.enterprises.length ? undefined : platformWatcher({ store, log, now, clearDelayMs: cfg.platformClearS * 1000, onWrite: kickAll });
  const filters = platform ? [...channels.map((c) => channelFilter(c)), platform.filter] : cfg.enterprises.flatMap((e) => channels.map((c) => channelFilter(c, e)));
  let resolveReady!: () => void;
  const ready = new Promise<void>((resolve) => (resolveReady = resolve));
  client.on('connect', (connack) => {
    log.info({ url: config.mqtt.url, clientId, sessionPresent: connack.sessionPresent }, 'connected to the broker');
    subscribeWithDeadline(client, filters, log, (err) => {
      if (err) log.error({ err }, 'subscription refused');
      else {
        lastErrorLog = 0;
        log.info({ url: config.mqtt.url, clientId }, 'rules connected and subscribed');
        resolveReady();
      }
    });
  });
  // While the broker is away the client retries every second: log the first failure and then once a minute.
  let lastErrorLog = 0;
  client.on('error', (err) => {
    if (Date.now() - lastErrorLog < 60_000) return;
    lastErrorLog = Date.now();
    log.warn({ err: err.message, url: config.mqtt.url }, 'MQTT error; retrying every second');
  });
  const parseTopic = topicParser();
  const onMessage = (topic: string, payload: Buffer) => {
    try {
      if (platform && topic.startsWith(PLATFORM_TOPIC_PREFIX + '/')) return platform.handle(topic, payload);
      const t = parseTopic(topic);
      if (!t) return;
      if (t.channel === 'telemetry') engine.telemetry(t.enterprise, t.device, payload);
      else if (t.channel === 'event') engine.event(t.enterprise, t.device, payload);
      else if (t.channel === 'status') engine.status(t.enterprise, t.device, payload);
    } catch (err) {
      // Bad input never stops the engine.
      log.error({ err, topic }, 'evaluation failed');
    }
  };
  const registryOf = typeof (options.registry as Registry).pollChanges === 'function' ? (options.registry as Registry) : undefined;
  const knownSender = (topic: string, _payload: Buffer): boolean => {
    const t = parseTopic(topic);
    return !t || devices.get(t.enterprise, t.device) !== undefined;
  };
  const held = registryOf ? heldForRegistry(registryOf, knownSender, onMessage, { now }) : undefined;
  // PUBACKs wait for the store (rules/ack-gate.ts); a message held for the registry (a device registered
  // a moment ago) is evaluated later, and its PUBACK waits for that too.
  const acks = gateAcks(client, held ?? onMessage, () => {
    const holding = held?.holding();
    return holding ? holding.then(() => engine.written()) : engine.written();
  });


  const engineTailer = createTailer({ store, name: 'engine', cursor: 'memory', handle: (c) => engine.applyChanges(c), log, metrics, pollMs: cfg.pollMs });
  tailers.push(engineTailer);
  await engineTailer.start();
  const writer = cfg.writeInflux ? createWriter(config.ingest.influx) : undefined;
  if (!writer) log.warn('alarm changes are not written to InfluxDB (rules.writeInflux off or ingest.influx.kind none)');

  // The publisher's work: the persisted outbox cursors continue where the last publisher left them
  // (at least once: a change published just before a take-over may go out twice, with its seq).
  const publishingTailers = (): Tailer[] => {
    const list = [createTailer({ store, name: 'mqtt', cursor: 'persist', handle: mqttAlarmSink(client), log, metrics, pollMs: cfg.pollMs })];
    if (writer) {
      const sink = influxAlarmSink(writer);
      list.push(
        createTailer({
          store,
          name: 'influx',
          cursor: 'persist',
          handle: async (changes) => {
            try {
              await sink(changes);
            } catch (err) {
              // A point the database refuses for good must not block every later one: logged and skipped.
              if ((err as { failure?: string }).failure === 'refused') log.error({ err, seqs: [changes[0].change.seq, changes[changes.length - 1].change.seq] }, 'InfluxDB refused alarm_event points; skipped');
              else throw err;
            }
          },
          log,
          metrics,
          pollMs: Math.max(cfg.pollMs, 1000),
        }),
      );
    }
    list.push(createTailer({ store, name: NOTIFY_CURSOR, cursor: 'handler', handle: (c) => notifier.handle(c), log, metrics, pollMs: cfg.pollMs }));
    return list;
  };
  const publisherGauge = gauge(metrics, 'hazwatch_rules_publisher', 'Whether this rules process is the elected publisher of the alarm outbox (1) or stands by (0)');
  publisherGauge.set(0);
  let publisher: Leadership | undefined;
  if (cfg.publish) {
    publisher = electLeader(alarmStoreTarget(config), 'rules-publisher', {
      log,
      retryMs: cfg.electionMs,
      async onElected() {
        const list = publishingTailers();
        try {
          for (const t of list) await t.start();
          await notifier.start();
        } catch (err) {
          for (const t of list) await t.stop();
          throw err;
        }
        tailers = [engineTailer, ...list];
        publisherGauge.set(1);
      },
      async onDeposed() {
        publisherGauge.set(0);
        const list = tailers.filter((t) => t !== engineTailer);
        tailers = [engineTailer];
        for (const t of list) await t.stop();
        await notifier.stop();
      },
    });
    await publisher.decided;
    if (!publisher.leader) log.info('another rules process publishes the alarm changes; this one stands by to take over');
  } else log.info('rules.publish is off: another rules process publishes the alarm changes and sends notifications');

  // The presence of every device heard from, written to the registry every 5 s in slices, each its own
  // transaction with a loop turn between: 5,000 devices in one went 40–170 ms without a turn of the event
  // loop, and a reading that raises an alarm waited behind it (bench:fleet's alarm p99).
  let presenceWriting = false;
  async function writePresence(writer: Registry): Promise<void> {
    if (presenceWriting) return;
    presenceWriting = true;
    try {
      // What waits now, not what is heard meanwhile: under load that would keep the loop writing.
      for (let left = engine.presencesWaiting(); left > 0; left -= PRESENCE_SLICE) {
        const slice = engine.presences(PRESENCE_SLICE);
        if (!slice.length) return;
        try {
          await writer.writePresence(slice.map(({ device, report: r }) => ({
            enterprise: device.enterprise, device: device.id, state: r.state, reason: r.reason, heardAt: r.heardAt, nextExpectedAt: r.nextExpectedAt, offlineAt: r.offlineAt, updatedAt: r.ts,
          })));
        } catch (err) {
          engine.presencesNotWritten(slice.map((p) => p.device));
          log.warn({ err }, 'presence not written to the registry; retried in 5 s');
          return;
        }
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      presenceWriting = false;
    }
  }

  // platform_rules health points (docs/storage.md), every 10 s.
  const instance = hostname().replace(/[^A-Za-z0-9_.-]/g, '-') || 'rules';
  let ticks = 0;
  const tick = setInterval(() => {
    void (async () => {
      acksHeld.set(acks.held());
      await engine.tick();
      if (registryWriter && ticks % Math.max(1, Math.round(5_000 / cfg.tickMs)) === 0) writePresence(registryWriter).catch((err) => log.error({ err }, 'writing presence failed'));
      if (++ticks % Math.max(1, Math.round(10_000 / cfg.tickMs)) === 0) {
        try {
          const active = await store.activeInstances();
          engine.refreshMetrics(active);
          if (writer) {
            const value = async (name: string) => ((await metrics.getSingleMetric(name)?.get())?.values ?? []).reduce((s, v) => s + v.value, 0);
            await writer.write(
              `platform_rules,instance=${instance} evaluated=${await value('hazwatch_rules_readings_total')},alarms_active=${active.length}i,alarm_changes=${await value('hazwatch_rules_alarm_changes_total')} ${now()}`,
            );
          }
        } catch (err) {
          log.debug({ err }, 'platform_rules health not written');
        }
      }
    })().catch((err) => log.error({ err }, 'rules tick failed'));
  }, cfg.tickMs);

  // Rule files are data: reloaded on change (debounced) and on SIGHUP, without restart.
  function reload(): Error | undefined {
    try {
      ruleSet = loadRuleSet(cfg.files, { defaultsDir: options.defaultsDir, now });
      reloads.inc({ outcome: 'ok' });
      log.info({ files: ruleSet.files.length }, 'rules reloaded');
      return undefined;
    } catch (err) {
      reloads.inc({ outcome: 'error' });
      log.error({ err: (err as Error).message }, 'rule files invalid: keeping the rules in force');
      return err as Error;
    }
  }
  let debounce: NodeJS.Timeout | undefined;
  const watchers: FSWatcher[] = [];
  for (const path of cfg.files) {
    try {
      watchers.push(
        watch(path, () => {
          clearTimeout(debounce);
          debounce = setTimeout(reload, 300);
        }),
      );
    } catch (err) {
      log.warn({ err, path }, 'cannot watch rule file; reload with SIGHUP');
    }
  }
  const onHup = () => void reload();
  process.on('SIGHUP', onHup);

  async function settle(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      await engine.idle();
      await platform?.settle();
      const ok = await Promise.all(tailers.map((t) => t.drain(Math.max(1, deadline - Date.now()))));
      await notifier.idle();
      if (ok.every(Boolean) || Date.now() > deadline) return;
    }
  }

  return {
    name: 'rules',
    ready,
    store,
    engine,
    notifier,
    client,
    rules: () => ruleSet,
    publishing: () => publisher?.leader === true,
    reload,
    settle,
    async close() {
      clearInterval(tick);
      platform?.close();
      clearTimeout(debounce);
      for (const w of watchers) w.close();
      process.off('SIGHUP', onHup);
      // Publish what was decided before leaving; what is left is published at the next start.
      await settle(3000).catch(() => undefined);
      // Standing down releases the role at once, so a standby takes over without waiting for a timeout.
      await publisher?.close();
      await engineTailer.stop();
      await client.endAsync().catch(() => undefined);
      await engine.idle();
      await store.dispose();
      await roster?.close();
      await outbox?.close();
    },
  };
}
