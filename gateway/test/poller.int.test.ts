// One Modbus device over real TCP against the simulator, with the faults of a bad line: exception
// responses, answers slower than the timeout, a device that disappears. Publishing goes to a recording
// sink here; the path through the broker is covered by gateway.int.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startModbusSim, type ModbusSim } from '../../simulators/modbus/simulator.ts';
import { waitFor } from '../../test/support/net.ts';
import { parseRegisterMap, resolveDevice } from '../map.ts';
import { startPoller, type Poller } from '../poller.ts';

function recorder() {
  const log: { kind: string; device: string; body: unknown }[] = [];
  return {
    log,
    sink: {
      reading: (device: string, ts: number, values: Record<string, number | boolean>) => void log.push({ kind: 'reading', device, body: { ts, values } }),
      event: (device: string, _ts: number, e: unknown) => void log.push({ kind: 'event', device, body: e }),
      status: (device: string, state: string) => void log.push({ kind: 'status', device, body: state }),
    },
  };
}

function meterMap(port: number, extra: Record<string, unknown>[] = []) {
  const map = parseRegisterMap({
    enterprise: 'acme',
    gateway: 'gw',
    defaults: { maxBackoffMs: 400 },
    modbus: [
      {
        name: 'meter',
        tcp: { host: '127.0.0.1', port },
        pollMs: 100,
        timeoutMs: 150,
        offlineAfter: 2,
        maxGap: 0,
        devices: [
          {
            id: 'm1',
            class: 'power_meter',
            metrics: [{ metric: 'voltage', table: 'input', address: 0, type: 'float32' }, ...extra],
            events: [{ event: 'arc_fault', table: 'discrete', address: 0 }],
          },
        ],
      },
    ],
  });
  return resolveDevice(map, map.modbus[0]);
}

describe('poller on a bad line', () => {
  let sim: ModbusSim | undefined;
  let poller: Poller | undefined;
  afterEach(async () => {
    await poller?.close();
    await sim?.close();
  });

  it('an exception response fails only its own request; the rest is still published', async () => {
    sim = await startModbusSim({ profile: 'power-meter', port: 0, source: 'manual', channels: [{ device: 'm1' }] });
    sim.set('m1', { voltage: 230 });
    // input 100 lies outside the meter's register blocks: illegal data address (exception 2)
    const device = meterMap(sim.port, [{ metric: 'current', table: 'input', address: 100, type: 'float32' }]);
    const metrics = createMetricsRegistry();
    const rec = recorder();
    poller = startPoller({ device, publisher: rec.sink, log: silentLogger(), metrics });
    await waitFor(() => rec.log.filter((l) => l.kind === 'reading').length >= 3);
    expect(poller.state).toBe('online');
    const reading = rec.log.find((l) => l.kind === 'reading')!.body as { values: Record<string, number> };
    expect(reading.values).toEqual({ voltage: 230 });
    const failures = await metrics.getSingleMetric('hazwatch_gateway_modbus_failures_total')!.get();
    expect(failures.values.find((v) => v.labels.kind === 'exception')?.value).toBeGreaterThanOrEqual(3);
  });

  it('answers slower than the timeout: offline after N polls, online again by itself when the line recovers', async () => {
    let delay = 0;
    sim = await startModbusSim({ profile: 'power-meter', port: 0, source: 'manual', channels: [{ device: 'm1' }], delayMs: () => delay });
    sim.set('m1', { voltage: 231 });
    sim.condition('m1', 'arc_fault', true);
    const rec = recorder();
    poller = startPoller({ device: meterMap(sim.port), publisher: rec.sink, log: silentLogger(), metrics: createMetricsRegistry() });
    await waitFor(() => poller!.state === 'online');
    delay = 400; // timeout is 150 ms
    await waitFor(() => poller!.state === 'offline', 5000);
    delay = 0;
    await waitFor(() => poller!.state === 'online', 5000);
    const statuses = rec.log.filter((l) => l.kind === 'status').map((l) => l.body);
    expect(statuses).toEqual(['online', 'offline', 'online']);
    // After coming back, the current condition is reported again (it may have changed meanwhile).
    const arcs = rec.log.filter((l) => l.kind === 'event').map((l) => l.body);
    expect(arcs).toEqual([
      { type: 'arc_fault', active: true },
      { type: 'arc_fault', active: true },
    ]);
  });

  it('a device that is not there goes offline and backs off, and is picked up once it appears', async () => {
    sim = await startModbusSim({ profile: 'power-meter', port: 0, source: 'manual', channels: [{ device: 'm1' }] });
    const port = sim.port;
    await sim.stop();
    const metrics = createMetricsRegistry();
    const rec = recorder();
    poller = startPoller({ device: meterMap(port), publisher: rec.sink, log: silentLogger(), metrics });
    await waitFor(() => poller!.state === 'offline', 5000);
    await sim.start();
    sim.set('m1', { voltage: 229.5 });
    await waitFor(() => poller!.state === 'online', 5000);
    expect(rec.log.filter((l) => l.kind === 'status').map((l) => l.body)).toEqual(['offline', 'online']);
    const connects = await metrics.getSingleMetric('hazwatch_gateway_modbus_failures_total')!.get();
    expect(connects.values.find((v) => v.labels.kind === 'connect')?.value).toBeGreaterThanOrEqual(2);
  });
});
