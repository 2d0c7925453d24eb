// Devices that connect, report and disconnect (NB-IoT and battery devices: wireless smoke alarms,
// hydrant pressure terminals) are offline only when nothing arrives within what they promised
// (interval × tolerance), never because their TCP connection closed; an always-connected device is
// offline when its connection is lost for longer than its grace (contract/presence.ts).
//   HAZWATCH_FAULT_INTERMITTENT=200 devices, each reporting every 4 s with a tolerance of 2
import { spawn } from 'node:child_process';
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import type { Credentials } from '../../registry/registry.ts';
import { sleep, startPipeline, until, type Pipeline } from './harness.ts';

const COUNT = Number(process.env.HAZWATCH_FAULT_INTERMITTENT ?? 200);
const INTERVAL_S = 4;
const TOLERANCE = 2;
let p: Pipeline | undefined;
afterAll(async () => p?.close());

/** One report the way such a device sends it: connect, publish QoS 1, clean DISCONNECT. */
async function report(url: string, c: Credentials, enterprise: string, id: string): Promise<void> {
  const client = await mqtt.connectAsync(url, { ...c, reconnectPeriod: 0, clean: true, connectTimeout: 10_000 });
  try {
    await client.publishAsync(`hw/v1/${enterprise}/${id}/telemetry`, JSON.stringify({ ts: Date.now(), values: { battery: 90, signal: -80 } }), { qos: 1 });
  } finally {
    await client.endAsync();
  }
}

/** The sequence of the issue, with the third-party client: mosquitto_pub connects, publishes QoS 1, disconnects. */
function mosquittoPub(port: number, c: Credentials, topic: string, message: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(port), '-u', c.username, '-P', c.password, '-i', c.clientId, '-q', '1', '-t', topic, '-m', message], { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code ?? -1));
  });
}

it(`${COUNT} intermittent devices on their own schedules raise no offline alarm; the one that stops raises one; an always-connected one raises one after its grace`, async () => {
  const smoke = Array.from({ length: COUNT }, (_, i) => `smk-${String(i).padStart(4, '0')}`);
  const creds = new Map<string, Credentials>();
  p = await startPipeline({
    ingest: false,
    devices: 10,
    rules: true,
    provision: async (registry) => {
      const added = await registry.addDevices(smoke.map((id) => ({ enterprise: 'im', id, class: 'smoke_alarm' as const, intervalSeconds: INTERVAL_S, connection: { tolerance: TOLERANCE } })));
      smoke.forEach((id, i) => creds.set(id, added[i]));
      // Class defaults: a combustible gas detector is always connected with a 30 s grace (catalog).
      creds.set('gas-pub', await registry.addDevice({ enterprise: 'im', id: 'gas-pub', class: 'gas_combustible' }));
      creds.set('gas-ac', await registry.addDevice({ enterprise: 'im', id: 'gas-ac', class: 'gas_combustible', connection: { graceSeconds: 3 } }));
    },
  });
  const url = p.url;

  const raised: { device: string; at: number; message: string }[] = [];
  const offlinePresence = new Map<string, { heardAt: number | null; offlineAt: number | null; reason: string | null }>();
  const watch = await mqtt.connectAsync(url, { ...p.services.watch, clientId: `${p.services.watch.clientId}:im`, reconnectPeriod: 0 });
  let listening = true;
  watch.on('message', (topic, payload) => {
    if (!listening) return;
    const body = JSON.parse(payload.toString());
    const device = topic.split('/')[3];
    if (topic.endsWith('/alarm') && body.alarm?.condition === 'HW_ALM_DEVICE_OFFLINE' && body.change?.action === 'raised') raised.push({ device, at: Date.now(), message: body.alarm.message });
    if (topic.endsWith('/presence') && body.state === 'offline' && !offlinePresence.has(device)) offlinePresence.set(device, body);
  });
  await watch.subscribeAsync(['hw/v1/im/+/alarm', 'hw/v1/im/+/presence'], { qos: 1 });

  // Each device on its own schedule: a random phase, then every interval with ±20 % jitter.
  const lastSent = new Map<string, number>();
  const stopped = new Set<string>();
  let running = true;
  let failures = 0;
  const schedules = smoke.map(async (id) => {
    await sleep(Math.random() * INTERVAL_S * 1000);
    while (running && !stopped.has(id)) {
      await report(url, creds.get(id)!, 'im', id).then(() => lastSent.set(id, Date.now()), () => failures++);
      await sleep(INTERVAL_S * 1000 * (0.8 + Math.random() * 0.4));
    }
  });
  // The gas detector: one reading every 2 s with mosquitto_pub.
  const pubCodes: number[] = [];
  const gasPub = (async () => {
    while (running) {
      pubCodes.push(await mosquittoPub(p!.port, creds.get('gas-pub')!, 'hw/v1/im/gas-pub/telemetry', JSON.stringify({ values: { lel: 3 } })));
      await sleep(2000);
    }
  })();
  // The always-connected detector: one connection, a reading every 2 s, its last will set.
  const ac = await mqtt.connectAsync(url, { ...creds.get('gas-ac')!, reconnectPeriod: 0, will: { topic: 'hw/v1/im/gas-ac/status', payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } });
  await ac.publishAsync('hw/v1/im/gas-ac/status', '{"state":"online"}', { qos: 1, retain: true });
  const acTimer = setInterval(() => ac.publish('hw/v1/im/gas-ac/telemetry', JSON.stringify({ values: { lel: 2 } }), { qos: 1 }), 2000);

  // Several intervals of coming and going: nothing raised.
  await sleep(INTERVAL_S * 1000 * 6);
  const quiet = raised.length;

  // One smoke alarm stops reporting; the rest go on.
  const silent = smoke[7];
  stopped.add(silent);
  await until(() => raised.some((r) => r.device === silent), (INTERVAL_S * TOLERANCE + 15) * 1000, 100);
  // The always-connected detector loses its link without DISCONNECT: the broker sends its will.
  clearInterval(acTimer);
  const lostAt = Date.now();
  ac.stream.destroy();
  await until(() => raised.some((r) => r.device === 'gas-ac'), 20_000, 100);
  await sleep(3000);
  // The devices stop with the test: what follows is their legitimate silence, not watched.
  listening = false;
  running = false;
  await Promise.all([...schedules, gasPub]);
  await watch.endAsync();

  const silentAlarm = raised.find((r) => r.device === silent);
  const acAlarm = raised.find((r) => r.device === 'gas-ac');
  const silentPresence = offlinePresence.get(silent);
  console.log(
    `intermittent: ${COUNT} devices every ${INTERVAL_S} s (tolerance ${TOLERANCE}), ${lastSent.size} reported, ${failures} reports failed; ` +
      `offline alarms while all reported: ${quiet}; the silent one raised ${silentAlarm ? ((silentAlarm.at - lastSent.get(silent)!) / 1000).toFixed(1) : '-'} s after its last report; ` +
      `always-connected raised ${acAlarm ? ((acAlarm.at - lostAt) / 1000).toFixed(1) : '-'} s after losing its link; mosquitto_pub runs ${pubCodes.length}`,
  );
  expect(failures).toBe(0);
  expect(lastSent.size).toBe(COUNT);
  expect(pubCodes.length).toBeGreaterThan(10);
  expect(pubCodes.every((c) => c === 0)).toBe(true);
  expect(quiet).toBe(0);
  // Exactly two offline alarms in the whole run: the silent smoke alarm and the detector that lost its link.
  expect(raised.map((r) => r.device).sort()).toEqual(['gas-ac', silent].sort());
  expect(silentAlarm!.message).toMatch(new RegExp(`nothing heard for more than ${INTERVAL_S * TOLERANCE} s`));
  // Judged offline exactly interval × tolerance after it was last heard, and alarmed no earlier.
  expect(silentPresence).toMatchObject({ reason: 'silent' });
  expect(silentPresence!.offlineAt! - silentPresence!.heardAt!).toBe(INTERVAL_S * TOLERANCE * 1000);
  expect(silentAlarm!.at).toBeGreaterThanOrEqual(silentPresence!.heardAt! + INTERVAL_S * TOLERANCE * 1000);
  expect(acAlarm!.message).toMatch(/connection lost for more than 3 s/);
  expect(acAlarm!.at - lostAt).toBeGreaterThanOrEqual(3000);
  expect(offlinePresence.get('gas-ac')).toMatchObject({ reason: 'connection_lost' });
  expect([...offlinePresence.keys()].sort()).toEqual(['gas-ac', silent].sort());
});
