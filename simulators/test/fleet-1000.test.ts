// Done-when of issue 3: a fleet of 1,000 devices connects to our broker, each with its own credentials,
// and publishes at 1 message/s each without a rejected message. The test runs a 15 s window once all
// are connected (the minute-long run is `hazwatch simulate`, see docs/simulators.md) and prints its
// figures; it asserts counts, never wall-clock times.
import mqtt from 'mqtt';
import { expect, it } from 'vitest';
import { interpretEvent, interpretTelemetry } from '../../contract/payloads.ts';
import { parseTopic } from '../../contract/topics.ts';
import { startTestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { startFleet } from '../fleet.ts';
import { fleetDevices } from '../mix.ts';
import { provisionDevices } from '../provision.ts';

// HAZWATCH_TEST_FLEET_DEVICES shrinks (or grows) the fleet on a machine where 1,000 scrypt checks are too slow.
const DEVICES = Number(process.env.HAZWATCH_TEST_FLEET_DEVICES ?? 1000);
const WINDOW_MS = 15_000;

it(`${DEVICES} devices with their own credentials publish at 1 msg/s each, none rejected`, { timeout: 240_000 }, async () => {
  const broker = await startTestBroker();
  const abort = new AbortController();
  const listener = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
  try {
    const devices = fleetDevices({ enterprises: 10, devicesPerEnterprise: Math.ceil(DEVICES / 10), rate: 1, prefix: 'k' }).slice(0, DEVICES);
    const classOf = new Map(devices.map((d) => [`${d.enterprise}/${d.id}`, d.class]));
    let t = Date.now();
    const credentials = await provisionDevices(broker.registry, devices);
    const provisionMs = Date.now() - t;
    expect(new Set([...credentials.values()].map((c) => c.username)).size).toBe(DEVICES);
    expect(new Set([...credentials.values()].map((c) => c.password)).size).toBe(DEVICES);

    let received = 0;
    const rejected: string[] = [];
    listener.on('message', (topic, payload) => {
      const tp = parseTopic(topic);
      if (!tp || (tp.channel !== 'telemetry' && tp.channel !== 'event')) return;
      received++;
      const cls = classOf.get(`${tp.enterprise}/${tp.device}`)!;
      const r = tp.channel === 'telemetry' ? interpretTelemetry(cls, payload, Date.now()) : interpretEvent(cls, payload, Date.now());
      if (r.rejections.length) rejected.push(`${topic}: ${r.rejections[0].code}`);
    });
    await listener.subscribeAsync('hw/v1/+/+/+', { qos: 1 });

    const rssBefore = process.memoryUsage().rss;
    t = Date.now();
    // Nothing is published before the whole fleet is connected: the 1,000 scrypt checks of the first
    // CONNECTs get the CPU, and the window below runs at full strength.
    const fleet = startFleet({ url: broker.url, devices, credentials, signal: abort.signal, progress: false, connectRate: 200, waitForConnections: true });
    await waitFor(() => fleet.stats().connected === DEVICES && fleet.stats().runningSinceMs !== undefined, 150_000, 200);
    const connectMs = Date.now() - t;
    const rssPerConnection = (process.memoryUsage().rss - rssBefore) / DEVICES;

    const s1 = fleet.stats();
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const s2 = fleet.stats();
    abort.abort();
    const summary = await fleet.done;
    await waitFor(() => received >= summary.sent, 10_000);

    const simulatedSeconds = (s2.simulatedNow - s1.simulatedNow) / 1000;
    const perDevicePerSecond = (s2.sent - s1.sent) / DEVICES / simulatedSeconds;
    console.log(
      `fleet-1000: provisioned ${DEVICES} in ${provisionMs} ms; all connected after ${connectMs} ms (~${(rssPerConnection / 1024).toFixed(0)} KiB RSS per client+session in this process); ` +
        `${s2.sent - s1.sent} messages in ${simulatedSeconds.toFixed(1)} s = ${((s2.sent - s1.sent) / simulatedSeconds).toFixed(0)} msg/s; ` +
        `total sent ${summary.sent}, acked ${summary.acked}, received ${received}, rejected ${summary.rejectedTotal}`,
    );

    // Every device reported once a second of simulated (= wall, at speed 1) time.
    expect(perDevicePerSecond).toBeGreaterThan(0.95);
    expect(perDevicePerSecond).toBeLessThan(1.05);
    expect(summary.stoppedBy).toBe('signal');
    expect(summary.sentSinceAllConnected).toBe(summary.sent); // nothing before the whole fleet was connected
    expect(summary.everConnected).toBe(DEVICES);
    expect(summary.connectErrors).toEqual({});
    expect(summary.reconnects).toBe(0);
    expect(summary.failed).toBe(0);
    expect(summary.dropped).toBe(0);
    expect(summary.acked).toBe(summary.sent);
    expect(summary.rejectedTotal).toBe(0);
    expect(received).toBe(summary.sent);
    expect(rejected).toEqual([]);
    const stats = broker.broker.stats();
    expect(stats.connectionsAccepted).toBeGreaterThanOrEqual(DEVICES);
    expect(stats.connectionsRefused).toEqual({});
    expect(stats.denied).toEqual({});
  } finally {
    abort.abort();
    await listener.endAsync();
    await broker.close();
  }
});
