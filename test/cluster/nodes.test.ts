// The node roles of a cluster, each with its own connections to one PostgreSQL (database.url), in one
// test process: broker and rules on "node A", ingest on "node B", the API and console on "node C".
// A device registered through node C connects at once and reports a dangerous reading: the reading is
// stored once (ingest, which learnt of the device a moment ago), and its alarm, raised by node A's
// rules, shows on node C's live stream and is signed for there.
import mqtt from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { loadConfig, type Config } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startApi, type ApiService } from '../../api/start.ts';
import { startIngest, type IngestService } from '../../ingest/service.ts';
import { openRegistry, type Registry } from '../../registry/registry.ts';
import { startRules, type RulesService } from '../../rules/service.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { createTestDatabase, influxQuery } from '../support/influx.ts';
import { waitFor } from '../support/net.ts';
import { createTestPostgres } from '../support/postgres.ts';

const ADMIN = { username: 'admin', password: 'admin-password-1' };
let database: Awaited<ReturnType<typeof createTestPostgres>>;
let influx: Awaited<ReturnType<typeof createTestDatabase>>;
let broker: TestBroker;
let ingest: IngestService;
let rules: RulesService;
let api: ApiService;
const registries: Registry[] = [];
const dirs: string[] = [];

/** The configuration of one node: its own data directory, the shared PostgreSQL and InfluxDB. */
async function nodeConfig(service: string): Promise<Config> {
  const dir = mkdtempSync(join(tmpdir(), `hazwatch-${service}-`));
  dirs.push(dir);
  const creds = await broker.registry.setService(service);
  return loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      database: { url: database.url },
      mqtt: { url: broker.url, username: creds.username, password: creds.password },
      ingest: { instance: service, influx: { kind: 'v1', url: influx.url, database: influx.db }, batch: { flushMs: 100 } },
      rules: { pollMs: 50 },
      api: { port: 0, adminPassword: ADMIN.password },
    },
  });
}

async function ownRegistry(): Promise<Registry> {
  const r = await openRegistry(database.url);
  registries.push(r);
  return r;
}

beforeAll(async () => {
  database = await createTestPostgres('hw_cluster');
  influx = await createTestDatabase('hw_cluster');
  broker = await startTestBroker({ registryPath: database.url });
  const log = silentLogger();
  ingest = await startIngest({ config: await nodeConfig('ingest'), log, metrics: createMetricsRegistry(), registry: await ownRegistry() });
  rules = await startRules({ config: await nodeConfig('rules'), log, metrics: createMetricsRegistry(), registry: await ownRegistry() });
  api = await startApi({ config: await nodeConfig('api'), log, metrics: createMetricsRegistry(), registry: await ownRegistry() });
  await Promise.all([ingest.ready, rules.ready]);
}, 90_000);

afterAll(async () => {
  await api?.close();
  await rules?.close();
  await ingest?.close();
  for (const r of registries) await r.close();
  await broker?.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  await influx?.drop();
  await database?.drop();
});

test('registered on the API node, stored by ingest on another, alarmed by rules on a third, signed for on the API node', async () => {
  const call = async (method: string, path: string, token?: string, body?: unknown) => {
    const res = await fetch(`${api.url}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const token = (await call('POST', '/api/v1/session', undefined, ADMIN)).body.token as string;
  expect((await call('POST', '/api/v1/enterprises', token, { id: 'acme', name: 'Acme' })).status).toBe(201);
  const stream = await fetch(`${api.url}/api/v1/stream?values=false`, { headers: { authorization: `Bearer ${token}` } });
  const reader = stream.body!.getReader();
  let text = '';
  const until = async (needle: string) => {
    while (!text.includes(needle)) text += new TextDecoder().decode((await reader.read()).value);
  };
  await until('event: hello');

  const created = await call('POST', '/api/v1/enterprises/acme/devices', token, { id: 'gas-1', class: 'gas_combustible' });
  expect(created.status).toBe(201);
  const creds = created.body as { username: string; password: string; clientId: string };
  // At once: no node has had its periodic look at the registry since the device was registered.
  const device = await mqtt.connectAsync(broker.url, { username: creds.username, password: creds.password, clientId: creds.clientId, reconnectPeriod: 0 });
  const ts = Date.now();
  await device.publishAsync('hw/v1/acme/gas-1/telemetry', JSON.stringify({ ts, values: { lel: 60 } }), { qos: 1 });
  await device.publishAsync('hw/v1/acme/gas-1/telemetry', JSON.stringify({ ts: ts + 1, values: { lel: 61 } }), { qos: 1 });

  await until('"action":"raised"');
  const raised = text.match(/"alarm":\{"id":"([0-9a-f-]{36})"/)![1];
  expect(text).toContain('HW_ALM_GAS_LEL_HIGH');
  expect((await call('POST', `/api/v1/alarms/${raised}/acknowledge`, token, {})).status).toBe(200);
  await until('"action":"acknowledged"');
  await reader.cancel();

  const count = async (q: string) => Number((await influxQuery(influx.db, q)).results[0].series?.[0]?.values[0]?.[1] ?? 0);
  await waitFor(async () => (await count(`SELECT count("lel") FROM gas_combustible WHERE device = 'gas-1'`)) === 2, 20_000);
  // Its first message, the broker's "online" for it, is stored too: not refused as an unknown device.
  expect(await count(`SELECT count("online") FROM device_status WHERE device = 'gas-1'`)).toBe(1);
  await device.endAsync();
});
