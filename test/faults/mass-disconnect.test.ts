// A whole site loses its link at once (a switch or a 4G router fails): every device drops without
// DISCONNECT in the same instant, so the broker publishes that many last wills together, and rules
// raises that many HW_ALM_DEVICE_OFFLINE alarms in one burst. aedes' mqemitter has been reported to
// overflow its stack under such bursts (mcollina/mqemitter#204): the broker must survive it, deliver
// every offline status, and take new connections afterwards; rules must raise one alarm per device.
//   HAZWATCH_FAULT_DROP=1000 devices
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import type { Credentials } from '../../registry/registry.ts';
import { fleetDevices } from '../../simulators/mix.ts';
import { provisionDevices } from '../../simulators/provision.ts';
import { sleep, startPipeline, until, type Pipeline } from './harness.ts';

const DROP = Number(process.env.HAZWATCH_FAULT_DROP ?? 1000);
let p: Pipeline | undefined;
const clients: MqttClient[] = [];
afterAll(async () => {
  for (const c of clients) c.end(true);
  await p?.close();
});

it(`${DROP} devices drop at the same instant: every will delivered, one offline alarm each, the broker lives on`, async () => {
  // Silent for an hour is normal for them: only the drop may raise HW_ALM_DEVICE_OFFLINE. All of them
  // are declared always connected (smoke alarms too) with a 2 s grace, so every lost link is an alarm.
  const devices = fleetDevices({ enterprises: 2, devicesPerEnterprise: Math.ceil(DROP / 2), prefix: 'x' })
    .slice(0, DROP)
    .map((d) => ({ ...d, intervalSeconds: 3600 }));
  let credentials = new Map<string, Credentials>();
  p = await startPipeline({
    ingest: false,
    devices: 10,
    rules: true,
    provision: async (registry) => {
      credentials = await provisionDevices(registry, devices);
      for (const d of devices) await registry.updateDevice(d.enterprise, d.id, { connection: { mode: 'always', graceSeconds: 2 } });
    },
  });

  const watch = await mqtt.connectAsync(p.url, { ...p.services.watch, clientId: `${p.services.watch.clientId}:drop`, reconnectPeriod: 0 });
  const offline = new Set<string>();
  const alarmed = new Set<string>();
  let early = 0;
  let dropping = false;
  watch.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString());
    const device = topic.split('/').slice(2, 4).join('/');
    if (topic.endsWith('/status') && body.state === 'offline') offline.add(device);
    if (topic.endsWith('/alarm') && body.alarm?.condition === 'HW_ALM_DEVICE_OFFLINE' && body.change?.action === 'raised') dropping ? alarmed.add(device) : early++;
  });
  await watch.subscribeAsync(['hw/v1/+/+/status', 'hw/v1/+/+/alarm'], { qos: 1 });

  for (const d of devices) {
    const c = credentials.get(`${d.enterprise}/${d.id}`)!;
    const status = `hw/v1/${d.enterprise}/${d.id}/status`;
    const client = mqtt.connect(p.url, { ...c, reconnectPeriod: 0, will: { topic: status, payload: Buffer.from(JSON.stringify({ state: 'offline' })), qos: 1, retain: true } });
    client.on('error', () => undefined);
    clients.push(client);
    if (clients.length % 100 === 0) await until(() => clients.every((x) => x.connected), 60_000, 100);
  }
  expect(await until(() => clients.every((x) => x.connected), 120_000, 200)).toBe(true);
  await Promise.all(clients.map((c, i) => c.publishAsync(`hw/v1/${devices[i].enterprise}/${devices[i].id}/status`, JSON.stringify({ state: 'online', ts: Date.now() }), { qos: 1, retain: true })));
  await sleep(1000);

  const t0 = Date.now();
  dropping = true;
  // The link goes: no DISCONNECT from anyone, all in one turn of the event loop.
  for (const c of clients) c.end(true);
  const allOffline = await until(() => offline.size >= DROP, 60_000, 100);
  const offlineMs = Date.now() - t0;
  const allAlarmed = await until(() => alarmed.size >= DROP, 120_000, 200);
  const alarmMs = Date.now() - t0;
  const brokerAlive = p.broker.child.exitCode === null && p.broker.child.signalCode === null;
  const overflow = /Maximum call stack size exceeded/.test(p.broker.output());
  const after = await mqtt.connectAsync(p.url, { ...p.services.watch, clientId: `${p.services.watch.clientId}:after`, reconnectPeriod: 0 }).then(
    async (c) => (await c.endAsync(), true),
    () => false,
  );
  console.log(
    `mass-disconnect: ${DROP} devices dropped at once; offline statuses ${offline.size}/${DROP} within ${(offlineMs / 1000).toFixed(1)} s; ` +
      `HW_ALM_DEVICE_OFFLINE raised for ${alarmed.size}/${DROP} within ${(alarmMs / 1000).toFixed(1)} s; broker alive ${brokerAlive}, stack overflow logged ${overflow}, new connection ${after}`,
  );
  expect(early).toBe(0);
  expect(brokerAlive).toBe(true);
  expect(overflow).toBe(false);
  expect(allOffline).toBe(true);
  expect(allAlarmed).toBe(true);
  expect(after).toBe(true);
  await watch.endAsync();
});
