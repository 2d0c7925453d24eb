// The broker restarted (SIGTERM, then started again on the same port and data directory, with
// `--persistence level`): every simulated device (simulators/fleet.ts: one connection per device, its
// own credentials, reconnect with backoff) reconnects by itself, and QoS1 messages queued for a
// persistent session while its subscriber was away are delivered after the restart.
// Prints the time until every device is back; asserts counts only.
//   HAZWATCH_FAULT_FLEET=300 devices
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import type { Credentials } from '../../registry/registry.ts';
import { startFleet } from '../../simulators/fleet.ts';
import { fleetDevices } from '../../simulators/mix.ts';
import { provisionDevices } from '../../simulators/provision.ts';
import { sleep, startPipeline, until, type Pipeline } from './harness.ts';

const FLEET = Number(process.env.HAZWATCH_FAULT_FLEET ?? 300);
const QUEUED = 500;
let p: Pipeline | undefined;
afterAll(async () => p?.close());

it(`broker restart: ${FLEET} simulated devices reconnect by themselves, queued QoS1 messages delivered`, async () => {
  const devices = fleetDevices({ enterprises: 3, devicesPerEnterprise: Math.ceil(FLEET / 3), prefix: 'r' }).slice(0, FLEET);
  let credentials = new Map<string, Credentials>();
  p = await startPipeline({
    ingest: false,
    devices: 10,
    brokerArgs: ['--persistence', 'level'],
    provision: async (registry) => void (credentials = await provisionDevices(registry, devices)),
  });
  const abort = new AbortController();
  const fleet = startFleet({ url: p.url, devices, credentials, signal: abort.signal, progress: false, connectRate: 100, reconnectMinMs: 200, reconnectMaxMs: 5000 });
  const subscriber = { ...p.services.watch, clientId: `${p.services.watch.clientId}:persistent` };
  try {
    expect(await until(() => fleet.stats().connected === FLEET, 120_000)).toBe(true);
    // A persistent session (clean: false) subscribed at QoS1, then away.
    const away = await mqtt.connectAsync(p.url, { ...subscriber, clean: false, reconnectPeriod: 0 });
    await away.subscribeAsync('hw/v1/probe/+/telemetry', { qos: 1 });
    await away.endAsync();
    const gw = await mqtt.connectAsync(p.url, { ...p.probeGateway, reconnectPeriod: 0 });
    const t0 = Date.now() - 60_000;
    for (let i = 0; i < QUEUED; i++) await gw.publishAsync(`hw/v1/probe/p-${i % 10}/telemetry`, JSON.stringify({ ts: t0 + i, values: { lel: 1 } }), { qos: 1 });
    await gw.endAsync();

    const before = fleet.stats();
    await p.broker.stop('SIGTERM');
    const downAt = Date.now();
    expect(await until(() => fleet.stats().connected === 0, 30_000, 50)).toBe(true);
    await sleep(2000);
    await p.start('broker');
    const upAt = Date.now();
    const back = await until(() => fleet.stats().connected === FLEET, 180_000, 100);
    const reconnectS = (Date.now() - upAt) / 1000;

    const received = new Set<string>();
    const sub = await mqtt.connectAsync(p.url, { ...subscriber, clean: false, reconnectPeriod: 0 });
    sub.on('message', (_t, payload) => received.add(payload.toString()));
    const delivered = await until(() => received.size >= QUEUED, 30_000, 100);
    await sub.endAsync();
    const after = fleet.stats();
    console.log(
      `broker-restart: down ${((upAt - downAt) / 1000).toFixed(1)} s; ${after.connected}/${FLEET} devices back ${reconnectS.toFixed(1)} s after the broker came back ` +
        `(${after.reconnects - before.reconnects} reconnects, connection losses ${after.connectionLosses}); queued QoS1 messages delivered after the restart: ${received.size}/${QUEUED}`,
    );
    expect(back).toBe(true);
    expect(delivered).toBe(true);
    expect(received.size).toBe(QUEUED);
  } finally {
    abort.abort();
    await fleet.done.catch(() => undefined);
  }
});
