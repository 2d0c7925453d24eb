import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadRegisterMap, parseRegisterMap, resolveDevice } from '../map.ts';
import { planDevice } from '../poller.ts';
import { createReporter } from '../reporter.ts';

const examples = join(import.meta.dirname, '..', 'examples');

const base = (device: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
  enterprise: 'acme',
  gateway: 'gw-1',
  modbus: [{ name: 'plc-1', tcp: { host: '127.0.0.1', port: 502 }, devices: [{ id: 'd1', class: 'gas_combustible', ...device }], ...extra }],
});

describe('register maps', () => {
  it('loads every shipped example', () => {
    const files = readdirSync(examples).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) expect(() => loadRegisterMap(join(examples, f))).not.toThrow();
  });

  it('groups the example gas controller into one request for the floats and one for the status words', () => {
    const map = loadRegisterMap(join(examples, 'site.yaml'));
    const gas = resolveDevice(map, map.modbus[0]);
    expect(planDevice(gas).map((r) => `${r.table} ${r.address}+${r.count}`)).toEqual(['input 0+8', 'input 100+4']);
    const tank = resolveDevice(map, map.modbus[1]);
    expect(planDevice(tank).map((r) => `${r.table} ${r.address}+${r.count}`)).toEqual(['holding 0+11']);
  });

  it('names the wrong line: unknown metric, event of another class, missing bit, bad order', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ metrics: [{ metric: 'ppm', table: 'input', address: 0, type: 'float32' }] }, /metric ppm is not defined for class gas_combustible/],
      [{ events: [{ event: 'smoke', table: 'discrete', address: 0 }] }, /event smoke is not defined for class gas_combustible/],
      [{ events: [{ event: 'fault', table: 'input', address: 0, type: 'bit' }] }, /type bit needs bit/],
      [{ metrics: [{ metric: 'lel', table: 'input', address: 0, type: 'float32', order: 'BACD' }] }, /order/],
      [{ metrics: [{ metric: 'lel', table: 'coils', address: 0 }] }, /numeric metric lel cannot be read from a single bit/],
      [{ metrics: [{ metric: 'lel', table: 'input', address: 65535, type: 'float32' }] }, /runs past address 65535/],
    ];
    for (const [device, message] of cases) expect(() => parseRegisterMap(base(device))).toThrow(message);
  });

  it('needs exactly one of tcp and rtu', () => {
    const map = base({ metrics: [{ metric: 'lel', table: 'input', address: 0, type: 'float32' }] });
    (map.modbus[0] as Record<string, unknown>).rtu = { path: '/dev/ttyS0' };
    expect(() => parseRegisterMap(map)).toThrow(/exactly one of tcp or rtu/);
  });

  it('refuses a platform device fed twice', () => {
    const map = base({ metrics: [{ metric: 'lel', table: 'input', address: 0, type: 'float32' }] });
    map.modbus.push({ ...map.modbus[0], name: 'plc-2' });
    expect(() => parseRegisterMap(map)).toThrow(/fed by two entries/);
  });
});

describe('report by exception', () => {
  const device = parseRegisterMap(
    base({
      heartbeatS: 10,
      metrics: [{ metric: 'lel', table: 'input', address: 0, type: 'float32', deadband: 1 }],
      events: [
        { event: 'fault', table: 'input', address: 10, bit: 2 },
        { event: 'calibration', table: 'input', address: 10, bit: 3 },
      ],
    }),
  ).modbus[0].devices[0];

  it('sends the first value, then only moves beyond the deadband, and everything at each heartbeat', () => {
    const r = createReporter(device);
    expect(r.sample(0, { lel: 5 }, {}).values).toEqual({ lel: 5 });
    expect(r.sample(1000, { lel: 5.9 }, {}).values).toBeUndefined();
    expect(r.sample(2000, { lel: 6.5 }, {}).values).toEqual({ lel: 6.5 });
    expect(r.sample(3000, { lel: 6.4 }, {}).values).toBeUndefined();
    expect(r.sample(10_000, { lel: 6.4 }, {}).values).toEqual({ lel: 6.4 });
  });

  it('sends condition changes with active true/false, momentary events on the rising edge only', () => {
    const r = createReporter(device);
    expect(r.sample(0, {}, { fault: false, calibration: false }).events).toEqual([{ type: 'fault', active: false }]);
    expect(r.sample(1, {}, { fault: true, calibration: true }).events).toEqual([{ type: 'fault', active: true }, { type: 'calibration' }]);
    expect(r.sample(2, {}, { fault: true, calibration: true }).events).toEqual([]);
    expect(r.sample(3, {}, { fault: false, calibration: false }).events).toEqual([{ type: 'fault', active: false }]);
  });

  it('reports the full state again after reset (device back online)', () => {
    const r = createReporter(device);
    r.sample(0, { lel: 5 }, { fault: true });
    r.reset();
    const again = r.sample(1000, { lel: 5 }, { fault: true });
    expect(again.values).toEqual({ lel: 5 });
    expect(again.events).toEqual([{ type: 'fault', active: true }]);
  });

  it('without deadband or heartbeat sends every poll', () => {
    const plain = parseRegisterMap(base({ metrics: [{ metric: 'lel', table: 'input', address: 0, type: 'float32' }] })).modbus[0].devices[0];
    const r = createReporter(plain);
    expect(r.sample(0, { lel: 5 }, {}).values).toEqual({ lel: 5 });
    expect(r.sample(1, { lel: 5 }, {}).values).toEqual({ lel: 5 });
  });
});
