import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AlarmCondition } from '../../contract/alarms.ts';
import type { DeviceRecord } from '../../registry/registry.ts';
import { judgePresence, presencePolicy } from '../../contract/presence.ts';
import { loadRuleSet } from '../definitions.ts';
import { causesOf, conditionSignal, corroborations, createDeviceRuntime, evaluateEvent, evaluateReading, evaluateTime, markHeard, resetCondition, seedActive, type DeviceRuntime } from '../evaluator.ts';

const rules = loadRuleSet();

function device(over: Partial<DeviceRecord> = {}): DeviceRecord {
  return { enterprise: 'acme', id: 'd1', class: 'gas_combustible', name: '', site: '', hazardSource: null, intervalSeconds: null, meta: {}, connection: null, createdAt: 0, revokedAt: null, ...over };
}

function runtime(over: Partial<DeviceRecord> = {}, options: { correlate?: boolean } = {}): DeviceRuntime {
  const d = device(over);
  return createDeviceRuntime(d, rules.forDevice(d), options);
}

/** Feeds values 5 s apart; returns the level of `condition` after each (null = clear). */
function feed(dev: DeviceRuntime, metric: string, values: (number | boolean)[], condition: AlarmCondition, start = 0, stepMs = 5000): (number | null)[] {
  return values.map((v, i) => {
    evaluateReading(dev, { ts: start + i * stepMs, values: { [metric]: v } });
    return conditionSignal(dev, condition)?.level ?? null;
  });
}

/** Counts raise transitions (clear → active) in a level trace. */
function raises(trace: (number | null)[]): number {
  let n = 0;
  let prev: number | null = null;
  for (const l of trace) {
    if (l !== null && prev === null) n++;
    prev = l;
  }
  return n;
}

describe('evaluator', () => {
  it('grades combustible gas by stage: 25 %LEL → orange (2), 50 %LEL → red (1), and de-escalates in place', () => {
    const dev = runtime();
    const trace = feed(dev, 'lel', [5, 26, 27, 52, 55, 40, 40, 10, 10, 10], 'HW_ALM_GAS_LEL_HIGH');
    // samples: 2 → the second reading over the threshold raises; off-delay 10 s → a stage returns to normal
    // 10 s after the first reading below its clear threshold (de-escalation too).
    expect(trace).toEqual([null, null, 2, 2, 1, 1, 1, 2, 2, null]);
    expect(raises(trace)).toBe(1);
  });

  it('a chattering sensor at the threshold raises at most one alarm (deadband + off-delay)', () => {
    const dev = runtime();
    const values = Array.from({ length: 200 }, (_, i) => 25 + (i % 2 === 0 ? 0.8 : -0.8) + Math.sin(i) * 0.5);
    const trace = feed(dev, 'lel', values, 'HW_ALM_GAS_LEL_HIGH');
    expect(raises(trace)).toBeLessThanOrEqual(1);
  });

  it('noise around normal values raises nothing', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const o2 = runtime({ class: 'oxygen' });
    const o2trace = feed(o2, 'o2', Array.from({ length: 500 }, () => 20.9 + (rnd() - 0.5) * 1.0), 'HW_ALM_O2_LOW');
    expect(raises(o2trace)).toBe(0);
    expect(conditionSignal(o2, 'HW_ALM_O2_HIGH')).toBeNull();
    const gas = runtime();
    expect(raises(feed(gas, 'lel', Array.from({ length: 500 }, () => 3 + rnd() * 8), 'HW_ALM_GAS_LEL_HIGH'))).toBe(0);
    // A single spike is not two samples in a row.
    const spike = runtime();
    expect(raises(feed(spike, 'lel', [3, 4, 60, 4, 3, 70, 2], 'HW_ALM_GAS_LEL_HIGH'))).toBe(0);
  });

  it('takes vessel H/HH/L/LL from the device registry (meta.limits) and skips stages without a limit', () => {
    const limits = { level: { HH: 9, H: 8, L: 2, LL: 1 } };
    const dev = runtime({ class: 'vessel', meta: { limits } });
    expect(feed(dev, 'level', [5, 8.2, 8.3, 9.1, 9.2, 8.5, 8.5, 8.5], 'HW_ALM_LEVEL_HIGH')).toEqual([null, null, 3, 3, 2, 2, 2, 3]);
    const low = feed(dev, 'level', [1.5, 1.5, 0.5, 0.5], 'HW_ALM_LEVEL_LOW', 100_000);
    expect(low).toEqual([null, 3, 3, 2]);
    // A vessel without limits gets no level alarm at all (never an invented number).
    const bare = runtime({ class: 'vessel' });
    expect(feed(bare, 'level', [49, 49, 49], 'HW_ALM_LEVEL_HIGH')).toEqual([null, null, null]);
    // Only HH known: only the orange stage exists.
    const onlyHH = runtime({ class: 'vessel', meta: { limits: { level: { HH: 9 } } } });
    expect(feed(onlyHH, 'level', [8.5, 8.5, 9.5, 9.5], 'HW_ALM_LEVEL_HIGH')).toEqual([null, null, null, 2]);
  });

  it('uses the toxic gas exposure limit of the device: 100 % → orange, 200 % → red', () => {
    const dev = runtime({ class: 'gas_toxic', meta: { gas: 'H2S', exposureLimit: 10 } });
    expect(feed(dev, 'ppm', [2, 11, 12, 21, 22], 'HW_ALM_GAS_TOXIC_HIGH')).toEqual([null, null, 2, 2, 1]);
  });

  it('applies on-delay and off-delay on reading timestamps', () => {
    const dev = runtime({ class: 'fire_water' });
    // Pump running without pressure must last 60 s.
    evaluateReading(dev, { ts: 0, values: { pump_running: true, pressure: 0.05 } });
    evaluateReading(dev, { ts: 30_000, values: { pump_running: true, pressure: 0.05 } });
    expect(conditionSignal(dev, 'HW_ALM_FIRE_PUMP_NO_PRESSURE')).toBeNull();
    evaluateReading(dev, { ts: 60_000, values: { pressure: 0.06 } });
    expect(conditionSignal(dev, 'HW_ALM_FIRE_PUMP_NO_PRESSURE')?.level).toBe(2);
    // Low pressure (two samples) is its own condition.
    expect(conditionSignal(dev, 'HW_ALM_FIRE_WATER_PRESSURE_LOW')?.level).toBe(2);
    // Pump stops: combination clears after its 10 s off-delay.
    evaluateReading(dev, { ts: 65_000, values: { pump_running: false } });
    expect(conditionSignal(dev, 'HW_ALM_FIRE_PUMP_NO_PRESSURE')?.level).toBe(2);
    evaluateReading(dev, { ts: 75_000, values: { pump_running: false } });
    expect(conditionSignal(dev, 'HW_ALM_FIRE_PUMP_NO_PRESSURE')).toBeNull();
    // A pump that builds pressure within the on-delay raises nothing.
    const ok = runtime({ class: 'fire_water' });
    evaluateReading(ok, { ts: 0, values: { pump_running: true, pressure: 0.05 } });
    evaluateReading(ok, { ts: 20_000, values: { pump_running: true, pressure: 0.3 } });
    evaluateReading(ok, { ts: 80_000, values: { pump_running: true, pressure: 0.3 } });
    expect(conditionSignal(ok, 'HW_ALM_FIRE_PUMP_NO_PRESSURE')).toBeNull();
  });

  it('detects a rate of change over its window', () => {
    const dev = runtime({ class: 'vessel', meta: { maxLevelRate: 0.5 } });
    // 0.1 m per 10 s = 0.6 m/min ≥ 0.5
    const trace = feed(dev, 'level', [5, 5.1, 5.2, 5.3, 5.4, 5.5, 5.6, 5.7, 5.8, 5.9], 'HW_ALM_RATE_OF_CHANGE', 0, 10_000);
    expect(trace.slice(0, 3)).toEqual([null, null, null]);
    expect(trace.at(-1)).toBe(3);
    const slow = runtime({ class: 'vessel', meta: { maxLevelRate: 0.5 } });
    expect(raises(feed(slow, 'level', [5, 5.01, 5.02, 5.03, 5.04, 5.05, 5.06, 5.07, 5.08], 'HW_ALM_RATE_OF_CHANGE', 0, 10_000))).toBe(0);
  });

  it('maps device events: gas stage 1 → orange, stage 2 → red (never stage 1 → level 1); smoke → red; end events clear', () => {
    // Without correlation, the detector's stages are an alarm of their own (what `hazwatch replay --no-correlate` counts).
    const dev = runtime({}, { correlate: false });
    evaluateEvent(dev, { ts: 1, type: 'alarm_stage1', active: true }, false);
    expect(conditionSignal(dev, 'HW_ALM_GAS_DETECTOR_ALARM')?.level).toBe(2);
    evaluateEvent(dev, { ts: 2, type: 'alarm_stage2', active: true }, false);
    expect(conditionSignal(dev, 'HW_ALM_GAS_DETECTOR_ALARM')?.level).toBe(1);
    evaluateEvent(dev, { ts: 3, type: 'alarm_stage2', active: false }, false);
    expect(conditionSignal(dev, 'HW_ALM_GAS_DETECTOR_ALARM')?.level).toBe(2);
    evaluateEvent(dev, { ts: 4, type: 'alarm_stage1', active: false }, false);
    expect(conditionSignal(dev, 'HW_ALM_GAS_DETECTOR_ALARM')).toBeNull();
    const smoke = runtime({ class: 'smoke_alarm' });
    evaluateEvent(smoke, { ts: 1, type: 'smoke', active: true }, false);
    expect(conditionSignal(smoke, 'HW_ALM_SMOKE')?.level).toBe(1);
    evaluateEvent(smoke, { ts: 1, type: 'tamper', active: true }, false);
    expect(conditionSignal(smoke, 'HW_ALM_TAMPER')?.level).toBe(4);
    // A momentary event clears by itself after clearAfterSeconds.
    const fw = runtime({ class: 'fire_water' });
    evaluateEvent(fw, { ts: 0, type: 'hydrant_draw', active: true }, true);
    expect(conditionSignal(fw, 'HW_ALM_HYDRANT_DRAW')?.level).toBe(3);
    const heard = (t: number) => judgePresence(presencePolicy(fw.device), { heardAt: t, linkLostAt: null }, t);
    evaluateTime(fw, 599_000, heard(599_000));
    expect(conditionSignal(fw, 'HW_ALM_HYDRANT_DRAW')).not.toBeNull();
    evaluateTime(fw, 600_000, heard(600_000));
    expect(conditionSignal(fw, 'HW_ALM_HYDRANT_DRAW')).toBeNull();
  });

  it("one cause, one alarm: a gas detector's own stage joins its %LEL alarm, raises it when more severe, and is listed as corroboration", () => {
    const dev = runtime();
    expect(feed(dev, 'lel', [30, 30], 'HW_ALM_GAS_LEL_HIGH')).toEqual([null, 2]);
    expect(evaluateEvent(dev, { ts: 20_000, type: 'alarm_stage1', active: true }, false)).toEqual(new Set(['HW_ALM_GAS_LEL_HIGH']));
    expect(conditionSignal(dev, 'HW_ALM_GAS_DETECTOR_ALARM')).toBeNull();
    expect(corroborations(dev, 'HW_ALM_GAS_LEL_HIGH')).toEqual([{ rule: 'detector_alarm', condition: 'HW_ALM_GAS_DETECTOR_ALARM', event: 'alarm_stage1', level: 2, ts: 20_000 }]);
    // The detector's second stage is more severe than the platform's reading: the one alarm goes red.
    evaluateEvent(dev, { ts: 21_000, type: 'alarm_stage2', active: true }, false);
    expect(conditionSignal(dev, 'HW_ALM_GAS_LEL_HIGH')).toMatchObject({ level: 1, rule: 'detector_alarm' });
    evaluateEvent(dev, { ts: 22_000, type: 'alarm_stage2', active: false }, false);
    expect(conditionSignal(dev, 'HW_ALM_GAS_LEL_HIGH')).toMatchObject({ level: 2, rule: 'lel_high', metric: 'lel' });
    // The detector alone (its own setpoint lower than the platform's) raises the same one alarm.
    const early = runtime();
    evaluateEvent(early, { ts: 1, type: 'alarm_stage1', active: true }, false);
    expect(conditionSignal(early, 'HW_ALM_GAS_LEL_HIGH')?.level).toBe(2);
    // A consequence names its causes.
    expect(causesOf(runtime({ class: 'vessel' }), 'HW_ALM_INTERLOCK_TRIP')).toContain('HW_ALM_LEVEL_HIGH');
    expect(causesOf(runtime({ class: 'fire_water' }), 'HW_ALM_FIRE_WATER_PRESSURE_LOW')).toEqual(['HW_ALM_PUMP_FAULT']);
  });

  it('an override file turns correlation off for one device', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-rules-'));
    writeFileSync(join(dir, 'lel-7.yaml'), 'enterprise: acme\ndevice: lel-7\nrules:\n  - { id: detector_alarm, corroborates: null }\n');
    const set = loadRuleSet([dir]);
    const mine = device({ id: 'lel-7' });
    const dev = createDeviceRuntime(mine, set.forDevice(mine));
    evaluateEvent(dev, { ts: 1, type: 'alarm_stage1', active: true }, false);
    expect(conditionSignal(dev, 'HW_ALM_GAS_DETECTOR_ALARM')?.level).toBe(2);
    const other = device({ id: 'lel-8' });
    const dev8 = createDeviceRuntime(other, set.forDevice(other));
    evaluateEvent(dev8, { ts: 1, type: 'alarm_stage1', active: true }, false);
    expect(conditionSignal(dev8, 'HW_ALM_GAS_LEL_HIGH')?.level).toBe(2);
  });

  it('keeps an event on its own condition when the device has no rule for the condition it corroborates', () => {
    const d = device();
    const dev = createDeviceRuntime(d, rules.forDevice(d).filter((r) => r.id !== 'lel_high'));
    evaluateEvent(dev, { ts: 1, type: 'alarm_stage2', active: true }, false);
    expect(conditionSignal(dev, 'HW_ALM_GAS_DETECTOR_ALARM')?.level).toBe(1);
    expect(corroborations(dev, 'HW_ALM_GAS_LEL_HIGH')).toEqual([]);
  });

  it('raises offline when the device is judged offline: silent beyond interval × tolerance, or its connection lost beyond the grace', () => {
    const dev = runtime();
    const policy = presencePolicy(dev.device);
    expect(policy).toEqual({ mode: 'always', intervalSeconds: 5, graceSeconds: 30, tolerance: 3 });
    const at = (now: number, linkLostAt: number | null = null) => evaluateTime(dev, now, judgePresence(policy, { heardAt: 0, linkLostAt }, now));
    at(15_000);
    expect(conditionSignal(dev, 'HW_ALM_DEVICE_OFFLINE')).toBeNull();
    at(15_001);
    expect(conditionSignal(dev, 'HW_ALM_DEVICE_OFFLINE')?.level).toBe(4);
    expect(conditionSignal(dev, 'HW_ALM_DEVICE_OFFLINE')?.message).toMatch(/nothing heard for more than 15 s/);
    markHeard(dev, 16_000);
    expect(conditionSignal(dev, 'HW_ALM_DEVICE_OFFLINE')).toBeNull();
    const lost = runtime({ intervalSeconds: 600 });
    const lostAt = (now: number) => evaluateTime(lost, now, judgePresence(presencePolicy(lost.device), { heardAt: 0, linkLostAt: 1000 }, now));
    lostAt(30_999);
    expect(conditionSignal(lost, 'HW_ALM_DEVICE_OFFLINE')).toBeNull();
    lostAt(31_000);
    expect(conditionSignal(lost, 'HW_ALM_DEVICE_OFFLINE')?.message).toMatch(/connection lost for more than 30 s/);
  });

  it('ignores a lost connection of an intermittent device; only silence beyond its promise counts', () => {
    const dev = runtime({ class: 'smoke_alarm', intervalSeconds: 60 });
    const policy = presencePolicy(dev.device);
    expect(policy.mode).toBe('intermittent');
    const at = (now: number) => evaluateTime(dev, now, judgePresence(policy, { heardAt: 0, linkLostAt: 0 }, now));
    at(180_000);
    expect(conditionSignal(dev, 'HW_ALM_DEVICE_OFFLINE')).toBeNull();
    at(180_001);
    expect(conditionSignal(dev, 'HW_ALM_DEVICE_OFFLINE')?.message).toMatch(/3 × its 60 s reporting interval/);
  });

  it('seeds an instance loaded after a restart: no re-raise, and it clears normally', () => {
    const dev = runtime();
    seedActive(dev, 'HW_ALM_GAS_LEL_HIGH', 2, 0);
    expect(conditionSignal(dev, 'HW_ALM_GAS_LEL_HIGH')?.level).toBe(2);
    // Inside the deadband it stays; past it (and the off-delay) it clears.
    expect(feed(dev, 'lel', [23, 21, 21, 21], 'HW_ALM_GAS_LEL_HIGH', 1000)).toEqual([2, 2, 2, null]);
    resetCondition(dev, 'HW_ALM_GAS_LEL_HIGH');
    expect(conditionSignal(dev, 'HW_ALM_GAS_LEL_HIGH')).toBeNull();
  });

  it('clears an offline instance loaded after a restart once the device is heard, and only then', () => {
    const dev = runtime();
    seedActive(dev, 'HW_ALM_DEVICE_OFFLINE', 4, 0);
    expect(conditionSignal(dev, 'HW_ALM_DEVICE_OFFLINE')?.level).toBe(4);
    expect([...markHeard(dev, 1000)]).toEqual(['HW_ALM_DEVICE_OFFLINE']);
    expect(conditionSignal(dev, 'HW_ALM_DEVICE_OFFLINE')).toBeNull();
    // Heard again: nothing left to clear.
    expect([...markHeard(dev, 2000)]).toEqual([]);
  });

  it('does not evaluate a reading older than one already evaluated', () => {
    const dev = runtime();
    feed(dev, 'lel', [30, 30], 'HW_ALM_GAS_LEL_HIGH', 100_000);
    const changed = evaluateReading(dev, { ts: 1000, values: { lel: 0 } });
    expect(changed.size).toBe(0);
    expect(conditionSignal(dev, 'HW_ALM_GAS_LEL_HIGH')?.level).toBe(2);
  });

  it('merges override files by enterprise and device, and refuses a bad file with the file and rule named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-rules-'));
    writeFileSync(
      join(dir, 'acme.yaml'),
      `enterprise: acme\nclass: power_meter\nrules:\n  - id: cable_temperature_high\n    stages: [{ level: 2, raise: 60 }]\n  - id: over_voltage\n    disabled: true\n`,
    );
    writeFileSync(join(dir, 'device.yaml'), `enterprise: acme\ndevice: pm-7\nrules:\n  - id: cable_temperature_high\n    stages: [{ level: 1, raise: 80 }]\n`);
    const set = loadRuleSet([dir]);
    const base = set.forDevice({ enterprise: 'other', id: 'x', class: 'power_meter' });
    const acme = set.forDevice({ enterprise: 'acme', id: 'pm-1', class: 'power_meter' });
    const pm7 = set.forDevice({ enterprise: 'acme', id: 'pm-7', class: 'power_meter' });
    const stage = (rs: typeof base) => (rs.find((r) => r.id === 'cable_temperature_high') as { stages: { raise: unknown; level: number }[] }).stages[0];
    expect(stage(base)).toMatchObject({ raise: 70, level: 2 });
    expect(stage(acme)).toMatchObject({ raise: 60 });
    expect(stage(pm7)).toMatchObject({ raise: 80, level: 1 });
    expect(base.some((r) => r.id === 'over_voltage')).toBe(true);
    expect(acme.some((r) => r.id === 'over_voltage')).toBe(false);

    writeFileSync(join(dir, 'bad.yaml'), `class: oxygen\nrules:\n  - id: o2_low\n    stages: [{ level: 7, raise: 19 }]\n`);
    expect(() => loadRuleSet([dir])).toThrow(/bad\.yaml.*o2_low/s);
    writeFileSync(join(dir, 'bad.yaml'), `class: oxygen\nrules:\n  - id: o2_sky\n    type: threshold\n    condition: HW_ALM_O2_HIGH\n    metric: lel\n    direction: high\n    stages: [{ level: 2, raise: 1 }]\n`);
    expect(() => loadRuleSet([dir])).toThrow(/metric lel is not a metric of oxygen/);
  });
  it("a rule file's own detail line, in English and Chinese, with the values filled in", () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-rules-'));
    writeFileSync(
      join(dir, 'acme.yaml'),
      `enterprise: acme\nclass: gas_combustible\nrules:\n  - id: lel_high\n    message: { en: "Tank farm gas {value} {unit}, limit {threshold}", zh: "罐区可燃气体 {value} {unit}，限值 {threshold}" }\n`,
    );
    writeFileSync(join(dir, 'beta.yaml'), `enterprise: beta\nclass: gas_combustible\nrules:\n  - id: lel_high\n    message: "Plain line {value}"\n`);
    const set = loadRuleSet([dir]);
    const signal = (enterprise: string) => {
      const d = device({ enterprise });
      const dev = createDeviceRuntime(d, set.forDevice(d));
      feed(dev, 'lel', [30, 30], 'HW_ALM_GAS_LEL_HIGH');
      return conditionSignal(dev, 'HW_ALM_GAS_LEL_HIGH')!;
    };
    expect(signal('acme')).toMatchObject({ message: 'Tank farm gas 30 %LEL, limit 25', messageZh: '罐区可燃气体 30 %LEL，限值 25' });
    // A plain string is the English line; the Chinese console composes its own from the code.
    expect(signal('beta')).toMatchObject({ message: 'Plain line 30', messageZh: null });
    expect(signal('other')).toMatchObject({ messageZh: null });
    expect(signal('other').message).toMatch(/^Combustible gas/);
    writeFileSync(join(dir, 'bad.yaml'), `class: oxygen\nrules:\n  - id: o2_low\n    message: { fr: "non" }\n`);
    expect(() => loadRuleSet([dir])).toThrow(/bad\.yaml.*o2_low/s);
  });
});
