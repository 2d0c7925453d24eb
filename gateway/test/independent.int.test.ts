// Independent check of the register encoding: Debian's python3-pymodbus reads our Modbus simulators by
// the shipped example map and decodes every data type and byte order with its own code. Agreement
// with the values the test wrote shows that the simulator encodes and the map describes what a
// third-party master reads, so the gateway's decoder and the simulator's encoder cannot share a
// mistake. mbpoll (a C master) checks raw words of one float on top.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRegisterMap } from '../map.ts';
import { startModbusSim, type ModbusSim } from '../../simulators/modbus/simulator.ts';
import type { ProfileName } from '../../simulators/modbus/profiles.ts';

const run = promisify(execFile);
const map = loadRegisterMap(join(import.meta.dirname, '..', 'examples', 'site.yaml'));

async function pymodbus(port: number, points: object[]): Promise<(number | boolean)[]> {
  const child = execFile('/usr/bin/python3', [join(import.meta.dirname, 'pymodbus_read.py')], { timeout: 20_000 });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  child.stdin!.end(JSON.stringify({ port, unit: 1, points }));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  if (code !== 0) throw new Error(`pymodbus reader failed (${code}): ${err}`);
  return JSON.parse(out) as (number | boolean)[];
}

// Values written into the simulators, one per mapped metric of the example map.
const WRITTEN: Record<string, Record<string, number | boolean>> = {
  'gas-01': { lel: 12.345 },
  'gas-02': { lel: 0.5 },
  'gas-03': { lel: 99.75 },
  'gas-04': { lel: 42 },
  'tank-t101': { level: 12.345, temperature: -40.5, pressure: -0.095, flow: 4321.0625 },
  'firewater-p1': { pump_running: false, jockey_running: true, pressure: 1.05, pool_level: 655.35 - 650 },
  'meter-mcc1': { voltage: 398.25, current: 1234.5, power: -12.75, residual_current: 350.5, cable_temperature: -12.3, energy: 42949672.95 },
};
const PROFILE_OF: Record<string, ProfileName> = {
  'gas-controller-1': 'gas-controller',
  'tank-gauge-t101': 'tank-gauge',
  'fire-pump-panel': 'pump-panel',
  'meter-mcc1': 'power-meter',
};

describe('register encoding checked with python3-pymodbus and mbpoll', () => {
  const sims = new Map<string, ModbusSim>();

  beforeAll(async () => {
    for (const mb of map.modbus) {
      const sim = await startModbusSim({ profile: PROFILE_OF[mb.name], port: 0, source: 'manual', channels: mb.devices.map((d) => ({ device: d.id })) });
      for (const d of mb.devices) {
        sim.set(d.id, WRITTEN[d.id]);
        for (const e of d.events) sim.condition(d.id, e.event, e.event === 'fault' || e.event === 'pump_fault');
      }
      sims.set(mb.name, sim);
    }
  });
  afterAll(async () => {
    for (const s of sims.values()) await s.close();
  });

  for (const mb of map.modbus) {
    it(`${mb.name}: every mapped metric and event bit`, async () => {
      const sim = sims.get(mb.name)!;
      const points = mb.devices.flatMap((d) => [
        ...d.metrics.map((m) => ({ device: d.id, name: m.metric, table: m.table, address: m.address, type: m.type, order: m.order, scale: m.scale, offset: m.offset, bit: m.bit })),
        ...d.events.map((e) => ({ device: d.id, name: e.event, table: e.table, address: e.address, type: e.type ?? (e.bit !== undefined ? 'bit' : undefined), bit: e.bit })),
      ]);
      const read = await pymodbus(sim.port, points);
      points.forEach((p, i) => {
        const written = WRITTEN[p.device][p.name];
        const got = read[i];
        if (written === undefined) {
          // an event bit: set for faults only
          expect(got, `${p.device}.${p.name}`).toBe(p.name === 'fault' || p.name === 'pump_fault');
        } else if (typeof written === 'boolean') {
          expect(got, `${p.device}.${p.name}`).toBe(written);
        } else if (p.type === 'float32') {
          expect(got, `${p.device}.${p.name}`).toBe(Math.fround(written));
        } else {
          // integers scaled: equal to the resolution of the register
          expect(got as number, `${p.device}.${p.name}`).toBeCloseTo(written, 9);
          expect(got as number, `${p.device}.${p.name} (as the simulator states)`).toBeCloseTo(sim.expected(p.device, p.name) as number, 9);
        }
      });
    });
  }

  it('mbpoll reads the raw words of a CDAB float as a third-party tool shows them', async () => {
    const sim = sims.get('gas-controller-1')!;
    // 12.345 as float32 is 0x4145851F; a CDAB device sends the low word 0x851F first.
    const { stdout } = await run('mbpoll', ['-m', 'tcp', '-p', String(sim.port), '-a', '1', '-t', '3:hex', '-r', '1', '-c', '2', '-1', '127.0.0.1'], { timeout: 10_000 });
    expect(stdout).toMatch(/\[1\]:\s+0x851F/);
    expect(stdout).toMatch(/\[2\]:\s+0x4145/);
  });
});
