// Sparkplug B end to end: a simulated edge node (simulators/sparkplug.ts, Tahu's payload codec) with a
// gas detector and a fire-water terminal → the broker (its gateway account, Sparkplug access rules) →
// `hazwatch sparkplug` with the shipped map sparkplug/examples/edge-1.yaml → hw/v1 topics → ingest →
// InfluxDB of the global setup, and rules raising alarms; beside a native device sending the same values.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import sparkplugPayload from 'sparkplug-payload';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmEventPayload } from '../../contract/alarms.ts';
import { loadConfig, type Config } from '../../core/config.ts';
import { createLogger, silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startIngest, type IngestService } from '../../ingest/service.ts';
import { startRules, type RulesService } from '../../rules/service.ts';
import { edgeDevicesFromMap, startEdgeNode, type EdgeNode } from '../../simulators/sparkplug.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { createTestDatabase, influxQuery } from '../../test/support/influx.ts';
import { waitFor } from '../../test/support/net.ts';
import { startSparkplug, type SparkplugService } from '../service.ts';

const MAP = new URL('../examples/edge-1.yaml', import.meta.url).pathname;
const codec = sparkplugPayload.get('spBv1.0')!;

let dir: string;
let broker: TestBroker;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let ingest: IngestService;
let rules: RulesService;
let host: SparkplugService;
let hostMetrics: ReturnType<typeof createMetricsRegistry>;
let edge: EdgeNode;
let gatewayPassword: string;
let observer: MqttClient;
const statuses: { device: string; state: string }[] = [];
const alarms: AlarmEventPayload[] = [];
const errors: { device: string; code: string; topic: string }[] = [];
let hostState: string | undefined;

async function rows(q: string): Promise<Record<string, unknown>[]> {
  const res = await influxQuery(db.db, q);
  const series = res.results[0].series ?? [];
  return series.flatMap((s) => s.values.map((v) => ({ ...s.tags, ...Object.fromEntries(s.columns.map((c, i) => [c, v[i]])) })));
}

async function counted(name: string, labels: Record<string, string> = {}): Promise<number> {
  const metric = await hostMetrics.getSingleMetric(name)!.get();
  return metric.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((n, v) => n + v.value, 0);
}

function config(service: { username: string; password: string }, extra: Record<string, unknown> = {}): Config {
  return loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      mqtt: { url: broker.url, username: service.username, password: service.password },
      ingest: { instance: 'sp-test', healthIntervalS: 3600, influx: { kind: 'v1', url: db.url, database: db.db }, batch: { flushMs: 50 } },
      rules: { tickMs: 100, pollMs: 50, clientId: `${service.username}:sp-test` },
      sparkplug: { maps: [MAP], rebirthIntervalMs: 200 },
      ...extra,
    },
  });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hw-sparkplug-'));
  broker = await startTestBroker({ dataDir: dir, broker: { publishRatePerSecond: 0 } });
  db = await createTestDatabase('hw_sparkplug');
  const reg = broker.registry;
  gatewayPassword = (await reg.addGateway('demo-chem', 'edge-1')).password;
  const ingestSvc = await reg.setService('ingest');
  const rulesSvc = await reg.setService('rules');
  const spSvc = await reg.setService('sparkplug');
  ingest = await startIngest({ config: config(ingestSvc), log: silentLogger(), metrics: createMetricsRegistry(), registry: reg });
  rules = await startRules({ config: config(rulesSvc), log: silentLogger(), metrics: createMetricsRegistry(), registry: reg });
  hostMetrics = createMetricsRegistry();
  // HAZWATCH_TEST_SPARKPLUG_LOG=1 shows the host's log, to diagnose a failure.
  host = await startSparkplug({ config: config(spSvc), log: process.env.HAZWATCH_TEST_SPARKPLUG_LOG ? createLogger({ level: 'debug' }) : silentLogger(), metrics: hostMetrics, registry: reg });
  await Promise.all([ingest.ready, rules.ready, host.ready]);

  observer = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
  observer.on('message', (topic, payload) => {
    const parts = topic.split('/');
    if (topic.startsWith('STATE/')) hostState = payload.toString();
    else if (parts[4] === 'status') statuses.push({ device: parts[3], state: JSON.parse(payload.toString()).state });
    else if (parts[4] === 'alarm') alarms.push(AlarmEventPayload.parse(JSON.parse(payload.toString())));
    else if (parts[4] === 'error') errors.push({ device: parts[3], ...(JSON.parse(payload.toString()) as { code: string; topic: string }) });
  });
  await observer.subscribeAsync(['hw/v1/demo-chem/+/status', 'hw/v1/demo-chem/+/alarm', 'hw/v1/demo-chem/+/error', 'STATE/+'], { qos: 1 });

  edge = await startEdgeNode({
    url: broker.url,
    username: 'demo-chem/edge-1',
    password: gatewayPassword,
    group: 'demo-chem',
    node: 'edge-1',
    devices: edgeDevicesFromMap(parseYaml(readFileSync(MAP, 'utf8'))),
  });
}, 60_000);

afterAll(async () => {
  await edge?.close().catch(() => undefined);
  await observer?.endAsync(true);
  await host?.close();
  await rules?.close();
  await ingest?.close();
  await broker?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Sparkplug B edge node → hazwatch', () => {
  it('registers the mapped devices from their births, says they are online, and keeps its own state on STATE/<host id>', async () => {
    await waitFor(() => broker.registry.device('demo-chem', 'lel-201') !== undefined && broker.registry.device('demo-chem', 'fw-pt-301') !== undefined, 10_000);
    expect(broker.registry.device('demo-chem', 'lel-201')?.class).toBe('gas_combustible');
    expect(broker.registry.device('demo-chem', 'fw-pt-301')?.class).toBe('fire_water');
    await waitFor(() => statuses.some((s) => s.device === 'lel-201' && s.state === 'online') && statuses.some((s) => s.device === 'fw-pt-301' && s.state === 'online'), 10_000);
    await waitFor(() => hostState === 'ONLINE', 5000);
    // The births' values are readings too.
    await waitFor(async () => (await rows("SELECT count(lel) FROM gas_combustible WHERE device = 'lel-201'")).length > 0, 10_000);
  });

  it('stores DDATA sent by alias with the map\'s conversions, and raises the same alarm as a native device with the same values', async () => {
    const native = await broker.registry.addDevice({ enterprise: 'demo-chem', id: 'lel-native', class: 'gas_combustible' });
    const device = await mqtt.connectAsync(broker.url, { ...native, reconnectPeriod: 0 });
    const t0 = Date.now();
    for (let i = 0; i < 3; i++) {
      const ts = t0 + i * 1000;
      await edge.data('LEL-201', { lel: 60 });
      await device.publishAsync('hw/v1/demo-chem/lel-native/telemetry', JSON.stringify({ ts, values: { lel: 60 } }), { qos: 1 });
      await new Promise((r) => setTimeout(r, 100));
    }
    // 0.35 MPa, published by the node as 350 kPa (the map's scale, in reverse), stored as 0.35 MPa.
    await edge.data('FW-PT-301', { pressure: 0.35, pump_running: true });
    await waitFor(() => ['lel-201', 'lel-native'].every((d) => alarms.some((a) => a.alarm.device === d && a.change.action === 'raised')), 15_000);
    const raised = (d: string) => alarms.find((a) => a.alarm.device === d && a.change.action === 'raised')!.alarm;
    expect({ condition: raised('lel-201').condition, level: raised('lel-201').level }).toEqual({ condition: raised('lel-native').condition, level: raised('lel-native').level });
    await waitFor(async () => (await rows("SELECT lel FROM gas_combustible WHERE lel = 60 GROUP BY device")).filter((r) => r.device === 'lel-201').length >= 3, 10_000);
    const stored = await rows("SELECT count(lel) FROM gas_combustible WHERE lel = 60 GROUP BY device");
    expect(stored.find((r) => r.device === 'lel-201')?.count).toBe(stored.find((r) => r.device === 'lel-native')?.count);
    await waitFor(async () => (await rows("SELECT pressure, pump_running FROM fire_water WHERE device = 'fw-pt-301' AND pump_running = true")).length > 0, 10_000);
    const [fw] = await rows("SELECT pressure, pump_running FROM fire_water WHERE device = 'fw-pt-301' AND pump_running = true");
    expect(fw.pressure).toBeCloseTo(0.35, 6);
    await device.endAsync();
  });

  it('on a broken seq takes the node\'s devices offline, asks for a rebirth, and takes data again after it', async () => {
    const births = edge.births;
    statuses.length = 0;
    edge.skipSeq(3);
    await edge.data('LEL-201', { lel: 5 });
    await waitFor(() => edge.births > births, 10_000);
    expect(edge.commands.some((c) => c.topic === 'spBv1.0/demo-chem/NCMD/edge-1' && c.metrics.some((m) => m.name === 'Node Control/Rebirth' && m.value === true))).toBe(true);
    expect(await counted('hazwatch_sparkplug_refused_total', { code: 'HW_ERR_SPARKPLUG_SEQ' })).toBe(1);
    // Told to the edge node on its gateway's error topic, which its account may read.
    await waitFor(() => errors.some((e) => e.device === 'edge-1' && e.code === 'HW_ERR_SPARKPLUG_SEQ' && e.topic === 'spBv1.0/demo-chem/DDATA/edge-1/LEL-201'), 5000);
    await waitFor(() => statuses.filter((s) => s.device === 'lel-201').map((s) => s.state).join(',') === 'offline,online', 10_000);
    // The reading with the broken seq was not taken; one after the rebirth is.
    await edge.data('LEL-201', { lel: 7.25 });
    await waitFor(async () => (await rows("SELECT lel FROM gas_combustible WHERE device = 'lel-201' AND lel = 7.25")).length === 1, 10_000);
    expect(await rows("SELECT lel FROM gas_combustible WHERE device = 'lel-201' AND lel = 5")).toEqual([]);
  });

  it('refuses what it cannot take, with a code: a device in no map, a payload that is not Sparkplug', async () => {
    const gw = await mqtt.connectAsync(broker.url, { username: 'demo-chem/edge-1', password: gatewayPassword, clientId: 'demo-chem/edge-1:raw', reconnectPeriod: 0 });
    await gw.publishAsync('spBv1.0/demo-chem/DDATA/edge-1/LEL-201', Buffer.from('not protobuf {'), { qos: 1 });
    await waitFor(async () => (await counted('hazwatch_sparkplug_refused_total', { code: 'HW_ERR_SPARKPLUG_PAYLOAD' })) === 1, 5000);
    await gw.endAsync();
    // A second edge node whose device no map names: refused and counted, not registered.
    const password = (await broker.registry.addGateway('demo-chem', 'edge-2')).password;
    const other = await startEdgeNode({ url: broker.url, username: 'demo-chem/edge-2', password, group: 'demo-chem', node: 'edge-2', devices: [{ id: 'UNKNOWN-9', class: 'oxygen', metrics: { o2: 'O2' } }] });
    await waitFor(async () => (await counted('hazwatch_sparkplug_refused_total', { code: 'HW_ERR_SPARKPLUG_UNMAPPED' })) >= 1, 5000);
    expect(broker.registry.device('demo-chem', 'UNKNOWN-9')).toBeUndefined();
    // Nor may it speak for edge-1: the broker keeps each gateway to its own node id.
    const refusedBefore = broker.broker.stats().denied.HW_ERR_ACL_PUBLISH ?? 0;
    await other.close();
    const spoof = await mqtt.connectAsync(broker.url, { username: 'demo-chem/edge-2', password, clientId: 'demo-chem/edge-2', reconnectPeriod: 0 });
    await spoof.publishAsync('spBv1.0/demo-chem/DDATA/edge-1/LEL-201', Buffer.from(codec.encodePayload({ seq: 1, metrics: [] })), { qos: 1 });
    await waitFor(() => (broker.broker.stats().denied.HW_ERR_ACL_PUBLISH ?? 0) > refusedBefore, 5000);
    await spoof.endAsync();
  });

  it('takes a device offline on its DDEATH, and every device of the node on the NDEATH its broker sends for a lost connection', async () => {
    await waitFor(() => statuses.at(-1)?.state === 'online', 10_000);
    statuses.length = 0;
    await edge.deviceDeath('FW-PT-301');
    await waitFor(() => statuses.some((s) => s.device === 'fw-pt-301' && s.state === 'offline'), 10_000);
    expect(statuses.filter((s) => s.device === 'lel-201')).toEqual([]);
    // Retained, as a console that subscribes later sees it.
    const later = await mqtt.connectAsync(broker.url, { ...broker.service, clientId: `${broker.service.clientId}:later`, reconnectPeriod: 0 });
    const seen: string[] = [];
    later.on('message', (_t, payload, packet) => packet.retain && seen.push(JSON.parse(payload.toString()).state));
    await later.subscribeAsync('hw/v1/demo-chem/fw-pt-301/status', { qos: 1 });
    await waitFor(() => seen.length > 0, 5000);
    expect(seen).toEqual(['offline']);
    await later.endAsync();
    edge.kill();
    await waitFor(() => statuses.some((s) => s.device === 'lel-201' && s.state === 'offline'), 10_000);
  });

  it('says OFFLINE on STATE/<host id> when it stops', async () => {
    await host.close();
    await waitFor(() => hostState === 'OFFLINE', 5000);
    host = await startSparkplug({ config: config(await broker.registry.setService('sparkplug')), log: silentLogger(), metrics: createMetricsRegistry(), registry: broker.registry });
    await host.ready;
    await waitFor(() => hostState === 'ONLINE', 5000);
  });
});
