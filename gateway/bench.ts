// npm run bench:gateway — figures of the Modbus gateway on this machine (printed, never asserted):
//  1. steady polling: N power meters (Modbus TCP simulators) polled every POLL_MS, published QoS 1 to our
//     broker; readings/s acknowledged and the gateway's CPU use;
//  2. replay: the broker made unreachable for OUTAGE_MS (TCP relay cut), then the time to empty the outbox.
// HAZWATCH_BENCH_DEVICES (default 50), HAZWATCH_BENCH_POLL_MS (200), HAZWATCH_BENCH_SECONDS (10),
// HAZWATCH_BENCH_OUTAGE_MS (10000).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../core/log.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import { startModbusSim, type ModbusSim } from '../simulators/modbus/simulator.ts';
import { startTestBroker } from '../test/support/broker.ts';
import { startGateway } from './gateway.ts';
import { parseRegisterMap } from './map.ts';
import { startRelay } from './test/relay.ts';

const DEVICES = Number(process.env.HAZWATCH_BENCH_DEVICES ?? 50);
const POLL_MS = Number(process.env.HAZWATCH_BENCH_POLL_MS ?? 200);
const SECONDS = Number(process.env.HAZWATCH_BENCH_SECONDS ?? 10);
const OUTAGE_MS = Number(process.env.HAZWATCH_BENCH_OUTAGE_MS ?? 10_000);

async function counterValue(metrics: ReturnType<typeof createMetricsRegistry>, name: string): Promise<number> {
  const m = metrics.getSingleMetric(name);
  if (!m) return 0;
  return (await m.get()).values.reduce((n, v) => n + v.value, 0);
}

const dir = mkdtempSync(join(tmpdir(), 'hazwatch-bench-gateway-'));
const broker = await startTestBroker({ dataDir: dir, broker: { publishRatePerSecond: 0, gatewayPublishRatePerSecond: 0 } });
const ids = Array.from({ length: DEVICES }, (_, i) => `meter-${String(i).padStart(3, '0')}`);
await broker.registry.addDevices(ids.map((id) => ({ enterprise: 'bench', id, class: 'power_meter' as const })));
const { password } = await broker.registry.addGateway('bench', 'gw');
const sims: ModbusSim[] = [];
for (const [i, id] of ids.entries()) sims.push(await startModbusSim({ profile: 'power-meter', port: 0, channels: [{ device: id, seed: i + 1 }], stepMs: 500 }));
const relay = await startRelay({ host: '127.0.0.1', port: broker.port });
const map = parseRegisterMap({
  enterprise: 'bench',
  gateway: 'gw',
  modbus: sims.map((sim, i) => ({
    name: ids[i],
    tcp: { host: '127.0.0.1', port: sim.port },
    pollMs: POLL_MS,
    devices: [
      {
        id: ids[i],
        class: 'power_meter',
        metrics: [
          { metric: 'voltage', table: 'input', address: 0, type: 'float32' },
          { metric: 'current', table: 'input', address: 2, type: 'float32' },
          { metric: 'power', table: 'input', address: 4, type: 'float32' },
          { metric: 'residual_current', table: 'input', address: 6, type: 'float32', order: 'BADC' },
          { metric: 'cable_temperature', table: 'input', address: 8, type: 'int16', scale: 0.1 },
          { metric: 'energy', table: 'input', address: 20, type: 'uint32', order: 'CDAB', scale: 0.01 },
        ],
        events: [{ event: 'arc_fault', table: 'discrete', address: 0 }],
      },
    ],
  })),
});
const metrics = createMetricsRegistry();
const gateway = await startGateway({ map, url: relay.url, password, bufferPath: join(dir, 'outbox.db'), reconnectMs: 500, log: silentLogger(), metrics });

await new Promise((r) => setTimeout(r, 2000)); // warm-up
const p0 = await counterValue(metrics, 'hazwatch_gateway_published_total');
const c0 = process.cpuUsage();
const t0 = Date.now();
await new Promise((r) => setTimeout(r, SECONDS * 1000));
const elapsed = (Date.now() - t0) / 1000;
const cpu = process.cpuUsage(c0);
const published = (await counterValue(metrics, 'hazwatch_gateway_published_total')) - p0;
const failures = await counterValue(metrics, 'hazwatch_gateway_modbus_failures_total');
console.log(`steady: ${DEVICES} Modbus devices every ${POLL_MS} ms (expected ${((DEVICES * 1000) / POLL_MS).toFixed(0)}/s): ${(published / elapsed).toFixed(0)} messages/s acknowledged, Modbus failures ${failures}`);
console.log(`        process CPU (gateway + simulators + broker in one process): ${(((cpu.user + cpu.system) / 1e6 / elapsed) * 100).toFixed(0)} % of one core`);

await gateway.publisher.idle();
await relay.cut();
await new Promise((r) => setTimeout(r, OUTAGE_MS));
const backlog = (await metrics.getSingleMetric('hazwatch_gateway_outbox_rows')!.get()).values[0]?.value ?? 0;
const r0 = Date.now();
await relay.restore();
while (((await metrics.getSingleMetric('hazwatch_gateway_outbox_rows')!.get()).values[0]?.value ?? 0) > DEVICES * 2) await new Promise((r) => setTimeout(r, 20));
const replay = (Date.now() - r0) / 1000;
console.log(`replay: ${backlog} readings buffered during ${OUTAGE_MS / 1000} s without broker; outbox back to steady level in ${replay.toFixed(2)} s after reconnect (${(backlog / replay).toFixed(0)} readings/s, in batches)`);

await gateway.close();
await relay.close();
for (const s of sims) await s.close();
await broker.close();
rmSync(dir, { recursive: true, force: true });
