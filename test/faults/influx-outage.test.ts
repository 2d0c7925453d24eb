// InfluxDB stopped for OUTAGE_S (default 120 s) while the fleet keeps publishing RATE readings/s
// (default 5,000): ingest spools to disk and keeps acknowledging, nothing is lost, and once the database
// is back the backlog drains. Prints the time to drain; asserts only counts.
//   HAZWATCH_FAULT_RATE=5000 HAZWATCH_FAULT_OUTAGE_S=120
import { afterAll, expect, it } from 'vitest';
import { startLoad } from '../../bench/lib/load.ts';
import { countCode, sleep, startPipeline, until, type Pipeline } from './harness.ts';

const RATE = Number(process.env.HAZWATCH_FAULT_RATE ?? 5000);
const OUTAGE_S = Number(process.env.HAZWATCH_FAULT_OUTAGE_S ?? 120);
let p: Pipeline | undefined;
afterAll(async () => p?.close());

it(`InfluxDB down ${OUTAGE_S} s under ${RATE} readings/s: nothing lost, backlog drained`, async () => {
  p = await startPipeline({ devices: 2000, gateways: 4 });
  const load = await startLoad({ host: '127.0.0.1', port: p.port, enterprise: 'load', devices: p.devices, gateways: p.gateways });
  try {
    const before = 10;
    const after = 10;
    const run = load.run(RATE, before + OUTAGE_S + after);
    await sleep(before * 1000);
    await p.influx.stop();
    const downAt = Date.now();
    console.log(`influx-outage: InfluxDB stopped under ${RATE} readings/s`);
    await sleep(OUTAGE_S * 1000);
    await p.influx.start();
    const upAt = Date.now();
    const done = await run;
    const drained = await until(async () => (await p!.stored()) >= done.acked, 10 * 60_000, 1000);
    const drainS = (Date.now() - upAt) / 1000;
    const stored = await p.stored();
    console.log(
      `influx-outage: down ${((upAt - downAt) / 1000).toFixed(0)} s; generator sent ${done.sent} readings (${Math.round(done.sent / done.seconds)}/s), broker acknowledged ${done.acked}; ` +
        `stored ${stored}; ${drained ? `backlog drained ${drainS.toFixed(1)} s after InfluxDB came back (${(drainS - after).toFixed(1)} s after the last publish)` : 'NOT drained within 10 min'}; ` +
        `ingest logged ${countCode(p.ingest, 'HW_ERR_DB_WRITE')} HW_ERR_DB_WRITE lines`,
    );
    expect(done.acked).toBe(done.sent);
    expect(drained).toBe(true);
    expect(stored).toBe(done.sent);
    expect(p.ingest!.child.exitCode).toBeNull();
  } finally {
    load.exit();
  }
});
