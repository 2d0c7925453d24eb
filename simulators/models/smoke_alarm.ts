// Networked smoke alarm (NB-IoT / 4G): reports battery and signal at every heartbeat; checks its
// battery once a day (domain.md: at least every 24 h) and says so with a heartbeat event; raises a
// smoke alarm when smoke reaches its chamber, which a person can silence; low battery below 20 %.
// A `silence` command mutes the sounder while the smoke lasts (the smoke condition stays reported: the
// alarm is real); the next smoke sounds again. `self_test` sounds it briefly and checks the battery.
import type { ModelEvent, Physics, PhysicsContext } from './types.ts';
import { active, clamp, latch, num } from './util.ts';

const DAY = 86_400_000;

export const smokeAlarmPhysics = ({ rnd, meta, start }: PhysicsContext): Physics => {
  let battery = num(meta, 'battery', rnd.range(70, 100));
  const drainPerDay = num(meta, 'batteryDrainPerDay', 0.03);
  const lowAt = num(meta, 'lowBattery', 20);
  const smokeDelay = num(meta, 'smokeDelaySeconds', 15) * 1000;
  const signal0 = num(meta, 'signal', rnd.range(-95, -70));
  let signal = signal0;
  let nextSelfCheck = start + rnd.range(0, DAY);
  let smoke = false;
  /** The sounder was silenced (by hand or by command) during this smoke. */
  let muted = false;
  const low = { on: battery < lowAt };
  const events: ModelEvent[] = [];
  return {
    faults: ['fire', 'low_battery', 'silence_button'],
    advance(t, dt, faults) {
      const fire = active(faults, 'fire')[0];
      // The sounder drains the battery far faster than the standby current.
      battery -= (drainPerDay / 86_400) * dt * (smoke && !muted ? 50 : 1);
      const forced = active(faults, 'low_battery')[0];
      if (forced && battery > forced.fault.to) battery = forced.fault.to;
      battery = clamp(battery, 0, 100);
      signal = clamp(signal + rnd.normal(0, 0.2 * Math.sqrt(dt)) - (signal - signal0) * 0.002 * dt, -120, -55);
      const smoky = !!fire && t - fire.start >= smokeDelay;
      if (smoky !== smoke) {
        smoke = smoky;
        muted = false;
        events.push({ type: 'smoke', active: smoke, ...(smoke ? { message: 'smoke detected' } : {}) });
      }
      const change = latch(low, lowAt - battery, 0, -2);
      if (change !== undefined) events.push({ type: 'low_battery', active: change, data: { battery: Math.round(battery) } });
      if (t >= nextSelfCheck) {
        nextSelfCheck += DAY;
        events.push({ type: 'heartbeat', message: 'daily self-check', data: { battery: Math.round(battery) } });
      }
    },
    read() {
      return { values: { battery, signal: signal + rnd.normal(0, 1) }, events: events.splice(0) };
    },
    started(a) {
      if (a.fault.kind !== 'silence_button') return [];
      muted = smoke;
      return [{ type: 'silence', message: 'alarm silenced at the device' }];
    },
    command(name) {
      if (name === 'silence') {
        if (!smoke) return { status: 'done', message: 'nothing was sounding' };
        muted = true;
        events.push({ type: 'silence', message: 'alarm silenced remotely' });
        return { status: 'done', message: 'sounder silenced; smoke still detected' };
      }
      if (name === 'self_test') {
        if (battery < lowAt) return { status: 'failed', message: `self-test: battery low (${Math.round(battery)} %)` };
        return undefined;
      }
      return undefined;
    },
    ended(a) {
      // The battery was replaced: the low-battery condition clears at the next step.
      if (a.fault.kind === 'low_battery') battery = 100;
      // Smoke clears from the chamber when the fire is out.
      if (a.fault.kind === 'fire' && smoke) {
        smoke = false;
        return [{ type: 'smoke', active: false }];
      }
      return [];
    },
  };
};

export { smokeAlarmPhysics as physics };
