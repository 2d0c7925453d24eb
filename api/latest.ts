// The latest value of every metric of every device, kept in memory from the MQTT telemetry, event and
// status topics (as service account svc:api). Values are checked with the same contract code as
// ingest, so the console never shows a reading the platform refused.
import mqtt, { type MqttClient } from 'mqtt';
import type { Registry as MetricsRegistry } from 'prom-client';
import { channelFilter, interpretEvent, interpretTelemetry, parseTopic } from '../contract/index.ts';
import { PLATFORM_TOPIC_PREFIX } from '../contract/topics.ts';
import { judgePresence, presencePolicy, type Presence, type PresenceDevice } from '../contract/presence.ts';
import { counter } from '../core/metrics.ts';
import type { Logger } from '../core/log.ts';

export interface LatestValue {
  value: number | boolean;
  ts: number;
}

export interface DeviceLatest {
  enterprise: string;
  device: string;
  values: Record<string, LatestValue>;
  /** Receive time of the last message (telemetry, event, `online` status), or the last one rules recorded. */
  lastSeen: number | null;
  /** Retained status topic: online/offline of its connection as the device (or its last will) said. */
  status: 'online' | 'offline' | null;
  /** Since when its connection is reported lost; null while up. */
  linkLostAt: number | null;
  /** Conditions the device itself reports as active (fault, tamper, alarm_stage2, ...). */
  activeEvents: string[];
}

export interface DeviceLookup {
  get(enterprise: string, id: string): (PresenceDevice & { createdAt?: number }) | undefined;
}

/** The console's view of a device's presence: contract/presence.ts on what the API has seen. */
export interface DevicePresence extends Presence {
  mode: 'always' | 'intermittent';
  lastHeardAt: number | null;
}

export interface LatestStore {
  get(enterprise: string, device: string): DeviceLatest | undefined;
  all(): DeviceLatest[];
  /** Judged as rules judge it (contract/presence.ts); never heard = offline since watching began. */
  presence(enterprise: string, device: string, record: PresenceDevice & { createdAt?: number }): DevicePresence;
  onUpdate(listener: (latest: DeviceLatest) => void): () => void;
  /** Applies one MQTT message; exported for tests and for feeding without a broker. */
  apply(topic: string, payload: Buffer, receivedAt?: number): void;
  /** The retained states the platform's processes publish on hw/platform/<service>/<instance> (ingest's spool, northbound's backlog). */
  platform(): PlatformState[];
}

export interface PlatformState {
  service: string;
  instance: string;
  state: unknown;
  receivedAt: number;
}

export function createLatestStore(options: {
  devices: DeviceLookup;
  /** When rules last heard of each device (the registry's presence table): an API restart does not forget. */
  heardBefore?: { enterprise: string; device: string; heardAt: number | null }[];
  now?: () => number;
  metrics?: MetricsRegistry;
}): LatestStore {
  const now = options.now ?? Date.now;
  const startedAt = now();
  const latest = new Map<string, DeviceLatest>();
  const platform = new Map<string, PlatformState>();
  const listeners = new Set<(l: DeviceLatest) => void>();
  const messages = options.metrics ? counter(options.metrics, 'hazwatch_api_device_messages_total', 'Device messages seen by the API for its latest values', ['channel', 'outcome']) : undefined;
  const entry = (enterprise: string, device: string): DeviceLatest => {
    const key = `${enterprise}/${device}`;
    let l = latest.get(key);
    if (!l) latest.set(key, (l = { enterprise, device, values: {}, lastSeen: null, status: null, linkLostAt: null, activeEvents: [] }));
    return l;
  };
  for (const p of options.heardBefore ?? []) if (p.heardAt !== null) entry(p.enterprise, p.device).lastSeen = p.heardAt;
  return {
    get: (enterprise, device) => latest.get(`${enterprise}/${device}`),
    all: () => [...latest.values()],
    presence(enterprise, device, record) {
      const l = latest.get(`${enterprise}/${device}`);
      const policy = presencePolicy(record);
      // Never heard: silence counts from when watching began or the device was registered, as in rules.
      const heardAt = l?.lastSeen ?? Math.max(startedAt, record.createdAt ?? 0);
      const p = judgePresence(policy, { heardAt, linkLostAt: l?.linkLostAt ?? null }, now());
      return { ...p, mode: policy.mode, lastHeardAt: l?.lastSeen ?? null };
    },
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    platform: () => [...platform.values()].sort((a, b) => `${a.service}/${a.instance}`.localeCompare(`${b.service}/${b.instance}`)),
    apply(topic, payload, receivedAt = now()) {
      if (topic.startsWith(`${PLATFORM_TOPIC_PREFIX}/`)) {
        const [service, instance, ...rest] = topic.slice(PLATFORM_TOPIC_PREFIX.length + 1).split('/');
        if (!service || !instance || rest.length) return;
        // An empty retained message takes a stopped process's state away.
        if (payload.length === 0) platform.delete(`${service}/${instance}`);
        else {
          let state: unknown;
          try {
            state = JSON.parse(payload.toString('utf8'));
          } catch {
            state = payload.toString('utf8').slice(0, 200);
          }
          platform.set(`${service}/${instance}`, { service, instance, state, receivedAt });
        }
        return;
      }
      const parsed = parseTopic(topic);
      if (!parsed) return;
      const device = options.devices.get(parsed.enterprise, parsed.device);
      if (!device) {
        messages?.inc({ channel: parsed.channel, outcome: 'unknown_device' });
        return;
      }
      const l = entry(parsed.enterprise, parsed.device);
      let changed = false;
      if (parsed.channel === 'telemetry') {
        const result = interpretTelemetry(device.class, payload, receivedAt);
        for (const reading of result.readings) {
          for (const [metric, value] of Object.entries(reading.values)) {
            const prev = l.values[metric];
            // Batches replayed after an outage may be older than what we hold.
            if (!prev || prev.ts <= reading.ts) l.values[metric] = { value, ts: reading.ts };
          }
        }
        changed = result.readings.length > 0;
        messages?.inc({ channel: 'telemetry', outcome: changed ? 'applied' : 'rejected' });
      } else if (parsed.channel === 'event') {
        const result = interpretEvent(device.class, payload, receivedAt);
        if (result.event) {
          const { type, active } = result.event;
          const set = new Set(l.activeEvents);
          if (active && !['heartbeat', 'calibration', 'silence', 'hydrant_draw'].includes(type)) set.add(type);
          else set.delete(type);
          l.activeEvents = [...set].sort();
          changed = true;
        }
        messages?.inc({ channel: 'event', outcome: result.event ? 'applied' : 'rejected' });
      } else if (parsed.channel === 'status') {
        try {
          const state = (JSON.parse(payload.toString('utf8')) as { state?: unknown }).state;
          if (state === 'online' || state === 'offline') {
            l.status = state;
            // The first report of a lost connection counts; `online` is being heard from (as in rules).
            if (state === 'offline') l.linkLostAt ??= receivedAt;
            else {
              l.linkLostAt = null;
              l.lastSeen = receivedAt;
            }
            changed = true;
          }
        } catch {
          /* refused by ingest with a reason sent to the device; nothing to show here */
        }
        messages?.inc({ channel: 'status', outcome: changed ? 'applied' : 'rejected' });
        if (changed) for (const listener of listeners) listener(l);
        return;
      } else return;
      if (changed) {
        l.lastSeen = receivedAt;
        for (const listener of listeners) listener(l);
      }
    },
  };
}

/** Subscribes the store to the broker; returns the client (closed by the caller). */
export function subscribeLatest(store: LatestStore, options: { url: string; username: string; password: string; log: Logger }): MqttClient {
  const client = mqtt.connect(options.url, {
    username: options.username,
    password: options.password,
    clientId: `${options.username}:${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
    clean: true,
    reconnectPeriod: 2000,
    connectTimeout: 10_000,
  });
  let complained = false;
  client.on('connect', () => {
    complained = false;
    options.log.info({ url: options.url }, 'latest values: connected to broker');
    // Every API instance needs every value: no shared subscription. QoS 0: a missed value is
    // replaced by the next one; the record of every reading is ingest's job.
    client.subscribe(
      [channelFilter('telemetry'), channelFilter('event'), channelFilter('status'), `${PLATFORM_TOPIC_PREFIX}/+/+`],
      { qos: 0 },
      (err) => {
        if (err) options.log.error({ err }, 'latest values: subscribe failed');
      },
    );
  });
  // Once per outage, not at every reconnect attempt; readiness (/readyz) tells the state meanwhile.
  client.on('error', (err) => {
    if (!complained) options.log.warn({ err: err.message }, 'latest values: broker connection error; retrying');
    complained = true;
  });
  client.on('message', (topic, payload) => {
    try {
      store.apply(topic, payload);
    } catch (err) {
      options.log.error({ err, topic }, 'latest values: message could not be applied');
    }
  });
  return client;
}
