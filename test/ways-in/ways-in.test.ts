// The three ways in give one result (issue 14): a native hw/v1 gas detector, a Sparkplug B edge node's
// detector and a 4-channel gas DTU's channel behind a vendor map each report the same two readings over
// the second stage. Every message is sent with Mosquitto's own client (mosquitto_pub), the Sparkplug
// ones as protobuf files made with the Eclipse Tahu codec; the stored points (time and value) and the
// alarms (condition and level) of the three devices must be the same.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import sparkplugPayload from 'sparkplug-payload';
import type { UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlarmEventPayload } from '../../contract/alarms.ts';
import { loadConfig, type Config } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startIngest } from '../../ingest/service.ts';
import { startRules } from '../../rules/service.ts';
import { startSparkplug } from '../../sparkplug/service.ts';
import { startVendor } from '../../vendor/service.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { createTestDatabase, influxQuery } from '../support/influx.ts';
import { mosquittoClient } from '../support/mosquitto.ts';
import { waitFor } from '../support/net.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const codec = sparkplugPayload.get('spBv1.0')!;
const DEVICES = ['lel-native', 'lel-201', 'dtu-01-ch1'];

let dir: string;
let broker: TestBroker;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let observer: MqttClient;
const services: { close(): Promise<void> }[] = [];
const alarms: AlarmEventPayload[] = [];
const accounts: Record<string, { username: string; password: string; clientId: string }> = {};

function config(service: { username: string; password: string }): Config {
  return loadConfig({
    env: {},
    overrides: {
      dataDir: dir,
      mqtt: { url: broker.url, username: service.username, password: service.password },
      ingest: { instance: 'ways-in', healthIntervalS: 3600, influx: { kind: 'v1', url: db.url, database: db.db }, batch: { flushMs: 50 } },
      rules: { tickMs: 100, pollMs: 50, clientId: `${service.username}:ways-in` },
      sparkplug: { maps: [join(ROOT, 'sparkplug/examples/edge-1.yaml')] },
      vendor: { maps: [join(ROOT, 'vendor/examples/maps')] },
    },
  });
}

async function publish(account: string, topic: string, message: { text: string } | { file: string }): Promise<void> {
  const a = accounts[account];
  const body = 'text' in message ? ['-m', message.text] : ['-f', message.file];
  const res = await mosquittoClient('mosquitto_pub', broker.port, ['-i', a.clientId, '-u', a.username, '-P', a.password, '-q', '1', '-t', topic, ...body]);
  expect(res.code, res.out).toBe(0);
}

/** A Sparkplug payload as the edge node's file, for mosquitto_pub -f. */
function sparkplugFile(name: string, payload: UPayload): { file: string } {
  const file = join(dir, `${name}.pb`);
  writeFileSync(file, Buffer.from(codec.encodePayload(payload)));
  return { file };
}

const chinaTime = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hw-ways-in-'));
  broker = await startTestBroker({ dataDir: dir, broker: { publishRatePerSecond: 0, aclFile: join(ROOT, 'vendor/examples/acl.yaml') } });
  db = await createTestDatabase('hw_ways_in');
  const reg = broker.registry;
  accounts.native = await reg.addDevice({ enterprise: 'demo-chem', id: 'lel-native', class: 'gas_combustible' });
  accounts.edge = await reg.addGateway('demo-chem', 'edge-1');
  accounts.dtu = await reg.addGateway('demo-chem', 'dtu-01');
  const start = { log: silentLogger(), metrics: createMetricsRegistry(), registry: reg };
  const ingest = await startIngest({ config: config(await reg.setService('ingest')), ...start });
  const rules = await startRules({ config: config(await reg.setService('rules')), ...start, metrics: createMetricsRegistry() });
  const host = await startSparkplug({ config: config(await reg.setService('sparkplug')), ...start, metrics: createMetricsRegistry() });
  const vendor = await startVendor({ config: config(await reg.setService('vendor')), ...start, metrics: createMetricsRegistry() });
  services.push(vendor, host, rules, ingest);
  await Promise.all([ingest.ready, rules.ready, host.ready, vendor.ready]);
  observer = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
  observer.on('message', (_topic, payload) => alarms.push(AlarmEventPayload.parse(JSON.parse(payload.toString()))));
  await observer.subscribeAsync('hw/v1/demo-chem/+/alarm', { qos: 1 });
}, 60_000);

afterAll(async () => {
  await observer?.endAsync(true);
  for (const s of services) await s.close();
  await broker?.close();
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('native, Sparkplug B and vendor JSON: the same readings give the same points and alarms', () => {
  it('stores the same points and raises the same alarm for the three devices', async () => {
    const t1 = Math.floor(Date.now() / 1000) * 1000 - 20_000;
    const t2 = t1 + 5000;
    // Native: the contract's JSON on the device's own topic.
    for (const ts of [t1, t2]) await publish('native', 'hw/v1/demo-chem/lel-native/telemetry', { text: JSON.stringify({ ts, values: { lel: 60 } }) });
    // Sparkplug B: the node's birth, the device's birth with the first reading, then DATA by alias.
    await publish('edge', 'spBv1.0/demo-chem/NBIRTH/edge-1', sparkplugFile('nbirth', { timestamp: t1, seq: 0, metrics: [{ name: 'bdSeq', type: 'Int64', value: 0 }, { name: 'Node Control/Rebirth', type: 'Boolean', value: false }] }));
    await publish('edge', 'spBv1.0/demo-chem/DBIRTH/edge-1/LEL-201', sparkplugFile('dbirth', { timestamp: t1, seq: 1, metrics: [{ name: 'Gas/LEL', alias: 1, type: 'Double', value: 60, timestamp: t1 }] }));
    await publish('edge', 'spBv1.0/demo-chem/DDATA/edge-1/LEL-201', sparkplugFile('ddata', { timestamp: t2, seq: 2, metrics: [{ alias: 1, type: 'Double', value: 60, timestamp: t2 }] }));
    // Vendor JSON: the gas DTU's array of channels with its local time (vendor/examples/maps/gas-dtu-4ch.yaml).
    for (const ts of [t1, t2]) await publish('dtu', 'gasdtu/dtu-01/up', { text: JSON.stringify({ sn: 'DTU-01', time: chinaTime(ts), ch: [{ no: 1, gas: 'CH4', val: '60.0', unit: '%LEL', st: 2 }] }) });

    const points = async () => {
      const res = await influxQuery(db.db, `SELECT lel FROM gas_combustible WHERE device =~ /^(${DEVICES.join('|')})$/ GROUP BY device`);
      return Object.fromEntries((res.results[0].series ?? []).map((s) => [s.tags!.device, s.values.map((v) => [v[0], v[1]])]));
    };
    await waitFor(async () => Object.values(await points()).filter((p) => p.length === 2).length === 3, 15_000);
    const stored = await points();
    for (const d of DEVICES) expect(stored[d], d).toEqual([[t1, 60], [t2, 60]]);

    const raised = (d: string) => alarms.filter((a) => a.alarm.device === d && a.change.action === 'raised').map((a) => `${a.alarm.condition} level ${a.alarm.level}`);
    await waitFor(() => DEVICES.every((d) => raised(d).length > 0), 15_000);
    expect(raised('lel-native')).toEqual(['HW_ALM_GAS_LEL_HIGH level 1']);
    for (const d of DEVICES) expect(raised(d), d).toEqual(raised('lel-native'));
  });
});
