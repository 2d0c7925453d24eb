import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { HazwatchError } from '../../contract/errors.ts';
import { parseDuration } from '../duration.ts';
import { loadScenario, parseScenario, planScenario, type ScenarioInput } from '../scenario.ts';
import { createClock } from '../clock.ts';
import { compare, evaluate } from './oracle.ts';
import { runOffline } from '../offline.ts';

const DIR = join(import.meta.dirname, '..', 'scenarios');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const T0 = Date.UTC(2026, 10, 23, 1, 0, 0);

describe('durations', () => {
  it('reads seconds and unit strings, refuses the rest', () => {
    expect(parseDuration(90)).toBe(90);
    expect(parseDuration('90')).toBe(90);
    expect(parseDuration('2m')).toBe(120);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('6m30s')).toBe(390);
    expect(parseDuration('500ms')).toBe(0.5);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
    expect(() => parseDuration('2m and a bit')).toThrow(/not a duration/);
    expect(() => parseDuration(-1)).toThrow();
  });
});

describe('shipped scenarios', () => {
  it('are there: gas-leak, tank-overfill-and-fire and demo', () => {
    expect(FILES).toEqual(expect.arrayContaining(['gas-leak.yaml', 'tank-overfill-and-fire.yaml', 'demo.yaml']));
  });

  for (const file of FILES) {
    // Two start times: night and day change the load and temperature cycles the faults start from.
    it(`${file}: the devices cause exactly the expected alarms, in time (reference evaluator)`, () => {
      const scenario = loadScenario(join(DIR, file));
      expect(scenario.faults.some((f) => f.expect.length > 0)).toBe(true);
      for (const start of [T0, T0 + 12 * 3_600_000]) {
        const plan = planScenario(scenario, start);
        const { observed, devices } = runOffline(plan);
        const result = evaluate(devices, observed, plan.end);
        expect(compare(plan, result), `${file} started at ${new Date(start).toISOString()}`).toEqual([]);
        expect(plan.expected.length).toBeGreaterThan(0);
      }
    });
  }

  it('demo.yaml sends one malformed message of each kind, each tagged with the rejection it must get', () => {
    const plan = planScenario(loadScenario(join(DIR, 'demo.yaml')), T0);
    const { sim } = runOffline(plan);
    expect(sim.rejections.map((r) => r.code).sort()).toEqual(
      ['HW_ERR_BAD_JSON', 'HW_ERR_BATCH_TOO_LARGE', 'HW_ERR_NOT_FINITE', 'HW_ERR_RANGE', 'HW_ERR_UNKNOWN_EVENT', 'HW_ERR_UNKNOWN_METRIC'].sort(),
    );
    expect(sim.rejections.every((r) => r.device === 'pm-102' && r.at >= T0 + 30_000 && r.at < T0 + 130_000)).toBe(true);
  });
});

describe('planning', () => {
  const base: ScenarioInput = {
    name: 'plan',
    duration: '10m',
    devices: [
      { id: 'a', class: 'gas_combustible', position: [0, 0] },
      { id: 'b', class: 'gas_combustible', position: [20, 0] },
      { id: 'c', class: 'gas_combustible', position: [100, 0] },
      { id: 'd', class: 'gas_toxic', position: [1, 0] },
    ],
    faults: [{ at: '1m', device: 'a', kind: 'gas_leak', peak: 60, expect: [{ condition: 'HW_ALM_GAS_LEL_HIGH', level: 2, withinSeconds: 90 }] }],
  };

  it('spreads a plume to neighbours of the same class within the radius, later and weaker', () => {
    const plan = planScenario(parseScenario(base), T0);
    const byDevice = Object.fromEntries(plan.faults.map((f) => [f.device, f]));
    expect(Object.keys(byDevice).sort()).toEqual(['a', 'b']);
    const b = byDevice.b.fault as { delaySeconds: number; factor: number };
    expect(b.delaySeconds).toBeCloseTo(40); // 20 m at 0.5 m/s
    expect(b.factor).toBeCloseTo(Math.exp(-1)); // e-fold every 20 m
    expect(byDevice.b.source).toBe('a');
  });

  it('gives absolute times: each expected alarm with its fault time and deadline', () => {
    const plan = planScenario(parseScenario(base), T0);
    expect(plan.start).toBe(T0);
    expect(plan.end).toBe(T0 + 600_000);
    expect(plan.expected).toEqual([
      {
        enterprise: 'sim',
        device: 'a',
        condition: 'HW_ALM_GAS_LEL_HIGH',
        level: 2,
        withinSeconds: 90,
        fault: { kind: 'gas_leak', device: 'a', at: T0 + 60_000, atIso: new Date(T0 + 60_000).toISOString() },
        deadline: T0 + 150_000,
        deadlineIso: new Date(T0 + 150_000).toISOString(),
      },
    ]);
    // Machine-readable: survives JSON.
    expect(JSON.parse(JSON.stringify(plan.expected))).toEqual(plan.expected);
  });

  it('refuses a wrong scenario, saying where and why', () => {
    const bad = (patch: Partial<ScenarioInput>) => {
      try {
        parseScenario({ ...base, ...patch }, 'test.yaml');
      } catch (e) {
        expect(e).toBeInstanceOf(HazwatchError);
        expect((e as HazwatchError).code).toBe('HW_ERR_CONFIG');
        return (e as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ faults: [{ at: '1m', device: 'x', kind: 'gas_leak', peak: 10 }] })).toMatch(/faults\.0\.device: unknown device x/);
    expect(bad({ faults: [{ at: '1m', device: 'a', kind: 'overfill' }] })).toMatch(/gas_combustible device cannot have a overfill fault/);
    expect(bad({ faults: [{ at: '11m', device: 'a', kind: 'tamper' }] })).toMatch(/starts after the scenario ends/);
    expect(bad({ faults: [{ at: '1m', device: 'a', kind: 'gas_leak' }] })).toMatch(/peak/);
    expect(bad({ faults: [{ at: '1m', device: 'a', kind: 'tamper', expect: [{ condition: 'HW_ALM_NOPE', level: 4, withinSeconds: 1 }] }] as never })).toMatch(/condition/);
    expect(bad({ faults: [{ at: '1m', device: 'a', kind: 'tamper', expect: [{ condition: 'HW_ALM_TAMPER', level: 5, withinSeconds: 1 }] }] as never })).toMatch(/level/);
    expect(bad({ duration: 'forever' })).toMatch(/duration/);
    expect(bad({ devices: [...(base.devices as object[]), { id: 'a', class: 'oxygen' }] as never })).toMatch(/listed twice/);
    expect(bad({ faults: [{ at: '1m', devices: ['a', 'b'], kind: 'tamper', expect: [{ condition: 'HW_ALM_TAMPER', level: 4, withinSeconds: 30 }] }] })).toMatch(/name the device/);
  });

  it('reads the same scenario from YAML and from JSON', () => {
    const yaml = `name: y\nduration: 5m\ndevices:\n  - { id: t1, class: vessel }\nfaults:\n  - { at: 30s, device: t1, kind: overfill, flow: 200, duration: 2m }\n`;
    const fromYaml = parseScenario(parseYaml(yaml));
    expect(fromYaml.faults[0]).toMatchObject({ at: 30, devices: ['t1'], fault: { kind: 'overfill', flow: 200, durationSeconds: 120 } });
    expect(parseScenario(JSON.parse(JSON.stringify(parseYaml(yaml))))).toEqual(fromYaml);
  });
});

describe('simulated clock', () => {
  it('at 60× a run of known length ends at the wall clock, never ahead of it', () => {
    let wall = 1_000_000_000_000;
    const clock = createClock({ speed: 60, spanSeconds: 600, wallClock: () => wall });
    expect(clock.now()).toBe(wall - 600_000 + 10_000);
    wall += 5_000;
    expect(clock.now()).toBeLessThanOrEqual(wall);
    wall += 5_000;
    expect(clock.now()).toBe(wall);
    expect(clock.realDelayUntil(clock.now() + 60_000)).toBe(1000);
  });

  it('at real time it is the wall clock; faster without a length is refused', () => {
    let wall = 5_000;
    const clock = createClock({ wallClock: () => wall });
    wall += 1234;
    expect(clock.now()).toBe(wall);
    expect(() => createClock({ speed: 60 })).toThrow(/needs the length of the run/);
  });
});
