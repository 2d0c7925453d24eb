// Reporting upward end to end: a real hazwatch broker and registry (an enterprise, a hazard source, two
// devices), devices publishing readings under their own accounts, alarm changes published on the alarm
// topic as the rules engine publishes them (AlarmEventPayload, with the service account), and
// `hazwatch northbound` with the shipped example map sending them to two simulated upper platforms:
//   (a) over MQTT, to a Mosquitto of its own (persistence on, so that a subscriber recording what arrives
//       keeps its session across the outage), readings per 10 s interval; the outage is Mosquitto
//       stopped and started again on the same port;
//   (b) over HTTP, to a server in this test recording the POSTs, every reading; the outage is this
//       server answering 503 for a while: a fake, there only to inject that fault.
//   (c) the demo's map to the demo's simulated provincial platform (simulators/province.ts), through
//       one of its scheduled outages: every reading arrives once it is back.
// Asserted: base data first; every interval, every reading and every alarm change arrives with the
// mapped fields; nothing lost and each device's order kept across the outage; the backlog on the
// platform topic; a forwarder restarted in the middle of the outage resumes from its spool.
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { AlarmEventPayload } from '../../contract/alarms.ts';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { openHazardSources } from '../../registry/hazard-sources.ts';
import type { Credentials } from '../../registry/registry.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { findMosquitto } from '../../test/support/mosquitto.ts';
import { freePort, waitFor } from '../../test/support/net.ts';
import { childServer, type ChildServer } from '../../test/support/server.ts';
import { startNorthbound, type NorthboundService, type NorthboundState } from '../service.ts';
import { startProvinceSim, type ProvinceSim } from '../../simulators/province.ts';

const EXAMPLE = new URL('../examples/province.yaml', import.meta.url).pathname;
const DEMO_MAP = new URL('../examples/demo-province.yaml', import.meta.url).pathname;
const ACME = '91370000EXAMPLE0002';
const INTERVAL_S = 10;

type Body = Record<string, any>;

let dir: string;
let broker: TestBroker;
let service: Credentials;
const devices: Record<string, MqttClient> = {};
let observer: MqttClient;
const states: NorthboundState[] = [];

/** The upper platform's broker: a Mosquitto of its own that keeps sessions across a stop and start. */
async function upperMosquitto(): Promise<{ url: string; server: ChildServer; remove(): Promise<void> }> {
  const bin = findMosquitto();
  if (!bin) throw new Error("mosquitto not found: install Debian's mosquitto package (bash .ci/run does)");
  const home = mkdtempSync(join(tmpdir(), 'hw-nb-upper-'));
  // Mosquitto run as root drops to its own user, which must write its persistence file here.
  chmodSync(home, 0o777);
  const port = await freePort();
  writeFileSync(join(home, 'mosquitto.conf'), [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence true', `persistence_location ${home}/`, 'log_dest none', ''].join('\n'));
  const server = childServer({
    name: 'mosquitto (upper platform)',
    command: bin,
    args: ['-c', join(home, 'mosquitto.conf')],
    ready: () =>
      new Promise((resolve) => {
        const s = createConnection({ host: '127.0.0.1', port });
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }),
  });
  await server.start();
  return { url: `mqtt://127.0.0.1:${port}`, server, remove: async () => (await server.stop(), rmSync(home, { recursive: true, force: true })) };
}

/** The example map with another transport (and, for HTTPS, each topic made a path). */
function mapFile(name: string, transport: Record<string, unknown>): string {
  const map = parseYaml(readFileSync(EXAMPLE, 'utf8')) as Body;
  map.name = name;
  map.transport = transport;
  if (transport.kind === 'https') {
    for (const [kind, m] of Object.entries(map.messages as Record<string, Body>)) {
      delete m.topic;
      m.path = `/{enterprise|enterpriseCode}/${kind}`;
    }
  }
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(map));
  return file;
}

/** The Prometheus registry of each forwarder's last start. */
const metricsOf: Record<string, ReturnType<typeof createMetricsRegistry>> = {};

async function metric(instance: string, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = await metricsOf[instance].getSingleMetric(name)!.get();
  return m.values.filter((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l)).reduce((n, v) => n + v.value, 0);
}

async function forwarder(map: string, instance: string, readingIntervalSeconds: number): Promise<NorthboundService> {
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      mqtt: { url: broker.url, username: service.username, password: service.password },
      northbound: { map, instance, readingIntervalSeconds, readingGraceSeconds: 0.5, stateIntervalSeconds: 0.2, baseCheckSeconds: 1, retry: { minMs: 100, maxMs: 500 } },
    },
  });
  metricsOf[instance] = createMetricsRegistry();
  const nb = await startNorthbound({ config, log: silentLogger(), metrics: metricsOf[instance], registry: broker.registry });
  await nb.ready;
  return nb;
}

async function reading(device: string, body: unknown): Promise<void> {
  await devices[device].publishAsync(`hw/v1/acme/${device}/telemetry`, JSON.stringify(body), { qos: 1 });
}

/** An alarm change as the rules engine publishes it on hw/v1/<enterprise>/<device>/alarm. */
async function alarmChange(seq: number, action: string, state: string, level: number, at: number): Promise<void> {
  const raisedAt = at - (seq - 1) * 1000;
  const payload = AlarmEventPayload.parse({
    alarm: {
      id: 'alarm-tank-01-level', enterprise: 'acme', device: 'tank-01', deviceClass: 'vessel', site: 'farm', hazardSource: 'hs-1', condition: 'HW_ALM_LEVEL_HIGH',
      level, peakLevel: level, state, metric: 'level', value: 9.2, threshold: 9, message: 'level 9.2 m above its H limit 9 m', messageZh: null, raisedAt, updatedAt: at,
      acknowledgedAt: null, acknowledgedBy: null, clearedAt: null, closedAt: null, closedBy: null, shelvedUntil: null, cause: null, parentId: null,
    },
    change: { alarmId: 'alarm-tank-01-level', seq, at, action, by: 'system', level, state, value: 9.2, note: null, data: null },
  });
  await observer.publishAsync('hw/v1/acme/tank-01/alarm', JSON.stringify(payload), { qos: 1 });
}

/** Local time at UTC+8, as the example map writes it. */
function local(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

const lastState = (instance: string) => [...states].reverse().find((s) => s.instance === instance);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hw-northbound-'));
  broker = await startTestBroker({ broker: { publishRatePerSecond: 0 } });
  const reg = broker.registry;
  await reg.addEnterprise('acme', 'Acme Chemicals');
  const sources = await openHazardSources(reg.database);
  await sources.put({ enterprise: 'acme', id: 'hs-1', name: 'Tank farm A', grade: 1, x: 100, y: 100 });
  await sources.setPlace({ enterprise: 'acme', x: 0, y: 0, width: 200, height: 200, address: '1 Harbour Road' });
  const creds = {
    'tank-01': await reg.addDevice({ enterprise: 'acme', id: 'tank-01', class: 'vessel', name: 'Tank 1', site: 'farm', hazardSource: 'hs-1' }),
    'gas-01': await reg.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible', name: 'Gas detector', site: 'farm', hazardSource: 'hs-1' }),
  };
  for (const [id, c] of Object.entries(creds)) devices[id] = await mqtt.connectAsync(broker.url, { ...c, reconnectPeriod: 0 });
  service = await reg.setService('northbound');
  observer = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
  observer.on('message', (_, payload) => states.push(JSON.parse(payload.toString()) as NorthboundState));
  await observer.subscribeAsync('hw/platform/northbound/+', { qos: 1 });
}, 30_000);

afterAll(async () => {
  for (const d of Object.values(devices)) await d.endAsync(true);
  await observer?.endAsync(true);
  await broker?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('northbound over MQTT to a Mosquitto of the upper platform, readings per interval', () => {
  let upper: Awaited<ReturnType<typeof upperMosquitto>>;
  let recorder: MqttClient;
  let nb: NorthboundService;
  const got: { topic: string; body: Body }[] = [];
  const kindOf = (topic: string) => topic.split('/').slice(2).join('/');
  const realtime = (equip: string) => got.filter((g) => kindOf(g.topic) === 'realtime' && g.body.equipCode === `${ACME}-${equip}`).map((g) => g.body);
  // Intervals a minute back: over (and their grace) as soon as their readings are in.
  const t0 = Math.floor((Date.now() - 120_000) / (INTERVAL_S * 1000)) * INTERVAL_S * 1000;

  beforeAll(async () => {
    upper = await upperMosquitto();
    recorder = mqtt.connect(upper.url, { clientId: 'upper-recorder', clean: false, reconnectPeriod: 200 });
    recorder.on('message', (topic, payload) => got.push({ topic, body: JSON.parse(payload.toString()) as Body }));
    await new Promise<void>((resolve) => recorder.once('connect', () => resolve()));
    await recorder.subscribeAsync('hazchem/#', { qos: 1 });
    nb = await forwarder(mapFile('mqtt-province', { kind: 'mqtt', url: upper.url, clientId: 'nb-acme', qos: 1 }), 'mqtt-province', INTERVAL_S);
  }, 30_000);

  afterAll(async () => {
    await nb?.close();
    await recorder?.endAsync(true);
    await upper?.remove();
  });

  it('sends the base data first: enterprise, hazard source, devices, with the mapped codes', async () => {
    await waitFor(() => got.filter((g) => kindOf(g.topic).startsWith('base/')).length === 4, 10_000);
    expect(got.map((g) => kindOf(g.topic))).toEqual(['base/enterprise', 'base/hazard', 'base/equipment', 'base/equipment']);
    expect(got[0]).toMatchObject({ topic: `hazchem/${ACME}/base/enterprise`, body: { companyCode: ACME, companyName: 'Acme Chemicals', address: '1 Harbour Road', msgId: expect.stringMatching(/^mqtt-province-\d+$/) } });
    expect(got[1].body).toMatchObject({ companyCode: ACME, hazardCode: '370000EX0002', hazardName: 'Tank farm A', hazardGrade: '01', riskColour: 'R' });
    expect(got.slice(2).map((g) => g.body)).toEqual([
      expect.objectContaining({ equipCode: `${ACME}-gas-01`, equipType: 'KR', hazardCode: '370000EX0002', status: '1', location: 'farm' }),
      expect.objectContaining({ equipCode: `${ACME}-tank-01`, equipType: 'CG', equipName: 'Tank 1' }),
    ]);
  });

  it('sends the latest value of each metric per device and interval, and only what ingest would store', async () => {
    await reading('tank-01', { ts: t0 + 1000, values: { level: 1.0, temperature: 20 } });
    await reading('tank-01', { ts: t0 + 4000, values: { level: 1.5 } });
    // Outside the physical range (0 … 50 m): refused by the contract, so not sent either.
    await reading('tank-01', { ts: t0 + 5000, values: { level: 99 } });
    await reading('tank-01', { readings: [{ ts: t0 + 12_000, values: { level: 2.0, temperature: 21 } }, { ts: t0 + 13_000, values: { temperature: 21.5 } }] });
    await reading('gas-01', { ts: t0 + 2000, values: { lel: 3 } });
    await waitFor(() => realtime('tank-01').length === 2 && realtime('gas-01').length === 1, 10_000);
    expect(realtime('tank-01')).toEqual([
      expect.objectContaining({
        equipType: 'CG',
        hazardCode: '370000EX0002',
        collectTime: local(t0 + 4000),
        datas: [
          { quotaCode: 'LT', quotaName: '液位', value: 1.5, unit: 'm', dataTime: local(t0 + 4000) },
          { quotaCode: 'TE', quotaName: '温度', value: 20, unit: '°C', dataTime: local(t0 + 1000) },
        ],
      }),
      expect.objectContaining({
        collectTime: local(t0 + 13_000),
        datas: [
          { quotaCode: 'LT', quotaName: '液位', value: 2, unit: 'm', dataTime: local(t0 + 12_000) },
          { quotaCode: 'TE', quotaName: '温度', value: 21.5, unit: '°C', dataTime: local(t0 + 13_000) },
        ],
      }),
    ]);
    expect(realtime('gas-01')).toEqual([expect.objectContaining({ equipType: 'KR', datas: [{ quotaCode: 'LEL', quotaName: '可燃气体浓度', value: 3, unit: '%LEL', dataTime: local(t0 + 2000) }] })]);
  });

  it('sends every alarm change as it happens, once, with level, type and status codes', async () => {
    const at = Date.now() - 5000;
    await alarmChange(1, 'raised', 'active_unacknowledged', 2, at);
    await alarmChange(2, 'escalated', 'active_unacknowledged', 1, at + 1000);
    // Published again (the rules outbox is at-least-once) and a change the map does not send.
    await alarmChange(2, 'escalated', 'active_unacknowledged', 1, at + 1000);
    await alarmChange(3, 'notified', 'active_unacknowledged', 1, at + 1500);
    await alarmChange(4, 'acknowledged', 'active_acknowledged', 1, at + 2000);
    await waitFor(() => got.filter((g) => kindOf(g.topic) === 'alarm').length === 3, 10_000);
    await new Promise((r) => setTimeout(r, 300));
    const alarms = got.filter((g) => kindOf(g.topic) === 'alarm').map((g) => g.body);
    expect(alarms.map((a) => [a.alarmStatus, a.alarmLevel, a.changeTime])).toEqual([
      ['1', '2', local(at)],
      ['2', '1', local(at + 1000)],
      ['4', '1', local(at + 2000)],
    ]);
    expect(alarms[0]).toMatchObject({ alarmId: 'alarm-tank-01-level', alarmType: 'H', quotaCode: 'LT', alarmValue: 9.2, threshold: 9, content: '液位高报', equipCode: `${ACME}-tank-01`, hazardCode: '370000EX0002', alarmTime: local(at) });
  });

  it('an outage of the upper broker delays, loses nothing, keeps each device in order, and shows the backlog', async () => {
    await upper.server.stop();
    await waitFor(() => lastState('mqtt-province')?.connected === false, 10_000);
    // Four more intervals of the tank, two of the gas detector, an alarm change.
    const t1 = t0 + 20_000;
    for (let i = 0; i < 4; i++) await reading('tank-01', { ts: t1 + i * 10_000 + 500, values: { level: 3 + i } });
    for (let i = 0; i < 2; i++) await reading('gas-01', { ts: t1 + i * 10_000 + 700, values: { lel: 10 + i } });
    const at = Date.now() - 1000;
    await alarmChange(5, 'cleared', 'cleared_acknowledged', 1, at);
    await waitFor(() => (lastState('mqtt-province')?.backlog.rows ?? 0) >= 7, 10_000);
    const during = lastState('mqtt-province')!;
    expect(during).toMatchObject({ connected: false, transport: upper.url, lastError: { message: expect.stringMatching(/ECONNREFUSED|not connected|closed/) } });
    expect(during.backlog.oldestAgeS).toBeGreaterThanOrEqual(0);

    await upper.server.start();
    await waitFor(() => realtime('tank-01').length === 6 && realtime('gas-01').length === 3 && got.filter((g) => kindOf(g.topic) === 'alarm').length === 4, 15_000);
    expect(realtime('tank-01').map((b) => b.datas[0].value)).toEqual([1.5, 2, 3, 4, 5, 6]);
    expect(realtime('gas-01').map((b) => b.datas[0].value)).toEqual([3, 10, 11]);
    expect(got.filter((g) => kindOf(g.topic) === 'alarm').at(-1)!.body).toMatchObject({ alarmStatus: '5', changeTime: local(at) });
    await waitFor(() => lastState('mqtt-province')?.connected === true && lastState('mqtt-province')?.backlog.rows === 0, 5000);
  });
});

describe('northbound over HTTP(S) to a server recording the POSTs, every reading', () => {
  let server: Server;
  let url: string;
  // A fake upper platform; `failing` makes it answer 503, only to inject an outage.
  let failing = false;
  const posts: { path: string; body: Body }[] = [];
  let nb: NorthboundService;
  let map: string;
  const of = (kind: string) => posts.filter((p) => p.path === `/api/${ACME}/${kind}`).map((p) => p.body);
  const tankReadings = () => of('reading').filter((b) => b.equipCode === `${ACME}-tank-01`).map((b) => b.datas[0].value as number);

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (d) => (text += d));
      req.on('end', () => {
        if (failing) {
          res.writeHead(503, { 'content-type': 'application/json' }).end('{"code":503,"msg":"maintenance"}');
          return;
        }
        posts.push({ path: req.url!, body: JSON.parse(text) as Body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"code":0,"msg":"ok"}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/api`;
    map = mapFile('https-province', { kind: 'https', url, headers: { Authorization: 'Bearer t0ken' }, accept: { field: 'code', values: [0] } });
    nb = await forwarder(map, 'https-province', 0);
  }, 30_000);

  afterAll(async () => {
    await nb?.close();
    await new Promise((r) => server?.close(r));
  });

  it('sends the base data first, then every reading as it comes', async () => {
    await waitFor(() => posts.length >= 4, 10_000);
    expect(posts.slice(0, 4).map((p) => p.path.split('/').at(-1))).toEqual(['enterprise', 'hazardSource', 'device', 'device']);
    const t = Date.now() - 3000;
    await reading('tank-01', { ts: t, values: { level: 4.25, temperature: 30 } });
    await reading('tank-01', { ts: t + 1000, values: { pressure: 0.3 } });
    await waitFor(() => of('reading').length === 2, 10_000);
    expect(of('reading')).toEqual([
      expect.objectContaining({ collectTime: local(t), datas: [expect.objectContaining({ quotaCode: 'LT', value: 4.25 }), expect.objectContaining({ quotaCode: 'TE', value: 30 })] }),
      expect.objectContaining({ collectTime: local(t + 1000), datas: [{ quotaCode: 'PT', quotaName: '压力', value: 0.3, unit: 'MPa', dataTime: local(t + 1000) }] }),
    ]);
  });

  it('sends base data again when it changes', async () => {
    await broker.registry.updateDevice('acme', 'gas-01', { name: 'Gas detector LEL-1' });
    const sources = await openHazardSources(broker.registry.database);
    await sources.put({ enterprise: 'acme', id: 'hs-1', name: 'Tank farm A', grade: 2, x: 100, y: 100 });
    await waitFor(() => of('device').some((b) => b.equipName === 'Gas detector LEL-1') && of('hazardSource').some((b) => b.hazardGrade === '02'), 10_000);
    expect(of('device').filter((b) => b.equipCode === `${ACME}-tank-01`)).toHaveLength(1);
  });

  it('through a 503 outage and a restart of the forwarder in the middle of it, nothing is lost and the order is kept', async () => {
    failing = true;
    const t = Date.now() - 10_000;
    await reading('tank-01', { ts: t, values: { level: 5 } });
    await reading('tank-01', { ts: t + 100, values: { level: 6 } });
    await reading('gas-01', { ts: t + 150, values: { lel: 7 } });
    await alarmChange(6, 'closed', 'closed', 1, Date.now() - 500);
    await reading('tank-01', { ts: t + 200, values: { level: 7 } });
    await waitFor(() => (lastState('https-province')?.backlog.rows ?? 0) >= 5, 10_000);
    expect(lastState('https-province')).toMatchObject({ connected: false, lastError: { message: expect.stringContaining('HTTP 503') } });
    await waitFor(async () => (await metric('https-province', 'hazwatch_northbound_backlog_rows')) >= 5, 5000);
    expect(await metric('https-province', 'hazwatch_northbound_send_failures_total', { reason: 'http_5xx' })).toBeGreaterThan(0);
    expect(await metric('https-province', 'hazwatch_northbound_connected')).toBe(0);

    // Stopped with its backlog; readings meanwhile wait in its persistent session at the broker.
    await nb.close();
    await reading('tank-01', { ts: t + 300, values: { level: 8 } });
    await reading('tank-01', { ts: t + 400, values: { level: 9 } });
    nb = await forwarder(map, 'https-province', 0);
    await waitFor(() => nb.state().backlog.rows >= 7, 10_000);

    failing = false;
    await waitFor(() => tankReadings().includes(9) && of('alarm').length === 1 && nb.state().backlog.rows === 0, 15_000);
    expect(tankReadings()).toEqual([4.25, 0.3, 5, 6, 7, 8, 9]);
    expect(of('reading').filter((b) => b.equipCode === `${ACME}-gas-01`).map((b) => b.datas[0].value)).toEqual([7]);
    expect(of('alarm')[0]).toMatchObject({ alarmStatus: '6', equipCode: `${ACME}-tank-01` });
    // Sent at the restart: the base data again, after what was queued before it.
    expect(of('enterprise')).toHaveLength(2);
    expect(await metric('https-province', 'hazwatch_northbound_delivered_total', { kind: 'reading' })).toBe(6);
    expect(await metric('https-province', 'hazwatch_northbound_refused_total')).toBe(0);
  });
});

describe("the demo's map to the demo's simulated provincial platform (simulators/province.ts)", () => {
  // The platform's own clock decides its outage: up, then down until the test moves its clock on.
  const clock = { t: 0 };
  let province: ProvinceSim;
  let nb: NorthboundService;

  beforeAll(async () => {
    province = await startProvinceSim({ outage: { afterMs: 1000, forMs: 3_600_000 }, now: () => clock.t });
    process.env.HW_DEMO_PROVINCE_URL = province.url;
    nb = await forwarder(DEMO_MAP, 'demo-province', 0);
  }, 30_000);

  afterAll(async () => {
    await nb?.close();
    await province?.close();
    delete process.env.HW_DEMO_PROVINCE_URL;
  });

  const realtime = () => Object.entries(province.status().byPath).filter(([p]) => p.endsWith('/realtime')).reduce((n, [, v]) => n + v.count, 0);

  it('catches up after the outage of a minute in ten with nothing lost: every reading arrives, once', async () => {
    await waitFor(() => Object.keys(province.status().byPath).some((p) => p.endsWith('/base/equipment')), 10_000);
    const t = Date.now() - 5000;
    await reading('gas-01', { ts: t, values: { lel: 1 } });
    await waitFor(() => realtime() === 1, 10_000);
    clock.t = 2000; // the platform goes down
    for (let i = 0; i < 20; i++) await reading('gas-01', { ts: t + 10 + i, values: { lel: 2 + i } });
    await waitFor(() => province.status().refusedDuringOutage > 0 && nb.state().backlog.rows >= 20, 10_000);
    expect(realtime()).toBe(1);
    clock.t = 4_000_000; // and back
    await waitFor(() => realtime() >= 21 && nb.state().backlog.rows === 0, 20_000);
    const s = province.status();
    expect(realtime() - s.duplicates).toBe(21);
    expect(s).toMatchObject({ up: true, outages: 1 });
  });
});
