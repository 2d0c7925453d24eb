// Shared by ingest's tests: configuration in a temporary directory, MQTT helpers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Config } from '../../core/config.ts';
import { createLogger, silentLogger, type LogLevel } from '../../core/log.ts';

export function tempDir(prefix = 'hazwatch-ingest-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export function ingestTestConfig(dataDir: string, over: { mqtt?: Record<string, unknown>; ingest?: Record<string, unknown> } = {}): Config {
  return Config.parse({
    dataDir,
    mqtt: over.mqtt ?? {},
    ingest: {
      instance: 'test',
      healthIntervalS: 3600,
      ...over.ingest,
      batch: { flushMs: 100, ...(over.ingest?.batch as object) },
      retry: { minMs: 100, maxMs: 1000, ...(over.ingest?.retry as object) },
    },
  });
}

export async function connect(url: string, opts: mqtt.IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(url, { reconnectPeriod: 0, ...opts });
}

/** Collects JSON messages on a filter. */
export async function collect(client: MqttClient, filter: string): Promise<{ topic: string; body: Record<string, unknown> }[]> {
  const got: { topic: string; body: Record<string, unknown> }[] = [];
  client.on('message', (topic, payload) => {
    try {
      got.push({ topic, body: JSON.parse(payload.toString()) as Record<string, unknown> });
    } catch {
      got.push({ topic, body: { raw: payload.toString() } });
    }
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return got;
}

/** Silent, unless HAZWATCH_TEST_LOG=<level> asks to see ingest's log while debugging a test. */
export function testLog() {
  const level = process.env.HAZWATCH_TEST_LOG;
  return level ? createLogger({ level: level as LogLevel, destination: process.stderr }) : silentLogger();
}
