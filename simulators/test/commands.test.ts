// Device models carry out commands as the real devices do (issue 15): a silenced smoke alarm stops
// sounding but still reports its smoke; a fire pump test run starts the main pump and the pressure
// rises, and a stop never stops a pump running on demand; a self-test finds the device's own fault.
import { describe, expect, it } from 'vitest';
import { createModel } from '../models/index.ts';

const T0 = Date.parse('2026-11-23T08:00:00Z');

describe('commands on the models', () => {
  it('smoke alarm: silence mutes the sounder while the smoke stays reported', () => {
    const m = createModel('smoke_alarm', { seed: 1, meta: { battery: 90, batteryDrainPerDay: 10 } });
    m.step(T0);
    expect(m.command('silence', {}, T0)).toEqual({ status: 'done', message: 'nothing was sounding' });
    m.inject({ kind: 'fire' }, T0);
    const smoky = m.step(T0 + 20_000);
    expect(smoky.events.map((e) => [e.type, e.active])).toContainEqual(['smoke', true]);
    // Sounding drains the battery fast; silenced, it drains like standby.
    const sounding = m.step(T0 + 3_600_000).values.battery as number;
    expect(m.command('silence', {}, T0 + 3_600_000)).toMatchObject({ status: 'done' });
    const after = m.step(T0 + 3_600_001);
    expect(after.events.map((e) => e.type)).toContain('silence');
    expect(after.events.some((e) => e.type === 'smoke' && e.active === false)).toBe(false);
    const later = m.step(T0 + 7_200_000).values.battery as number;
    expect(sounding - later).toBeLessThan(1);
    expect(90 - sounding).toBeGreaterThan(3);
  });

  it('fire water: a test run starts the main pump for its minutes; stop refuses a pump on demand', () => {
    const m = createModel('fire_water', { seed: 3 });
    m.step(T0);
    expect(m.command('pump_test_stop', {}, T0)).toEqual({ status: 'rejected', message: 'no test run in progress' });
    expect(m.command('pump_test_start', { minutes: 2 }, T0)).toMatchObject({ status: 'done' });
    const running = m.step(T0 + 30_000);
    expect(running.values.pump_running).toBe(true);
    expect(running.values.pressure as number).toBeGreaterThan(0.4);
    // The controller ends the run by itself after its minutes.
    expect(m.step(T0 + 200_000).values.pump_running).toBe(false);
    expect(m.command('pump_test_start', {}, T0 + 200_000)).toMatchObject({ status: 'done' });
    expect(m.step(T0 + 210_000).values.pump_running).toBe(true);
    expect(m.command('pump_test_stop', {}, T0 + 210_000)).toEqual({ status: 'done', message: 'test run ended' });
    expect(m.step(T0 + 215_000).values.pump_running).toBe(false);
    // A hydrant draw starts the pump on demand: neither a test nor a stop touches it.
    m.inject({ kind: 'hydrant_draw', flow: 120, durationSeconds: 600 }, T0 + 215_000);
    expect(m.step(T0 + 400_000).values.pump_running).toBe(true);
    expect(m.command('pump_test_stop', {}, T0 + 400_000)).toMatchObject({ status: 'rejected', message: 'main pump is running on demand: not stopped' });
    expect(m.command('pump_test_start', {}, T0 + 400_000)).toMatchObject({ status: 'rejected' });
    m.inject({ kind: 'pump_failure' }, T0 + 400_000);
    m.step(T0 + 401_000);
    expect(m.command('pump_test_start', {}, T0 + 401_000)).toMatchObject({ status: 'failed' });
  });

  it('self-test finds a device fault; unknown commands are rejected', () => {
    const m = createModel('gas_combustible', { seed: 5 });
    m.step(T0);
    expect(m.command('self_test', {}, T0)).toEqual({ status: 'done', message: 'self-test passed' });
    m.inject({ kind: 'device_fault', message: 'sensor head open circuit' }, T0);
    expect(m.command('self_test', {}, T0 + 1)).toEqual({ status: 'failed', message: 'self-test failed: sensor head open circuit' });
    expect(m.command('pump_test_start', {}, T0 + 1)).toMatchObject({ status: 'rejected' });
    expect(createModel('vessel', { seed: 1 }).command('silence', {}, T0)).toMatchObject({ status: 'rejected' });
  });
});
