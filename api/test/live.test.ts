// Latest values and charts over real parts: a device publishes on our broker; the API (as svc:api)
// keeps the latest values and streams them; ingest stores the readings in the real InfluxDB of the
// global setup, and the API's chart reads them back with InfluxQL. Also the ops server of the other
// processes, over real HTTP.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry, counter } from '../../core/metrics.ts';
import { serveOps } from '../../core/ops-server.ts';
import { startIngest, type IngestService } from '../../ingest/service.ts';
import { createTestDatabase } from '../../test/support/influx.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { startApi, type ApiService } from '../start.ts';

let broker: TestBroker;
let ingest: IngestService;
let api: ApiService;
let device: MqttClient;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let auth: Record<string, string>;

beforeAll(async () => {
  broker = await startTestBroker();
  db = await createTestDatabase('hw_api');
  await broker.registry.addEnterprise('acme', 'Acme');
  const creds = await broker.registry.addDevice({ enterprise: 'acme', id: 'tank-1', class: 'vessel', intervalSeconds: 2, meta: { limits: { level: { HH: 9, H: 8 } } } });
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: broker.dataDir,
      mqtt: { url: broker.url },
      ingest: { instance: 'api-test', influx: { kind: 'v1', url: db.url, database: db.db }, batch: { flushMs: 100 } },
      api: { port: 0, adminPassword: 'admin-password-1' },
    },
  });
  const ingestCreds = await broker.registry.setService('ingest');
  ingest = await startIngest({ config: { ...config, mqtt: { ...config.mqtt, username: ingestCreds.username, password: ingestCreds.password } }, log: silentLogger(), metrics: createMetricsRegistry(), registry: broker.registry });
  await ingest.ready;
  // No MQTT credentials configured: the API provisions its own service account, svc:api.
  api = await startApi({ config, log: silentLogger(), metrics: createMetricsRegistry(), registry: broker.registry });
  device = await mqtt.connectAsync(broker.url, { username: creds.username, password: creds.password, clientId: creds.clientId, reconnectPeriod: 0 });
  const res = await fetch(`${api.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'admin-password-1' }) });
  auth = { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
}, 60_000);

afterAll(async () => {
  await device?.endAsync();
  await api?.close();
  await ingest?.close();
  await broker?.close();
  await db?.drop();
});

const get = async (path: string) => {
  const res = await fetch(`${api.url}${path}`, { headers: auth });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> & { values?: Record<string, { value: number }> } };
};

describe('latest values and charts', () => {
  test('readings published by a device are the latest values, streamed and charted', async () => {
    await waitFor(async () => (await fetch(`${api.url}/readyz`)).status === 200, 10_000);

    // Listen on the live stream before the device speaks.
    const stream = await fetch(`${api.url}/api/v1/stream`, { headers: auth });
    const reader = stream.body!.getReader();
    let text = '';
    const seen = (async () => {
      const decoder = new TextDecoder();
      while (!text.includes('event: latest')) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    })();

    const now = Date.now();
    const readings = [5.1, 5.4, 7.2].map((level, i) => ({ ts: now - (3 - i) * 60_000, values: { level, temperature: 21 + i } }));
    await device.publishAsync('hw/v1/acme/tank-1/telemetry', JSON.stringify({ readings }), { qos: 1 });
    await device.publishAsync('hw/v1/acme/tank-1/telemetry', JSON.stringify({ values: { level: 'high' } }), { qos: 1 }); // refused value: not shown

    await waitFor(async () => (await get('/api/v1/enterprises/acme/devices/tank-1/latest')).body.values?.level?.value === 7.2, 10_000);
    const latest = (await get('/api/v1/enterprises/acme/devices/tank-1/latest')).body;
    expect(latest).toMatchObject({ online: true, values: { level: { value: 7.2, ts: readings[2].ts }, temperature: { value: 23 } } });
    expect((await get('/api/v1/enterprises/acme/devices/tank-1')).body.online).toBe(true);

    await seen;
    await reader.cancel();
    expect(text).toMatch(/event: latest\ndata: \[\{"enterprise":"acme","device":"tank-1"/);

    // The chart reads what ingest stored.
    await waitFor(async () => {
      const chart = (await get('/api/v1/enterprises/acme/devices/tank-1/chart?minutes=60&bucketSeconds=60')).body as { series: { metric: string; points: [number, number | null][] }[] };
      const level = chart.series.find((s) => s.metric === 'level');
      return (level?.points.filter((p) => p[1] !== null).length ?? 0) === 3;
    }, 20_000);
    const chart = (await get('/api/v1/enterprises/acme/devices/tank-1/chart?minutes=60&bucketSeconds=60')).body as { series: { metric: string; unit: string; points: [number, number | null][] }[] };
    const level = chart.series.find((s) => s.metric === 'level')!;
    expect(level.unit).toBe('m');
    expect(level.points.map((p) => p[1]).filter((v) => v !== null)).toEqual([5.1, 5.4, 7.2]);
  });
});

describe('presence: offline is not heard from within what the device promised', () => {
  const send = async (method: string, path: string, body: unknown) => {
    const res = await fetch(`${api.url}${path}`, { method, headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };

  test('an intermittent device that connects, reports and disconnects stays online until it is silent beyond interval × tolerance', async () => {
    const created = await send('POST', '/api/v1/enterprises/acme/devices', { id: 'smk-9', class: 'smoke_alarm', intervalSeconds: 2, connection: { mode: 'intermittent', tolerance: 2 } });
    expect(created.status).toBe(201);
    expect(created.body.device).toMatchObject({ connection: { mode: 'intermittent', tolerance: 2 }, presence: { state: 'online', mode: 'intermittent', lastHeardAt: null } });
    const creds = created.body as { username: string; password: string; clientId: string };
    let heard = 0;
    for (let i = 0; i < 3; i++) {
      const c = await mqtt.connectAsync(broker.url, { username: creds.username, password: creds.password, clientId: creds.clientId, reconnectPeriod: 0 });
      await c.publishAsync('hw/v1/acme/smk-9/telemetry', JSON.stringify({ values: { battery: 80 } }), { qos: 1 });
      await c.endAsync();
      await waitFor(async () => ((await get('/api/v1/enterprises/acme/devices/smk-9')).body.presence as { lastHeardAt: number | null }).lastHeardAt! > heard, 15_000);
      const d = (await get('/api/v1/enterprises/acme/devices/smk-9')).body as { online: boolean; presence: { lastHeardAt: number; nextExpectedAt: number; offlineAt: number } };
      expect(d.online).toBe(true);
      expect(d.presence.nextExpectedAt).toBe(d.presence.lastHeardAt + 2000);
      expect(d.presence.offlineAt).toBe(d.presence.lastHeardAt + 4000);
      heard = d.presence.lastHeardAt;
      await new Promise((r) => setTimeout(r, 600));
    }
    await waitFor(async () => (await get('/api/v1/enterprises/acme/devices/smk-9')).body.online === false, 15_000);
    const silent = (await get('/api/v1/enterprises/acme/devices/smk-9')).body as { presence: { state: string; reason: string; lastHeardAt: number } };
    expect(silent.presence).toMatchObject({ state: 'offline', reason: 'silent', lastHeardAt: heard });
    expect(Date.now()).toBeGreaterThanOrEqual(heard + 4000);

    // Declared always connected with a short grace instead: the lost connection now counts.
    const changed = await send('PATCH', '/api/v1/enterprises/acme/devices/smk-9', { intervalSeconds: 60, connection: { mode: 'always', graceSeconds: 1 } });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ intervalSeconds: 60, connection: { mode: 'always', graceSeconds: 1 }, presence: { mode: 'always', state: 'online' } });
    const bad = await send('PATCH', '/api/v1/enterprises/acme/devices/smk-9', { connection: { mode: 'sometimes' } });
    expect(bad.status).toBe(400);
    const c = await mqtt.connectAsync(broker.url, { username: creds.username, password: creds.password, clientId: creds.clientId, reconnectPeriod: 0, will: { topic: 'hw/v1/acme/smk-9/status', payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } });
    await c.publishAsync('hw/v1/acme/smk-9/status', '{"state":"online"}', { qos: 1, retain: true });
    await waitFor(async () => (await get('/api/v1/enterprises/acme/devices/smk-9/latest')).body.status === 'online', 5000);
    const lostAt = Date.now();
    c.stream.destroy();
    await waitFor(async () => (await get('/api/v1/enterprises/acme/devices/smk-9')).body.online === false, 15_000);
    expect(Date.now() - lostAt).toBeGreaterThanOrEqual(1000);
    expect((await get('/api/v1/enterprises/acme/devices/smk-9')).body.presence).toMatchObject({ state: 'offline', reason: 'connection_lost' });
  });
});

describe('ops server for the other processes', () => {
  test('/healthz, /readyz following the probe, /metrics in Prometheus text', async () => {
    const metrics = createMetricsRegistry({ process: 'probe-test' });
    counter(metrics, 'hazwatch_test_things_total', 'things').inc(3);
    let ready = false;
    const ops = await serveOps({ port: 0, metrics, ready: () => ready });
    try {
      expect((await fetch(`${ops.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${ops.url}/readyz`)).status).toBe(503);
      ready = true;
      expect((await fetch(`${ops.url}/readyz`)).status).toBe(200);
      const text = await (await fetch(`${ops.url}/metrics`)).text();
      expect(text).toContain('hazwatch_test_things_total{process="probe-test"} 3');
      expect((await fetch(`${ops.url}/nope`)).status).toBe(404);
      expect((await fetch(`${ops.url}/healthz`, { method: 'POST' })).status).toBe(405);
    } finally {
      await ops.close();
    }
  });

  test('a probe that throws or hangs means not ready', async () => {
    const metrics = createMetricsRegistry();
    const throwing = await serveOps({ port: 0, metrics, ready: () => { throw new Error('db gone'); } });
    const hanging = await serveOps({ port: 0, metrics, ready: () => new Promise<boolean>(() => {}), readyTimeoutMs: 100 });
    try {
      expect((await fetch(`${throwing.url}/readyz`)).status).toBe(503);
      expect((await fetch(`${hanging.url}/readyz`)).status).toBe(503);
    } finally {
      await throwing.close();
      await hanging.close();
    }
  });
});

describe('the platform\'s own processes', () => {
  test('the API shows what the platform\'s processes last said on hw/platform (here a northbound forwarder), to the monitoring room only', async () => {
    // A forwarder's state, published retained as northbound/service.ts does.
    const svc = await mqtt.connectAsync(broker.url, { ...broker.service, clientId: `${broker.service.clientId}:platform`, reconnectPeriod: 0 });
    await svc.publishAsync('hw/platform/northbound/example-province', JSON.stringify({ instance: 'example-province', connected: false, backlog: { rows: 42, oldestAgeS: 61 } }), { qos: 1, retain: true });
    await waitFor(async () => {
      const list = (await (await fetch(`${api.url}/api/v1/platform`, { headers: auth })).json()) as { service: string; instance: string; state: { backlog?: { rows: number } } }[];
      return list.some((p) => p.service === 'northbound' && p.instance === 'example-province' && p.state.backlog?.rows === 42);
    }, 10_000);
    await svc.publishAsync('hw/platform/northbound/example-province', '', { qos: 1, retain: true });
    await waitFor(async () => !((await (await fetch(`${api.url}/api/v1/platform`, { headers: auth })).json()) as { service: string }[]).some((p) => p.service === 'northbound'), 10_000);
    await svc.endAsync();
    // An enterprise user does not see the platform's internals.
    const created = await fetch(`${api.url}/api/v1/accounts`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ username: 'acme-viewer', password: 'acme-viewer-password-1', role: 'enterprise', enterprise: 'acme' }) });
    expect(created.status).toBe(201);
    const session = (await (await fetch(`${api.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'acme-viewer', password: 'acme-viewer-password-1' }) })).json()) as { token: string };
    expect((await fetch(`${api.url}/api/v1/platform`, { headers: { authorization: `Bearer ${session.token}` } })).status).toBe(403);
  });
});
