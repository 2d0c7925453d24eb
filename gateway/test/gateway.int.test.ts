// Gateway end to end: Modbus TCP simulators (simulators/modbus) → gateway → our broker (real aedes with
// the registry's gateway credentials and ACL) → ingest → InfluxDB 1.x of the global setup.
// The example map gateway/examples/site.yaml is used as shipped, with ports pointed at the simulators
// and faster timings so that the test stays short.
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Config } from '../../core/config.ts';
import { createLogger, silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startIngest, type IngestService } from '../../ingest/service.ts';
import { startModbusSim, type ModbusSim } from '../../simulators/modbus/simulator.ts';
import type { ProfileName } from '../../simulators/modbus/profiles.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { createTestDatabase, influxQuery } from '../../test/support/influx.ts';
import { freePort, waitFor } from '../../test/support/net.ts';
import { startGateway, type Gateway } from '../gateway.ts';
import { loadRegisterMap, parseRegisterMap } from '../map.ts';
import { startRelay, type Relay } from './relay.ts';

// HAZWATCH_TEST_GATEWAY_LOG=<file> writes the gateway's debug log there, to diagnose a failure.
function gatewayLog() {
  const file = process.env.HAZWATCH_TEST_GATEWAY_LOG;
  return file ? createLogger({ level: 'debug', destination: createWriteStream(file) }) : silentLogger();
}

const EXAMPLE = join(import.meta.dirname, '..', 'examples', 'site.yaml');

type Msg = { topic: string; body: Record<string, unknown>; at: number };

async function influxRows(db: string, q: string): Promise<Record<string, unknown>[]> {
  const res = await influxQuery(db, q);
  const series = res.results[0].series ?? [];
  return series.flatMap((s) => s.values.map((v) => Object.fromEntries(s.columns.map((c, i) => [c, v[i]]))));
}

/** Retained status of every device, as a console that subscribes now sees it. */
async function retainedStatus(url: string, creds: { username: string; password: string; clientId: string }, count: number): Promise<Map<string, string>> {
  const client = await mqtt.connectAsync(url, { ...creds, clientId: `${creds.clientId}:${Math.random().toString(36).slice(2, 8)}`, reconnectPeriod: 0 });
  const retained = new Map<string, string>();
  client.on('message', (topic, payload, packet) => {
    if (packet.retain) retained.set(topic.split('/')[3], JSON.parse(payload.toString()).state);
  });
  await client.subscribeAsync('hw/v1/demo/+/status', { qos: 1 });
  await waitFor(() => retained.size >= count, 5000).catch(() => undefined);
  await client.endAsync();
  return retained;
}

async function readingCount(metrics: ReturnType<typeof createMetricsRegistry>, device: string): Promise<number> {
  const m = await metrics.getSingleMetric('hazwatch_gateway_readings_total')!.get();
  return m.values.find((v) => v.labels.device === device)?.value ?? 0;
}

describe('gateway: Modbus TCP simulators → broker → ingest → InfluxDB', () => {
  let dir: string;
  let broker: TestBroker;
  let brokerPort: number;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ingest: IngestService;
  let gateway: Gateway;
  let observer: MqttClient;
  let relay: Relay;
  const sims = new Map<ProfileName, ModbusSim>();
  const messages: Msg[] = [];
  const metrics = createMetricsRegistry();
  let password = '';

  const startBroker = () =>
    startTestBroker({ dataDir: dir, registryPath: join(dir, 'registry.db'), broker: { port: brokerPort, publishRatePerSecond: 0 } });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hazwatch-gateway-'));
    brokerPort = await freePort();
    broker = await startBroker();
    const reg = broker.registry;
    await reg.addDevices([
      ...['gas-01', 'gas-02', 'gas-03', 'gas-04'].map((id) => ({ enterprise: 'demo', id, class: 'gas_combustible' as const })),
      { enterprise: 'demo', id: 'tank-t101', class: 'vessel' as const },
      { enterprise: 'demo', id: 'firewater-p1', class: 'fire_water' as const },
      { enterprise: 'demo', id: 'meter-mcc1', class: 'power_meter' as const },
    ]);
    password = (await reg.addGateway('demo', 'gw-01')).password;
    const svc = await reg.setService('ingest');

    db = await createTestDatabase('hw_gateway');
    const config = Config.parse({
      dataDir: dir,
      mqtt: { url: broker.url, username: svc.username, password: svc.password },
      ingest: { instance: 'gw-test', healthIntervalS: 3600, influx: { kind: 'v1', url: db.url, database: db.db }, batch: { flushMs: 100 }, retry: { minMs: 100, maxMs: 1000 } },
    });
    ingest = await startIngest({ config, log: silentLogger(), metrics: createMetricsRegistry(), registry: reg });
    await ingest.ready;

    // Exact values, one per data type and byte order of the example map.
    const gas = await startModbusSim({ profile: 'gas-controller', port: 0, source: 'manual', channels: ['gas-01', 'gas-02', 'gas-03', 'gas-04'].map((device) => ({ device })) });
    gas.set('gas-01', { lel: 12.345 });
    gas.set('gas-02', { lel: 0 });
    gas.set('gas-03', { lel: 27.5 });
    gas.set('gas-04', { lel: 55.25 });
    gas.condition('gas-03', 'alarm_stage1', true);
    gas.condition('gas-04', 'alarm_stage1', true);
    gas.condition('gas-04', 'alarm_stage2', true);
    const tank = await startModbusSim({ profile: 'tank-gauge', port: 0, source: 'manual', channels: [{ device: 'tank-t101' }] });
    tank.set('tank-t101', { level: 7.891, temperature: -12.3, pressure: 1.234, flow: 123.456789 });
    const pump = await startModbusSim({ profile: 'pump-panel', port: 0, source: 'manual', channels: [{ device: 'firewater-p1' }] });
    pump.set('firewater-p1', { pump_running: true, jockey_running: false, pressure: 0.345, pool_level: 4.56 });
    pump.condition('firewater-p1', 'pump_fault', true);
    const meter = await startModbusSim({ profile: 'power-meter', port: 0, source: 'manual', channels: [{ device: 'meter-mcc1' }] });
    meter.set('meter-mcc1', { voltage: 231.7, current: 12.5, power: 2.65, residual_current: 123.4, cable_temperature: 45.6, energy: 123456.78 });
    sims.set('gas-controller', gas).set('tank-gauge', tank).set('pump-panel', pump).set('power-meter', meter);

    observer = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
    observer.on('message', (topic, payload) => messages.push({ topic, body: JSON.parse(payload.toString()), at: Date.now() }));
    await observer.subscribeAsync('hw/v1/demo/+/+', { qos: 1 });

    const shipped = loadRegisterMap(EXAMPLE);
    const ports = [gas.port, tank.port, pump.port, meter.port];
    const map = parseRegisterMap({
      ...shipped,
      defaults: { ...shipped.defaults, pollMs: 200, timeoutMs: 300, offlineAfter: 2, maxBackoffMs: 800 },
      modbus: shipped.modbus.map((m, i) => ({ ...m, pollMs: 200, tcp: { host: '127.0.0.1', port: ports[i] } })),
    });
    relay = await startRelay({ host: '127.0.0.1', port: broker.port });
    gateway = await startGateway({ map, url: relay.url, password, bufferPath: join(dir, 'outbox.db'), reconnectMs: 200, log: gatewayLog(), metrics });
  }, 30_000);

  afterAll(async () => {
    await gateway?.close();
    await relay?.close();
    await observer?.endAsync(true);
    for (const s of sims.values()) await s.close();
    await ingest?.close();
    await broker?.close();
    await db?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('stores the right value for every data type and byte order, and the status bits as events', async () => {
    const expectations: [string, string, Record<string, number | boolean>][] = [
      ['gas_combustible', 'gas-01', { lel: Math.fround(12.345) }], // float32 CDAB
      ['gas_combustible', 'gas-04', { lel: 55.25 }],
      ['vessel', 'tank-t101', { level: 7.891, temperature: -12.3, pressure: 1.234, flow: 123.456789 }], // int32 ABCD, int16 signed, float64 DCBA
      ['fire_water', 'firewater-p1', { pump_running: true, jockey_running: false, pressure: 0.345, pool_level: 4.56 }], // coils, uint16
      // float32 ABCD, float32 BADC, int16, uint32 CDAB
      ['power_meter', 'meter-mcc1', { voltage: Math.fround(231.7), current: 12.5, power: Math.fround(2.65), residual_current: Math.fround(123.4), cable_temperature: 45.6, energy: 123456.78 }],
    ];
    for (const [measurement, device, values] of expectations) {
      const fields = Object.keys(values).map((f) => `last("${f}") AS "${f}"`).join(', ');
      const q = `SELECT ${fields} FROM "${measurement}" WHERE "device" = '${device}'`;
      await waitFor(async () => (await influxRows(db.db, q)).length > 0, 15_000).catch((err) => {
        const sent = messages.filter((m) => m.topic === `hw/v1/demo/${device}/telemetry`).length;
        throw new Error(`${device}: nothing in InfluxDB (${sent} telemetry messages seen on the broker): ${err.message}`);
      });
      const [row] = await influxRows(db.db, q);
      for (const [metric, value] of Object.entries(values)) expect(row[metric], `${device}.${metric}`).toBe(value);
    }
    // The simulator's own account of what it encoded agrees with the literals above.
    expect(sims.get('power-meter')!.expected('meter-mcc1', 'residual_current')).toBe(Math.fround(123.4));

    const eventQ = `SELECT "active" FROM "device_event" WHERE "type" = 'alarm_stage2' AND "device" = 'gas-04'`;
    await waitFor(async () => (await influxRows(db.db, eventQ)).length > 0, 10_000);
    expect((await influxRows(db.db, eventQ))[0].active).toBe(true);
    const pumpFault = `SELECT "active" FROM "device_event" WHERE "type" = 'pump_fault' AND "device" = 'firewater-p1'`;
    await waitFor(async () => (await influxRows(db.db, pumpFault)).length > 0, 10_000);

    // A bit that clears produces active=false.
    sims.get('gas-controller')!.condition('gas-03', 'alarm_stage1', false);
    await waitFor(() => messages.some((m) => m.topic === 'hw/v1/demo/gas-03/event' && m.body.type === 'alarm_stage1' && m.body.active === false), 5000);
    // Every platform device and the gateway itself are online, retained (what a console subscribing now sees).
    const all = ['gas-01', 'gas-02', 'gas-03', 'gas-04', 'tank-t101', 'firewater-p1', 'meter-mcc1', 'gw-01'];
    const retained = await retainedStatus(broker.url, broker.service, all.length);
    for (const d of all) expect(retained.get(d), d).toBe('online');
    // Nothing the gateway sent was refused by the platform.
    const rejections = await metrics.getSingleMetric('hazwatch_gateway_rejections_total')!.get();
    expect(rejections.values.reduce((n, v) => n + v.value, 0)).toBe(0);
    // Ingest refused nothing of the devices' data. The gateway's own status (hw/v1/demo/gw-01/status, its
    // last will) is not a registered device's: ingest currently answers it HW_ERR_UNKNOWN_DEVICE, once per connect.
    const refused = ingest.stats().rejectedByReason;
    expect(Object.keys(refused).filter((code) => code !== 'HW_ERR_UNKNOWN_DEVICE')).toEqual([]);
    expect(refused.HW_ERR_UNKNOWN_DEVICE ?? 0).toBeLessThanOrEqual(1);
  }, 30_000);

  it('reports by exception: a move inside the deadband is not sent, one beyond it is', async () => {
    const gas = sims.get('gas-controller')!;
    const lelMessages = () => messages.filter((m) => m.topic === 'hw/v1/demo/gas-02/telemetry');
    await waitFor(() => lelMessages().length >= 1, 5000);
    const before = lelMessages().length;
    gas.set('gas-02', { lel: 0.3 }); // deadband 0.5 %LEL
    await new Promise((r) => setTimeout(r, 800)); // four polls
    expect(lelMessages().length).toBe(before);
    gas.set('gas-02', { lel: 1.5 });
    await waitFor(() => lelMessages().length > before, 5000);
    expect((lelMessages().at(-1)!.body.values as Record<string, number>).lel).toBe(1.5);
  }, 15_000);

  it('a killed simulator goes offline and comes back online, without stalling the others', async () => {
    const tank = sims.get('tank-gauge')!;
    const meterReadings = () => messages.filter((m) => m.topic === 'hw/v1/demo/meter-mcc1/telemetry');
    expect(observer.connected).toBe(true);
    const killedAt = Date.now();
    await tank.stop();
    const tankPoller = gateway.pollers.find((p) => p.name === 'tank-gauge-t101')!;
    await waitFor(() => tankPoller.state === 'offline', 10_000).catch((err) => {
      throw new Error(`tank poller still ${tankPoller.state}: ${err.message}`);
    });
    const offlineAt = Date.now();
    await waitFor(async () => (await retainedStatus(broker.url, broker.service, 8)).get('tank-t101') === 'offline', 5000);
    // The meter kept its pace while the tank gauge was dead (polled every 200 ms).
    const during = meterReadings().filter((m) => m.at >= killedAt && m.at <= offlineAt).length;
    expect(during).toBeGreaterThanOrEqual(Math.floor((offlineAt - killedAt) / 200 / 2));
    expect(gateway.pollers.filter((p) => p.state === 'online').map((p) => p.name)).toEqual(['gas-controller-1', 'fire-pump-panel', 'meter-mcc1']);

    await tank.start();
    await waitFor(() => tankPoller.state === 'online', 10_000);
    await waitFor(async () => (await retainedStatus(broker.url, broker.service, 8)).get('tank-t101') === 'online', 5000);
    // After recovery the full state is sent again.
    await waitFor(() => messages.some((m) => m.topic === 'hw/v1/demo/tank-t101/telemetry' && m.at > offlineAt), 5000);
  }, 30_000);

  // The issue asks for 30 s of broker outage; 4 s covers the same path (disconnect, outbox, reconnect,
  // batched replay) with about 20 polls per device buffered, and keeps the suite fast.
  // HAZWATCH_TEST_GATEWAY_OUTAGE_MS=30000 runs the full 30 s. The broker is made
  // unreachable by cutting the gateway's TCP relay: broker and ingest stay up, so what is measured is the
  // gateway's buffering alone (a broker restart also tests the broker's session persistence: broker tests).
  it('loses no reading while the broker is unreachable, and replays them with their poll timestamps', async () => {
    const OUTAGE_MS = Number(process.env.HAZWATCH_TEST_GATEWAY_OUTAGE_MS ?? 4000);
    await gateway.publisher.idle();
    const downAt = Date.now();
    await relay.cut();
    await waitFor(() => !gateway.publisher.connected, 5000);
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const taken = await readingCount(metrics, 'meter-mcc1');
    await relay.restore();
    const upAt = Date.now();
    await waitFor(() => gateway.publisher.connected, 10_000);
    await gateway.publisher.idle();
    const countQ = `SELECT count("voltage") FROM "power_meter" WHERE "device" = 'meter-mcc1'`;
    const stored = async () => ((await influxRows(db.db, countQ))[0]?.count as number | undefined) ?? 0;
    await waitFor(async () => (await stored()) >= taken, 20_000);
    const outageQ = `SELECT count("voltage") FROM "power_meter" WHERE "device" = 'meter-mcc1' AND time >= ${downAt}ms AND time <= ${upAt}ms`;
    const inOutage = ((await influxRows(db.db, outageQ))[0]?.count as number | undefined) ?? 0;
    // Polls every 200 ms: the outage holds about OUTAGE_MS / 200 readings, stored at their poll time.
    expect(inOutage).toBeGreaterThanOrEqual(Math.floor(OUTAGE_MS / 200 / 2));

    // Exact account: stop the meter, let the outbox empty, then every reading the gateway ever took
    // for it since the start of this file is in InfluxDB, once.
    await sims.get('power-meter')!.stop();
    await waitFor(() => gateway.pollers.find((p) => p.name === 'meter-mcc1')!.state === 'offline', 10_000);
    await gateway.publisher.idle();
    const total = await readingCount(metrics, 'meter-mcc1');
    await waitFor(async () => (await stored()) >= total, 20_000);
    expect(await stored()).toBe(total);
  }, 120_000);
});
