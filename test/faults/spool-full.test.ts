// The spool filling up: InfluxDB is down and ingest's disk spool reaches its limit (a small
// HAZWATCH_INGEST_SPOOL_MAX_MESSAGES here, standing in for a full disk). The documented back-pressure
// (docs/ingest.md): ingest logs HW_ERR_SPOOL_FULL, publishes its state `full` (retained) on
// hw/platform/ingest/<instance>, stops acknowledging and leaves; the broker keeps the messages in
// ingest's persistent session. Once the database is back, everything is stored: nothing silently dropped.
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { startLoad } from '../../bench/lib/load.ts';
import { countCode, sleep, startPipeline, until, type Pipeline } from './harness.ts';

const LIMIT = 2000;
const SENT_TARGET = 6000;
let p: Pipeline | undefined;
afterAll(async () => p?.close());

it('spool full: back-pressure, an operator-visible signal, nothing dropped', async () => {
  p = await startPipeline({ devices: 500, rules: true, ingestEnv: { HAZWATCH_INGEST_SPOOL_MAX_MESSAGES: String(LIMIT), HAZWATCH_INGEST_INSTANCE: 'i1' }, rulesEnv: { HAZWATCH_RULES_PLATFORM_CLEAR_S: '10' } });
  const watch = await mqtt.connectAsync(p.url, { ...p.services.watch, clientId: `${p.services.watch.clientId}:w`, reconnectPeriod: 0 });
  const states: { state: string; code?: string }[] = [];
  const platformAlarms: string[] = [];
  watch.on('message', (topic, payload) => {
    const body = JSON.parse(payload.toString());
    if (topic.startsWith('hw/platform/')) states.push(body);
    else if (body.alarm?.condition === 'HW_ALM_INGEST_BACKPRESSURE') platformAlarms.push(`${body.change.action} ${topic}`);
  });
  await watch.subscribeAsync(['hw/platform/#', 'hw/v1/+/+/alarm'], { qos: 1 });
  const load = await startLoad({ host: '127.0.0.1', port: p.port, enterprise: 'load', devices: p.devices, gateways: p.gateways });
  try {
    await p.influx.stop();
    const done = await load.run(1000, SENT_TARGET / 1000);
    const full = await until(() => countCode(p!.ingest, 'HW_ERR_SPOOL_FULL') > 0, 30_000);
    await sleep(2000);
    const droppedByBroker = p.broker.output().split('\n').filter((l) => l.includes('publish dropped') && l.includes('hw/platform')).length;
    console.log(
      `spool-full: sent ${done.sent}, acknowledged by the broker ${done.acked}; ingest HW_ERR_SPOOL_FULL log lines ${countCode(p.ingest, 'HW_ERR_SPOOL_FULL')}; ` +
        `platform states seen: ${JSON.stringify(states.map((s) => s.state))}; broker dropped ${droppedByBroker} platform-topic publishes; ` +
        `HW_ALM_INGEST_BACKPRESSURE alarm events: ${JSON.stringify(platformAlarms)}`,
    );
    await p.influx.start();
    const drainedAt = Date.now();
    const stored = await until(async () => (await p!.stored()) >= done.acked, 180_000, 1000);
    console.log(`spool-full: all ${await p.stored()} stored ${((Date.now() - drainedAt) / 1000).toFixed(1)} s after InfluxDB came back; platform states ${JSON.stringify(states.map((s) => s.state))}`);
    // The monitoring room sees it in the alarm list: raised (filling, level 3) and escalated (full, level 2),
    // cleared once the spool has drained and stayed `ok` for 10 s: one instance, however the drain went.
    const cleared = await until(() => platformAlarms.some((a) => a.startsWith('cleared ')), 60_000);
    console.log(`spool-full: HW_ALM_INGEST_BACKPRESSURE alarm events ${JSON.stringify(platformAlarms)}`);
    expect(full).toBe(true);
    expect(states.some((s) => s.state === 'full' && s.code === 'HW_ERR_SPOOL_FULL')).toBe(true);
    expect(platformAlarms.filter((a) => /^(raised|escalated) /.test(a)).length).toBeGreaterThan(0);
    expect(platformAlarms.every((a) => a.endsWith(' hw/v1/platform/ingest-i1/alarm'))).toBe(true);
    expect(platformAlarms.filter((a) => a.startsWith('raised ')).length).toBe(1);
    expect(cleared).toBe(true);
    expect(stored).toBe(true);
    expect(await p.stored()).toBe(done.sent);
  } finally {
    await watch.endAsync();
    load.exit();
  }
});
