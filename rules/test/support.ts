// Test helpers of the rules engine: a rules service against the real test broker, a device client,
// and an alarm-topic watcher.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { AlarmEventPayload } from '../../contract/alarms.ts';
import { topicFor } from '../../contract/topics.ts';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import type { NewDevice } from '../../registry/registry.ts';
import type { TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { startRules, type RulesService } from '../service.ts';

export function rulesConfig(broker: TestBroker, rules: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return loadConfig({
    env: {},
    overrides: {
      dataDir: mkdtempSync(join(tmpdir(), 'hw-rules-')),
      mqtt: { url: broker.url, username: broker.service.username, password: broker.service.password },
      // Own client id per test service: a persistent session is per client id.
      rules: { tickMs: 100, pollMs: 50, clientId: `${broker.service.clientId}:rules-${Math.random().toString(36).slice(2, 8)}`, ...rules },
      ...extra,
    },
  });
}

/** Everything a test opened, closed after it whether it passed or not. */
export const cleanup: (() => Promise<unknown>)[] = [];

export async function closeAll(): Promise<void> {
  while (cleanup.length) await cleanup.pop()!().catch(() => undefined);
}

export async function startTestRules(broker: TestBroker, config: ReturnType<typeof rulesConfig>): Promise<RulesService> {
  const service = await startRules({ config, log: silentLogger(), metrics: createMetricsRegistry(), registry: broker.registry });
  cleanup.push(() => service.close());
  await service.ready;
  return service;
}

export async function device(broker: TestBroker, d: NewDevice, will = false): Promise<MqttClient & { send(channel: 'telemetry' | 'event' | 'status', body: unknown): Promise<void> }> {
  const creds = await broker.registry.addDevice(d);
  const client = await mqtt.connectAsync(broker.url, {
    username: creds.username,
    password: creds.password,
    clientId: creds.clientId,
    reconnectPeriod: 0,
    keepalive: 60,
    ...(will ? { will: { topic: topicFor(d.enterprise, d.id, 'status'), payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1 as const, retain: true } } : {}),
  });
  cleanup.push(() => client.endAsync());
  return Object.assign(client, {
    async send(channel: 'telemetry' | 'event' | 'status', body: unknown) {
      await client.publishAsync(topicFor(d.enterprise, d.id, channel), JSON.stringify(body), { qos: 1, retain: channel === 'status' });
    },
  });
}

/** Subscribes to every alarm topic and collects the changes (validated against the contract). */
export async function alarmWatcher(broker: TestBroker, suffix: string) {
  const client = await mqtt.connectAsync(broker.url, { ...broker.service, clientId: `${broker.service.clientId}:${suffix}`, reconnectPeriod: 0 });
  const changes: AlarmEventPayload[] = [];
  client.on('message', (_t, payload) => changes.push(AlarmEventPayload.parse(JSON.parse(payload.toString()))));
  cleanup.push(() => client.endAsync());
  await client.subscribeAsync('hw/v1/+/+/alarm', { qos: 1 });
  return {
    changes,
    /** Changes of one device, deduplicated by seq (at-least-once delivery). */
    of(device: string) {
      const seen = new Set<number>();
      return changes.filter((c) => c.alarm.device === device && !seen.has(c.change.seq) && seen.add(c.change.seq));
    },
    async waitFor(pred: (c: AlarmEventPayload[]) => boolean, timeoutMs = 10_000) {
      await waitFor(() => pred(changes), timeoutMs, 20);
    },
    close: () => client.endAsync(),
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
