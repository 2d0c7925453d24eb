// Publishing with the gateway's credentials on each device's own topics (contract/topics.ts):
// readings and events go through the outbox (QoS 1, deleted on PUBACK, replayed in batches with their
// original timestamps after an outage); status is retained and re-sent on every reconnect; the gateway's
// own status topic carries its MQTT will. Rejections the platform sends back are logged and counted.
import mqtt, { type MqttClient } from 'mqtt';
import type { Registry as MetricsRegistry } from 'prom-client';
import { DEFAULT_LIMITS, parseJson, ErrorPayload } from '../contract/payloads.ts';
import { parseTopic, topicFor } from '../contract/topics.ts';
import type { Logger } from '../core/log.ts';
import { counter, gauge } from '../core/metrics.ts';
import type { Outbox, OutboxRow } from './outbox.ts';
import type { DeviceEvent } from './reporter.ts';

export interface PublisherOptions {
  url: string;
  enterprise: string;
  gateway: string;
  username?: string;
  password?: string;
  outbox: Outbox;
  /** Platform devices this gateway feeds; status and error topics of others are ignored. */
  devices: string[];
  log: Logger;
  metrics: MetricsRegistry;
  reconnectMs?: number;
  /** Readings per batch message when replaying; at most the contract's limit. */
  maxBatch?: number;
}

export interface Publisher {
  reading(device: string, ts: number, values: Record<string, number | boolean>): void;
  event(device: string, ts: number, event: DeviceEvent): void;
  status(device: string, state: 'online' | 'offline', ts: number): void;
  /** Resolves when the outbox is empty (tests, shutdown). */
  idle(): Promise<void>;
  readonly connected: boolean;
  close(): Promise<void>;
}

export function startPublisher(options: PublisherOptions): Publisher {
  const { enterprise, gateway, outbox, log } = options;
  const maxBatch = Math.min(options.maxBatch ?? 200, DEFAULT_LIMITS.maxBatch);
  const ours = new Set(options.devices);
  const username = options.username ?? `${enterprise}/${gateway}`;
  const gatewayStatusTopic = topicFor(enterprise, gateway, 'status');
  const published = counter(options.metrics, 'hazwatch_gateway_published_total', 'Messages acknowledged by the broker, by channel', ['channel']);
  const rejected = counter(options.metrics, 'hazwatch_gateway_rejections_total', 'Rejections the platform reported on the error topic of a device of this gateway, by code', ['code']);
  const outboxRows = gauge(options.metrics, 'hazwatch_gateway_outbox_rows', 'Readings and events waiting in the outbox');
  const publishFailures = counter(options.metrics, 'hazwatch_gateway_publish_failures_total', 'Publishes that failed and stay in the outbox for a retry');
  const readings = counter(options.metrics, 'hazwatch_gateway_readings_total', 'Readings taken and put in the outbox, by platform device', ['device']);
  const events = counter(options.metrics, 'hazwatch_gateway_events_total', 'Device events put in the outbox, by platform device and type', ['device', 'type']);
  const statuses = new Map<string, { state: 'online' | 'offline'; ts: number }>();
  let draining: Promise<void> | undefined;
  let closing = false;
  let retryTimer: NodeJS.Timeout | undefined;

  const client: MqttClient = mqtt.connect(options.url, {
    clientId: username,
    username,
    password: options.password,
    clean: true,
    reconnectPeriod: options.reconnectMs ?? 2000,
    connectTimeout: 10_000,
    // A refused CONNECT (server unavailable, a password being rotated) must not end the gateway's tries.
    reconnectOnConnackError: true,
    will: { topic: gatewayStatusTopic, payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: true },
  });

  client.on('connect', () => {
    log.info({ url: options.url, username, backlog: outbox.size() }, 'connected to broker');
    const now = Date.now();
    publishStatus(gatewayStatusTopic, 'online', now);
    for (const [device, s] of statuses) publishStatus(topicFor(enterprise, device, 'status'), s.state, s.ts);
    client.subscribe(topicFor(enterprise, '+', 'error'), { qos: 1 }, (err) => {
      if (err) log.warn({ err: err.message }, 'cannot subscribe to error topics: rejections will not be logged');
    });
    void drain();
  });
  // One line per change of trouble: a broker down for an hour must not write a line per retry.
  let wasConnected = false;
  let lastError = '';
  client.on('connect', () => {
    wasConnected = true;
    lastError = '';
  });
  client.on('close', () => {
    if (!closing && wasConnected) log.warn({ backlog: outbox.size() }, 'broker connection lost: buffering in the outbox');
    wasConnected = false;
  });
  const reconnectMs = options.reconnectMs ?? 2000;
  client.on('connect', () => {
    client.options.reconnectPeriod = reconnectMs;
  });
  client.on('error', (err) => {
    const code = (err as { code?: unknown }).code;
    if (code === 4 || code === 5) {
      // Refused credentials do not heal by retrying fast, and fast retries get the site's address banned
      // by the broker (broker.ban): retry once a minute until someone fixes the password.
      client.options.reconnectPeriod = Math.max(reconnectMs, 60_000);
      if (err.message !== lastError) log.error({ code: 'HW_ERR_AUTH_BAD_CREDENTIALS', username, backlog: outbox.size() }, `broker refused the gateway's credentials (${err.message}): retrying every minute, buffering in the outbox`);
    } else if (err.message !== lastError) log.warn({ err: err.message, backlog: outbox.size() }, 'broker connection error: buffering in the outbox');
    lastError = err.message;
  });
  client.on('message', (topic, payload) => {
    const t = parseTopic(topic);
    if (!t || t.channel !== 'error' || !ours.has(t.device)) return;
    const json = parseJson(payload);
    const parsed = 'json' in json ? ErrorPayload.safeParse(json.json) : undefined;
    if (!parsed?.success) return;
    rejected.inc({ code: parsed.data.code });
    log.warn({ device: t.device, ...parsed.data }, 'platform rejected a message of this gateway');
  });

  function publishStatus(topic: string, state: 'online' | 'offline', ts: number): void {
    if (!client.connected) return;
    client.publish(topic, JSON.stringify({ state, ts }), { qos: 1, retain: true }, (err) => {
      if (err) log.warn({ topic, err: err.message }, 'status publish failed; it is sent again on reconnect');
    });
  }

  function messages(rows: OutboxRow[]): { topic: string; payload: string; ids: number[]; channel: string }[] {
    const out: { topic: string; payload: string; ids: number[]; channel: string }[] = [];
    const batches = new Map<string, { readings: unknown[]; ids: number[] }[]>();
    for (const row of rows) {
      if (row.channel === 'event') {
        out.push({ topic: topicFor(enterprise, row.device, 'event'), payload: row.body, ids: [row.id], channel: 'event' });
        continue;
      }
      const list = batches.get(row.device) ?? [];
      let last = list[list.length - 1];
      if (!last || last.readings.length >= maxBatch) {
        last = { readings: [], ids: [] };
        list.push(last);
      }
      last.readings.push(JSON.parse(row.body));
      last.ids.push(row.id);
      batches.set(row.device, list);
    }
    for (const [device, list] of batches) {
      for (const b of list) {
        const payload = b.readings.length === 1 ? JSON.stringify(b.readings[0]) : JSON.stringify({ readings: b.readings });
        out.push({ topic: topicFor(enterprise, device, 'telemetry'), payload, ids: b.ids, channel: 'telemetry' });
      }
    }
    return out;
  }

  async function drainLoop(): Promise<void> {
    while (client.connected && outbox.size() > 0) {
      const rows = outbox.peek(maxBatch * 4);
      if (!rows.length) break;
      const msgs = messages(rows);
      const results = await Promise.allSettled(msgs.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1 })));
      const done: number[] = [];
      results.forEach((r, i) => {
        if (r.status === 'fulfilled') {
          done.push(...msgs[i].ids);
          published.inc({ channel: msgs[i].channel });
        } else publishFailures.inc();
      });
      outbox.remove(done);
      outboxRows.set(outbox.size());
      if (done.length < rows.length) {
        // Some publishes failed (connection lost meanwhile): retry after the next connect or shortly.
        clearTimeout(retryTimer);
        retryTimer = setTimeout(() => void drain(), 1000);
        return;
      }
    }
  }

  function drain(): Promise<void> {
    if (draining) return draining;
    draining = drainLoop()
      .catch((err) => log.error({ err: (err as Error).message }, 'outbox drain failed'))
      .finally(() => {
        draining = undefined;
        // Rows pushed after the loop's last look are picked up here.
        if (client.connected && outbox.size() > 0 && !closing) void drain();
      });
    return draining;
  }

  function enqueue(device: string, channel: 'telemetry' | 'event', body: unknown): void {
    outbox.push(device, channel, body);
    outboxRows.set(outbox.size());
    if (client.connected && !draining) void drain();
  }

  return {
    get connected() {
      return client.connected;
    },
    reading(device, ts, values) {
      readings.inc({ device });
      enqueue(device, 'telemetry', { ts, values });
    },
    event(device, ts, event) {
      events.inc({ device, type: event.type });
      enqueue(device, 'event', { ts, ...event });
    },
    status(device, state, ts) {
      statuses.set(device, { state, ts });
      publishStatus(topicFor(enterprise, device, 'status'), state, ts);
    },
    async idle() {
      while (outbox.size() > 0 || draining) {
        if (draining) await draining;
        else await new Promise((r) => setTimeout(r, 20));
      }
    },
    async close() {
      closing = true;
      clearTimeout(retryTimer);
      if (client.connected) {
        // A stopped gateway watches nothing: say so for its devices and for itself.
        const now = Date.now();
        const offline = JSON.stringify({ state: 'offline', ts: now });
        await Promise.allSettled([
          ...[...statuses.keys()].map((d) => client.publishAsync(topicFor(enterprise, d, 'status'), offline, { qos: 1, retain: true })),
          client.publishAsync(gatewayStatusTopic, offline, { qos: 1, retain: true }),
        ]);
        if (draining) await Promise.race([draining, new Promise((r) => setTimeout(r, 2000))]);
      }
      await client.endAsync(!client.connected);
    },
  };
}
