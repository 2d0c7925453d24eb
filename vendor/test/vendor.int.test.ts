// Vendor payloads end to end: the shipped maps (vendor/examples/maps) and access file
// (vendor/examples/acl.yaml) on the real broker, the devices' own JSON sent with Mosquitto's
// mosquitto_pub under their own accounts → `hazwatch vendor` → hw/v1 → ingest → InfluxDB of the global
// setup, and rules raising alarms. Also what does not fit, told on the device's error topic, and a
// translator that was away taking what was sent meanwhile.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmEventPayload } from '../../contract/alarms.ts';
import { ErrorPayload } from '../../contract/payloads.ts';
import { loadConfig, type Config } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startIngest, type IngestService } from '../../ingest/service.ts';
import { startRules, type RulesService } from '../../rules/service.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { createTestDatabase, influxQuery } from '../../test/support/influx.ts';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { examples } from '../../test/support/markdown.ts';
import { mosquittoClient } from '../../test/support/mosquitto.ts';
import { waitFor } from '../../test/support/net.ts';
import { startVendor, type VendorService } from '../service.ts';

const EXAMPLES = new URL('../examples/', import.meta.url).pathname;
const sample = (name: string) => JSON.parse(readFileSync(join(EXAMPLES, 'samples', `${name}.json`), 'utf8'));

let dir: string;
let broker: TestBroker;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let ingest: IngestService;
let rules: RulesService;
let vendor: VendorService;
let vendorMetrics: ReturnType<typeof createMetricsRegistry>;
let observer: MqttClient;
const alarms: AlarmEventPayload[] = [];
const errors: { device: string; error: ErrorPayload }[] = [];
const accounts: Record<string, { username: string; password: string; clientId: string }> = {};

/** Local wall-clock text of a site at UTC+8, as the DTU and the NB-IoT terminal write it. */
function chinaTime(ms: number, compact = false): string {
  const iso = new Date(ms + 8 * 3600_000).toISOString();
  const text = `${iso.slice(0, 10)} ${iso.slice(11, 19)}`;
  return compact ? text.replace(/[- :]/g, '') : text;
}

async function rows(q: string): Promise<Record<string, unknown>[]> {
  const res = await influxQuery(db.db, q);
  return (res.results[0].series ?? []).flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
}

async function refused(labels: Record<string, string>): Promise<number> {
  const metric = await vendorMetrics.getSingleMetric('hazwatch_vendor_refused_total')!.get();
  return metric.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((n, v) => n + v.value, 0);
}

/** The device's own JSON, published with mosquitto_pub under its own account, QoS 1. */
async function send(account: string, topic: string, body: unknown): Promise<void> {
  const a = accounts[account];
  const res = await mosquittoClient('mosquitto_pub', broker.port, ['-i', a.clientId, '-u', a.username, '-P', a.password, '-q', '1', '-t', topic, '-m', typeof body === 'string' ? body : JSON.stringify(body)]);
  expect(res.code, res.out).toBe(0);
}

function config(service: { username: string; password: string }): Config {
  return loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      mqtt: { url: broker.url, username: service.username, password: service.password },
      ingest: { instance: 'vendor-test', healthIntervalS: 3600, influx: { kind: 'v1', url: db.url, database: db.db }, batch: { flushMs: 50 } },
      rules: { tickMs: 100, pollMs: 50, clientId: `${service.username}:vendor-test` },
      vendor: { maps: [join(EXAMPLES, 'maps')] },
    },
  });
}

async function startTranslator(): Promise<VendorService> {
  vendorMetrics = createMetricsRegistry();
  const v = await startVendor({ config: config(await broker.registry.setService('vendor')), log: silentLogger(), metrics: vendorMetrics, registry: broker.registry });
  await v.ready;
  return v;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hw-vendor-'));
  broker = await startTestBroker({ dataDir: dir, broker: { publishRatePerSecond: 0, aclFile: join(EXAMPLES, 'acl.yaml') } });
  db = await createTestDatabase('hw_vendor');
  const reg = broker.registry;
  accounts.dtu = await reg.addGateway('demo-chem', 'dtu-01');
  accounts.em = await reg.addDevice({ enterprise: 'demo-chem', id: 'em-0001', class: 'power_meter' });
  accounts.em2 = await reg.addDevice({ enterprise: 'demo-chem', id: 'em-0002', class: 'power_meter' });
  accounts.hydrant = await reg.addDevice({ enterprise: 'demo-chem', id: '868000000000001', class: 'fire_water', intervalSeconds: 3600, connection: { mode: 'intermittent' } });
  ingest = await startIngest({ config: config(await reg.setService('ingest')), log: silentLogger(), metrics: createMetricsRegistry(), registry: reg });
  rules = await startRules({ config: config(await reg.setService('rules')), log: silentLogger(), metrics: createMetricsRegistry(), registry: reg });
  await Promise.all([ingest.ready, rules.ready]);
  vendor = await startTranslator();
  observer = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
  observer.on('message', (topic, payload) => {
    const [, , , device, channel] = topic.split('/');
    if (channel === 'alarm') alarms.push(AlarmEventPayload.parse(JSON.parse(payload.toString())));
    else if (channel === 'error') errors.push({ device, error: ErrorPayload.parse(JSON.parse(payload.toString())) });
  });
  await observer.subscribeAsync(['hw/v1/demo-chem/+/alarm', 'hw/v1/demo-chem/+/error'], { qos: 1 });
}, 60_000);

afterAll(async () => {
  await observer?.endAsync(true);
  await vendor?.close();
  await rules?.close();
  await ingest?.close();
  await broker?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

const raised = (device: string, condition: string) => alarms.find((a) => a.alarm.device === device && a.alarm.condition === condition && a.change.action === 'raised')?.alarm;

describe('vendor maps → hazwatch readings and alarms', () => {
  it('4-channel gas DTU: registers a device per channel at its first message and stores each in its class and unit', async () => {
    const t = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    await send('dtu', 'gasdtu/dtu-01/up', { ...sample('gas-dtu-4ch'), time: chinaTime(t) });
    await waitFor(async () => (await rows("SELECT * FROM gas_combustible WHERE device =~ /^dtu-01-ch/")).length === 2, 10_000);
    expect((await rows("SELECT lel FROM gas_combustible WHERE device =~ /^dtu-01-ch/ GROUP BY device")).map((r) => [r.device, r.time, r.lel])).toEqual([
      ['dtu-01-ch1', t, 12.5],
      ['dtu-01-ch2', t, 3],
    ]);
    await waitFor(async () => (await rows("SELECT ppm FROM gas_toxic WHERE device = 'dtu-01-ch3'")).length === 1, 10_000);
    expect((await rows("SELECT ppm FROM gas_toxic WHERE device = 'dtu-01-ch3'"))[0].ppm).toBeCloseTo((2.1 * 24.45) / 34.08, 6);
    await waitFor(async () => (await rows("SELECT o2 FROM oxygen WHERE device = 'dtu-01-ch4'")).length === 1, 10_000);
    expect(['dtu-01-ch1', 'dtu-01-ch2', 'dtu-01-ch3', 'dtu-01-ch4'].map((d) => broker.registry.device('demo-chem', d)?.class)).toEqual(['gas_combustible', 'gas_combustible', 'gas_toxic', 'oxygen']);
  });

  it('a DTU channel over the second stage twice (GB/T 50493-2019 5.5.2) raises the red alarm', async () => {
    const t = Date.now() - 10_000;
    for (const i of [0, 1]) await send('dtu', 'gasdtu/dtu-01/up', { time: chinaTime(t + i * 5000), ch: [{ no: 1, gas: 'CH4', val: '62.0' }] });
    await waitFor(() => raised('dtu-01-ch1', 'HW_ALM_GAS_LEL_HIGH') !== undefined, 15_000);
    expect(raised('dtu-01-ch1', 'HW_ALM_GAS_LEL_HIGH')!.level).toBe(1);
  });

  it('runs the example of docs/protocol.md section 11 as printed', async () => {
    const doc = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
    const [example] = examples(doc).filter((e) => e.lang === 'sh' && e.test.vendor === true);
    expect(example, 'the vendor example of docs/protocol.md').toBeDefined();
    // Not spawnSync: the broker of this test runs in this process and must answer meanwhile.
    await promisify(execFile)('bash', ['-euo', 'pipefail', '-c', example.code], { env: { PATH: process.env.PATH, HW_HOST: '127.0.0.1', HW_PORT: String(broker.port), DTU_PASS: accounts.dtu.password }, timeout: 20_000 });
    await waitFor(async () => (await rows("SELECT lel FROM gas_combustible WHERE device = 'dtu-01-ch1' AND lel = 7.5")).length === 1, 10_000);
  });

  it('electrical-fire monitor: residual current over 300 mA twice raises the orange alarm; W stored as kW', async () => {
    const base = sample('electrical-fire-monitor');
    const t = Math.floor(Date.now() / 1000) - 30;
    for (const [i, leak] of [420, 450].entries()) await send('em', 'efm/em-0001/report', { ...base, data: { ...base.data, time: t + i * 10, leak: { value: leak, unit: 'mA' } } });
    await waitFor(() => raised('em-0001', 'HW_ALM_RESIDUAL_CURRENT_HIGH') !== undefined, 15_000);
    expect(raised('em-0001', 'HW_ALM_RESIDUAL_CURRENT_HIGH')!.level).toBe(2);
    // The alarm comes through rules, the rows through ingest's spool: wait for both rows.
    await waitFor(async () => (await rows("SELECT residual_current FROM power_meter WHERE device = 'em-0001'")).length === 2, 10_000);
    const stored = await rows("SELECT residual_current, power, energy FROM power_meter WHERE device = 'em-0001'");
    expect(stored.map((r) => [r.time, r.residual_current, r.power])).toEqual([
      [t * 1000, 420, expect.closeTo(12.45, 9)],
      [(t + 10) * 1000, 450, expect.closeTo(12.45, 9)],
    ]);
  });

  it('NB-IoT hydrant terminal: low pressure in kPa and a low battery raise their alarms', async () => {
    const t = Date.now() - 40_000;
    for (const [i, kPa] of [80, 70].entries()) await send('hydrant', 'hydrant/868000000000001/data', { ...sample('hydrant-nbiot'), reportTime: chinaTime(t + i * 10_000, true), pressure: kPa, battery: 15 });
    await waitFor(() => raised('868000000000001', 'HW_ALM_FIRE_WATER_PRESSURE_LOW') !== undefined && raised('868000000000001', 'HW_ALM_LOW_BATTERY') !== undefined, 15_000);
    expect(raised('868000000000001', 'HW_ALM_FIRE_WATER_PRESSURE_LOW')!.level).toBe(2);
    expect(raised('868000000000001', 'HW_ALM_LOW_BATTERY')!.level).toBe(4);
    await waitFor(async () => (await rows("SELECT pressure FROM fire_water WHERE device = '868000000000001'")).length === 2, 10_000);
    const stored = await rows("SELECT pressure, battery FROM fire_water WHERE device = '868000000000001'");
    expect(stored.map((r) => r.pressure)).toEqual([expect.closeTo(0.08, 9), expect.closeTo(0.07, 9)]);
  });

  it('refuses what does not fit, counted by map and code, and tells the device on its error topic', async () => {
    // A time not of the map's format, from a known device.
    await send('em', 'efm/em-0001/report', { data: { time: 'yesterday', leak: { value: 1 } } });
    await waitFor(() => errors.some((e) => e.device === 'em-0001' && e.error.code === 'HW_ERR_MAP_TIMESTAMP'), 10_000);
    expect(errors.find((e) => e.error.code === 'HW_ERR_MAP_TIMESTAMP')!.error.topic).toBe('efm/em-0001/report');
    // Not JSON: counted (no device to tell).
    await send('hydrant', 'hydrant/868000000000001/data', '{"pressure": 3');
    await waitFor(async () => (await refused({ map: 'hydrant-nbiot', code: 'HW_ERR_BAD_JSON' })) === 1, 10_000);
    // A channel that changed its gas: the device is registered with another class.
    await send('dtu', 'gasdtu/dtu-01/up', { time: chinaTime(Date.now()), ch: [{ no: 2, gas: 'O2', val: 20.9 }] });
    await waitFor(() => errors.some((e) => e.device === 'dtu-01-ch2' && e.error.code === 'HW_ERR_MAP_CLASS'), 10_000);
    // A value the contract refuses is refused by ingest with the contract's code, as for any device.
    await send('hydrant', 'hydrant/868000000000001/data', { reportTime: chinaTime(Date.now(), true), pressure: 'E1' });
    await waitFor(() => errors.some((e) => e.device === '868000000000001' && e.error.code === 'HW_ERR_TYPE' && e.error.metric === 'pressure'), 10_000);
    // The broker keeps each device to its own vendor topic (vendor/examples/acl.yaml).
    const before = broker.broker.stats().denied.HW_ERR_ACL_PUBLISH ?? 0;
    await send('em2', 'efm/em-0001/report', sample('electrical-fire-monitor'));
    await waitFor(() => (broker.broker.stats().denied.HW_ERR_ACL_PUBLISH ?? 0) > before, 5000);
  });

  it('takes what was sent while it was away (persistent session, acknowledged after publishing)', async () => {
    await vendor.close();
    const t = Date.now() - 30_000;
    for (let i = 0; i < 3; i++) await send('hydrant', 'hydrant/868000000000001/data', { reportTime: chinaTime(t + i * 1000, true), pressure: 300 + i, battery: 90 });
    vendor = await startTranslator();
    await waitFor(async () => (await rows("SELECT pressure FROM fire_water WHERE device = '868000000000001' AND battery = 90")).length === 3, 10_000);
    expect((await rows("SELECT pressure FROM fire_water WHERE device = '868000000000001' AND battery = 90")).map((r) => r.pressure)).toEqual([0.3, 0.301, 0.302].map((p) => expect.closeTo(p, 9)));
  });
});
