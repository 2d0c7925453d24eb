// ingest and rules killed with SIGKILL under load, then restarted: every reading acknowledged by the
// broker ends up in InfluxDB (ingest's persistent session and its disk spool), every probe detector
// that crossed its threshold raises exactly one alarm (the rules store and its persistent session),
// none twice. Prints the counts; asserts counts only.
//   HAZWATCH_FAULT_KILL_RATE=2000 readings/s
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { startLoad } from '../../bench/lib/load.ts';
import { rawConnect } from '../../bench/lib/raw-mqtt.ts';
import { sleep, startPipeline, startProbing, until, type Pipeline } from './harness.ts';

const RATE = Number(process.env.HAZWATCH_FAULT_KILL_RATE ?? 2000);
let p: Pipeline | undefined;
afterAll(async () => p?.close());

it(`SIGKILL of ingest and rules under ${RATE} readings/s: nothing lost, no duplicate alarm`, async () => {
  p = await startPipeline({ devices: 1000, probes: 120, rules: true });
  const load = await startLoad({ host: '127.0.0.1', port: p.port, enterprise: 'load', devices: p.devices, gateways: p.gateways });
  const watch = await mqtt.connectAsync(p.url, { ...p.services.watch, clientId: `${p.services.watch.clientId}:w`, reconnectPeriod: 0 });
  const alarmIds = new Map<string, Set<string>>();
  const raisedEvents = new Map<string, number>();
  watch.on('message', (_t, payload) => {
    const e = JSON.parse(payload.toString()) as { alarm: { id: string; device: string; condition: string }; change: { action: string } };
    if (e.alarm.condition !== 'HW_ALM_GAS_LEL_HIGH') return;
    if (!alarmIds.has(e.alarm.device)) alarmIds.set(e.alarm.device, new Set());
    alarmIds.get(e.alarm.device)!.add(e.alarm.id);
    if (e.change.action === 'raised') raisedEvents.set(e.alarm.device, (raisedEvents.get(e.alarm.device) ?? 0) + 1);
  });
  await watch.subscribeAsync('hw/v1/probe/+/alarm', { qos: 1 });
  const prober = await rawConnect({ host: '127.0.0.1', port: p.port, ...p.probeGateway });
  // A probe every 250 ms through the whole run, kills included: each sends two readings at 60 %LEL.
  const probing = startProbing(prober, 120);
  try {
    const run = load.run(RATE, 30);
    await sleep(6000);
    await p.ingest!.stop('SIGKILL');
    await sleep(2000);
    await p.start('ingest');
    await sleep(4000);
    await p.rules!.stop('SIGKILL');
    await sleep(2000);
    await p.start('rules');
    await sleep(4000);
    // Both at once.
    await Promise.all([p.ingest!.stop('SIGKILL'), p.rules!.stop('SIGKILL')]);
    await sleep(1000);
    await Promise.all([p.start('ingest'), p.start('rules')]);
    const done = await run;
    probing.stop();
    const stored = await until(async () => (await p!.stored()) >= done.acked, 120_000, 1000);
    const all = await until(() => alarmIds.size >= probing.sent(), 60_000);
    await sleep(3000); // late duplicates, if any, would arrive now
    const duplicates = [...alarmIds].filter(([, ids]) => ids.size > 1).map(([d]) => d);
    const redelivered = [...raisedEvents].filter(([, n]) => n > 1).length;
    console.log(
      `kill: sent ${done.sent}, acknowledged ${done.acked}, stored ${await p.stored()}; probes ${probing.sent()}, alarms for ${alarmIds.size}, ` +
        `devices with more than one alarm: ${duplicates.length}, raised events delivered twice (same alarm): ${redelivered}`,
    );
    expect(stored).toBe(true);
    expect(await p.stored()).toBe(done.sent);
    expect(all).toBe(true);
    expect(duplicates).toEqual([]);
  } finally {
    probing.stop();
    prober.close();
    await watch.endAsync();
    load.exit();
  }
});
