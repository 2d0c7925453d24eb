// Vendor maps without a broker: the shipped examples against their samples, every map error named at
// load, units, timestamps, and each way a message can fail to fit.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HazwatchError } from '../../contract/errors.ts';
import { compileVendorMap, filtersOverlap, loadVendorMaps, type VendorMap } from '../map.ts';
import { parsePath, readPath } from '../paths.ts';
import { timeParser } from '../timestamps.ts';
import { matchTopic, translate } from '../translate.ts';
import { conversion } from '../units.ts';

const EXAMPLES = new URL('../examples/', import.meta.url).pathname;
const MAPS = join(EXAMPLES, 'maps');
const sample = (name: string) => readFileSync(join(EXAMPLES, 'samples', `${name}.json`), 'utf8');
const tmp = mkdtempSync(join(tmpdir(), 'hw-vendor-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const maps = loadVendorMaps([MAPS]);
const map = (name: string) => maps.find((m) => m.name === name)!;
const T0 = Date.UTC(2026, 11, 6, 2, 0, 0); // 2026-12-06 10:00:00 +08:00

function run(m: VendorMap, topic: string, payload: string) {
  const captures = matchTopic(m, topic);
  expect(captures, topic).toBeDefined();
  return translate(m, captures!, payload);
}

function problems(data: unknown): string[] {
  const out: string[] = [];
  compileVendorMap(data, 'test.yaml', out);
  return out;
}

const minimal = { name: 'm', topic: 'v/{d}/up', enterprise: 'acme', readings: [{ device: '{d}', class: 'gas_combustible', values: { lel: 'v' } }] };

describe('the shipped examples', () => {
  it('loads the three maps of vendor/examples/maps', () => {
    expect(maps.map((m) => `${m.name} ${m.filter}`).sort()).toEqual(['electrical-fire-monitor efm/+/report', 'gas-dtu-4ch gasdtu/+/up', 'hydrant-nbiot hydrant/+/data']);
  });

  it('4-channel gas DTU: one device per channel, each with its class, H2S from mg/m3 to ppm, local time to UTC', () => {
    const t = run(map('gas-dtu-4ch'), 'gasdtu/dtu-01/up', sample('gas-dtu-4ch'));
    expect(t.refusals).toEqual([]);
    expect(t.devices.map((d) => [d.device, d.class, d.readings[0].ts, d.readings[0].values])).toEqual([
      ['dtu-01-ch1', 'gas_combustible', T0, { lel: 12.5 }],
      ['dtu-01-ch2', 'gas_combustible', T0, { lel: 3 }],
      ['dtu-01-ch3', 'gas_toxic', T0, { ppm: expect.closeTo((2.1 * 24.45) / 34.08, 9) }],
      ['dtu-01-ch4', 'oxygen', T0, { o2: 20.9 }],
    ]);
    expect(t.devices.every((d) => d.enterprise === 'demo-chem')).toBe(true);
  });

  it('electrical-fire monitor: nested objects, W to kW, epoch seconds', () => {
    const t = run(map('electrical-fire-monitor'), 'efm/em-0001/report', sample('electrical-fire-monitor'));
    expect(t.refusals).toEqual([]);
    expect(t.devices).toEqual([
      {
        enterprise: 'demo-chem',
        device: 'em-0001',
        class: 'power_meter',
        readings: [{ ts: T0, values: { residual_current: 85, cable_temperature: 41.5, voltage: 229.8, current: 18.2, power: expect.closeTo(12.45, 9), energy: 20481.7 } }],
      },
    ]);
  });

  it('NB-IoT hydrant terminal: kPa to MPa, battery, compact local time', () => {
    const t = run(map('hydrant-nbiot'), 'hydrant/868000000000001/data', sample('hydrant-nbiot'));
    expect(t.devices).toEqual([{ enterprise: 'demo-chem', device: '868000000000001', class: 'fire_water', readings: [{ ts: T0, values: { pressure: expect.closeTo(0.35, 12), battery: 87 } }] }]);
  });

  it('takes only its own topics', () => {
    expect(matchTopic(map('gas-dtu-4ch'), 'gasdtu/dtu-01/down')).toBeUndefined();
    expect(matchTopic(map('gas-dtu-4ch'), 'gasdtu/dtu-01/up/x')).toBeUndefined();
    expect(matchTopic(map('hydrant-nbiot'), 'hydrant/868/data')).toEqual({ imei: '868' });
  });
});

describe('messages that do not fit', () => {
  const dtu = map('gas-dtu-4ch');
  const codes = (t: ReturnType<typeof translate>) => t.refusals.map((r) => r.code);

  it('not JSON: HW_ERR_BAD_JSON', () => {
    expect(codes(run(dtu, 'gasdtu/d1/up', '{"ch":['))).toEqual(['HW_ERR_BAD_JSON']);
  });

  it('no array where the map iterates: HW_ERR_MAP_PATH for each reading of the map', () => {
    const t = run(dtu, 'gasdtu/d1/up', JSON.stringify({ time: '2026-12-06 10:00:00', ch: { no: 1 } }));
    expect(codes(t)).toEqual(['HW_ERR_MAP_PATH', 'HW_ERR_MAP_PATH', 'HW_ERR_MAP_PATH']);
    expect(t.refusals[0].detail).toContain('ch is not an array');
  });

  it('a time not of the declared format: HW_ERR_MAP_TIMESTAMP naming the device; the other channels still go', () => {
    const t = run(dtu, 'gasdtu/d1/up', JSON.stringify({ time: '2026-02-31 10:00:00', ch: [{ no: 1, gas: 'CH4', val: 5 }] }));
    expect(t.refusals).toEqual([{ code: 'HW_ERR_MAP_TIMESTAMP', detail: expect.stringContaining('2026-02-31'), enterprise: 'demo-chem', device: 'd1-ch1' }]);
  });

  it('a device id the template cannot make: HW_ERR_MAP_PATH (field missing) or HW_ERR_MAP_DEVICE (not an id)', () => {
    const t = run(dtu, 'gasdtu/d1/up', JSON.stringify({ time: '2026-12-06 10:00:00', ch: [{ gas: 'CH4', val: 5 }, { no: 'a b', gas: 'CH4', val: 6 }, { no: 2, gas: 'CH4', val: 7 }] }));
    expect(codes(t)).toEqual(['HW_ERR_MAP_PATH', 'HW_ERR_MAP_DEVICE']);
    expect(t.devices.map((d) => d.device)).toEqual(['d1-ch2']);
  });

  it('no mapped field present: HW_ERR_EMPTY; a partial report keeps what it has and counts the rest', () => {
    const hydrant = map('hydrant-nbiot');
    expect(codes(run(hydrant, 'hydrant/868/data', JSON.stringify({ reportTime: '20261206100000', rssi: -80 })))).toEqual(['HW_ERR_EMPTY']);
    const partial = run(hydrant, 'hydrant/868/data', JSON.stringify({ reportTime: '20261206100000', battery: 50 }));
    expect(partial.devices[0].readings[0].values).toEqual({ battery: 50 });
    expect(partial.absent).toBe(1);
    // A message whose channels the map does not know gives nothing: said, not silent.
    expect(codes(run(dtu, 'gasdtu/d1/up', JSON.stringify({ time: '2026-12-06 10:00:00', ch: [{ no: 1, gas: 'NH3', val: 5 }] })))).toEqual(['HW_ERR_EMPTY']);
  });

  it('a value that is not a number passes on unconverted, for ingest to refuse with HW_ERR_TYPE', () => {
    const t = run(map('hydrant-nbiot'), 'hydrant/868/data', JSON.stringify({ reportTime: '20261206100000', pressure: 'n/a', battery: '77' }));
    expect(t.devices[0].readings[0].values).toEqual({ pressure: 'n/a', battery: 77 });
  });
});

describe('map files are checked at load, every problem named', () => {
  it('accepts a minimal map', () => {
    expect(problems(minimal)).toEqual([]);
  });

  it.each([
    [{ ...minimal, readings: [{ ...minimal.readings[0], class: 'gas_combustible', values: { ppm: 'v' } }] }, '"ppm" is not a metric of gas_combustible'],
    [{ ...minimal, readings: [{ ...minimal.readings[0], class: 'fire_water', values: { pressure: { path: 'p', unit: '°F' } } }] }, 'cannot convert °F to MPa'],
    [{ ...minimal, readings: [{ ...minimal.readings[0], class: 'fire_water', values: { pressure: { path: 'p', unit: 'furlong' } } }] }, 'unknown unit "furlong"'],
    [{ ...minimal, readings: [{ ...minimal.readings[0], class: 'gas_toxic', values: { ppm: { path: 'p', unit: 'mg/m3' } } }] }, 'needs the gas'],
    [{ ...minimal, readings: [{ ...minimal.readings[0], class: 'gas_toxic', values: { ppm: { path: 'p', unit: 'mg/m3', gas: 'XYZ' } } }] }, 'unknown gas "XYZ"'],
    [{ ...minimal, readings: [{ ...minimal.readings[0], class: 'fire_water', values: { pump_running: { path: 'p', scale: 2 } } }] }, 'is a boolean'],
    [{ ...minimal, readings: [{ ...minimal.readings[0], class: 'reactor' }] }, 'readings.0.class'],
    [{ ...minimal, topic: 'hw/v1/{d}/x' }, 'must start with a literal level'],
    [{ ...minimal, topic: '+/{d}/x' }, 'must start with a literal level'],
    [{ ...minimal, topic: 'v/#/x' }, '"#" only as the last level'],
    [{ ...minimal, topic: 'v/d{d}/x' }, 'a capture is a whole level'],
    [{ ...minimal, enterprise: 'a b' }, 'enterprise "a b" is not a valid id'],
    [{ ...minimal, timestamp: { path: 't', format: 'yyyy-MM-dd HH:mm:ss' } }, 'give utcOffset'],
    [{ ...minimal, timestamp: { path: 't', format: 'yyyy-MM-dd QQ' , utcOffset: '+08:00' } }, 'unknown letter "Q"'],
    [{ ...minimal, readings: [{ ...minimal.readings[0], each: 'a..b' }] }, 'cannot read path "a..b"'],
    [{ ...minimal, readings: [{ ...minimal.readings[0], device: '{d' }] }, 'unbalanced'],
    [{ ...minimal, extra: 1 }, 'Unrecognized key'],
  ])('%#: %s', (data, message) => {
    expect(problems(data).join('\n')).toContain(message);
  });

  it('refuses two maps whose topics overlap, or one name twice, naming both files', () => {
    writeFileSync(join(tmp, 'a.yaml'), JSON.stringify(minimal));
    writeFileSync(join(tmp, 'b.json'), JSON.stringify({ ...minimal, name: 'other', topic: 'v/+/#' }));
    expect(() => loadVendorMaps([tmp])).toThrowError(HazwatchError);
    expect(() => loadVendorMaps([tmp])).toThrowError(/b\.json: topic v\/\+\/# overlaps v\/\+\/up of .*a\.yaml/);
    writeFileSync(join(tmp, 'b.json'), JSON.stringify({ ...minimal, topic: 'w/{d}' }));
    expect(() => loadVendorMaps([tmp])).toThrowError(/name "m" is also the name of/);
    expect(() => loadVendorMaps([join(tmp, 'nope.yaml')])).toThrowError(/cannot read/);
  });

  it('knows when two filters can match one topic', () => {
    expect(filtersOverlap('a/+/c', 'a/b/#')).toBe(true);
    expect(filtersOverlap('a/b', 'a/b/#')).toBe(true);
    expect(filtersOverlap('a/+/c', 'a/b/d')).toBe(false);
    expect(filtersOverlap('a/b', 'a/b/c')).toBe(false);
    expect(filtersOverlap('x/+', 'y/+')).toBe(false);
  });
});

describe('units', () => {
  const conv = (from: string, to: string, v: number, gas?: string) => (conversion(from, to, gas) as (v: number) => number)(v);
  it('converts what devices report into the catalog units', () => {
    expect(conv('kPa', 'MPa', 350)).toBeCloseTo(0.35, 12);
    expect(conv('bar', 'MPa', 3.5)).toBeCloseTo(0.35, 12);
    expect(conv('°F', '°C', 212)).toBeCloseTo(100, 9);
    expect(conv('K', '°C', 273.15)).toBeCloseTo(0, 9);
    expect(conv('W', 'kW', 1500)).toBeCloseTo(1.5, 12);
    expect(conv('A', 'mA', 0.3)).toBeCloseTo(300, 9);
    expect(conv('mA', 'A', 300)).toBeCloseTo(0.3, 12);
    expect(conv('cm', 'm', 250)).toBeCloseTo(2.5, 12);
    // H2S: 1 ppm = 34.08 / 24.45 = 1.394 mg/m3 at 25 °C and 101.325 kPa.
    expect(conv('mg/m3', 'ppm', 1.394, 'H2S')).toBeCloseTo(1, 3);
    expect(conv('mg/m3', 'ppm', 30, 'CO')).toBeCloseTo(26.19, 2);
    expect(conv('ppb', 'ppm', 500)).toBe(0.5);
    expect(conversion('kPa', '°C')).toMatch(/cannot convert/);
  });
});

describe('timestamps and paths', () => {
  it('reads epoch ms and s, ISO 8601 with a zone, and local wall-clock patterns', () => {
    expect((timeParser('epoch_ms', undefined) as (v: unknown) => number)('1796522400000')).toBe(T0);
    expect((timeParser('epoch_s', undefined) as (v: unknown) => number)(1796522400.5)).toBe(T0 + 500);
    const iso = timeParser('iso8601', undefined) as (v: unknown) => number | undefined;
    expect(iso('2026-12-06T10:00:00+08:00')).toBe(T0);
    expect(iso('2026-12-06T10:00:00')).toBeUndefined();
    const local = timeParser('dd/MM/yyyy HH:mm:ss.SSS', '-05:00') as (v: unknown) => number | undefined;
    expect(local('05/12/2026 21:00:00.250')).toBe(T0 + 250);
    expect(local('2026-12-05 21:00:00')).toBeUndefined();
  });

  it('walks keys, indices and the root from inside an element', () => {
    const root = { imei: 'x', ch: [{ v: 1 }, { v: [5, 6] }] };
    const p = (s: string) => parsePath(s) as Exclude<ReturnType<typeof parsePath>, string>;
    expect(readPath(p('ch[1].v[1]'), root, root)).toBe(6);
    expect(readPath(p('$.imei'), root, root.ch[0])).toBe('x');
    expect(readPath(p('v'), root, root.ch[0])).toBe(1);
    expect(readPath(p('ch.v'), root, root)).toBeUndefined();
    expect(readPath(p('toString'), root, root)).toBeUndefined();
  });
});
