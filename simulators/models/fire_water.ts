// Fire-water pump and pipe network. The network is a compliance (pressure tank and pipes) that loses
// water slowly through valves and seals; a jockey pump switches on at its low set point and off at its
// high one, so the pressure saw-tooths. A hydrant draw exceeds the jockey pump and the pressure falls
// until the main pump's pressure switch starts it (it runs within seconds, GB 50974-2014 asks within
// 2 min); the main pump then holds the network high until it is stopped by hand (modelled as
// `pumpRunOnSeconds` after the draw ends). A failed main pump lets the pressure fall to nothing.
// A test run (command `pump_test_start`) starts the main pump for its minutes, as the monthly test
// run from the control room does; `pump_test_stop` ends it early, but never stops a pump on demand.
import type { ModelEvent, Physics, PhysicsContext } from './types.ts';
import { active, clamp, num } from './util.ts';

/** Pump curve: flow (m3/s) at pressure p (MPa) for a pump of maximum flow q and shut-off pressure h. */
const pump = (q: number, h: number, p: number) => Math.max(0, q * (1 - p / h));

export const fireWaterPhysics = ({ rnd, meta }: PhysicsContext): Physics => {
  const jockeyOn = num(meta, 'jockeyStart', 0.3);
  const jockeyOff = num(meta, 'jockeyStop', 0.35);
  const mainStart = num(meta, 'mainStart', 0.22);
  const relief = num(meta, 'reliefPressure', 0.8);
  const poolNominal = num(meta, 'poolLevel', 4);
  const poolArea = num(meta, 'poolArea', 200); // m2
  const runOn = num(meta, 'pumpRunOnSeconds', 300);
  const compliance = 3.6; // m3 per MPa: a hydrant draw of 54 m3/h empties 0.25 MPa in about a minute
  const leakage = 1.8e-3; // m3/s per MPa: the jockey pump cycles every few minutes
  let pressure = rnd.range(jockeyOn + 0.01, jockeyOff);
  let jockey = false;
  let main = false;
  let mainStartAt: number | undefined;
  let lastDrawAt = -Infinity;
  /** End of a test run in progress (simulated epoch ms). */
  let testUntil: number | undefined;
  let failedNow = false;
  let pool = poolNominal - rnd.range(0, 0.05);
  // A battery-powered terminal (an NB-IoT hydrant) reports its charge; a pump panel on mains does not.
  let battery = typeof meta.battery === 'number' ? meta.battery : undefined;
  const events: ModelEvent[] = [];

  return {
    faults: ['pump_failure', 'hydrant_draw'],
    advance(t, dt, faults) {
      const draws = active(faults, 'hydrant_draw');
      const failed = active(faults, 'pump_failure').length > 0;
      failedNow = failed;
      if (testUntil !== undefined && t >= testUntil) testUntil = undefined;
      if (testUntil !== undefined && !failed) main = true;
      const drawn = draws.reduce((s, a) => s + a.fault.flow / 3600, 0);
      if (draws.length) lastDrawAt = t;
      if (!jockey && pressure <= jockeyOn) jockey = true;
      else if (jockey && pressure >= jockeyOff) jockey = false;
      if (!main && !failed && pressure <= mainStart) {
        // The pressure switch starts the main pump; it takes a few seconds to come up to speed.
        mainStartAt ??= t + 5000;
        if (t >= mainStartAt) {
          main = true;
          mainStartAt = undefined;
        }
      }
      if (main && (failed || (testUntil === undefined && !draws.length && t - lastDrawAt > runOn * 1000))) main = false;
      const supply = (jockey ? pump(0.004, 0.6, pressure) : 0) + (main && !failed ? pump(0.05, 0.9, pressure) : 0);
      const demand = leakage * pressure + (drawn * Math.sqrt(Math.max(pressure, 0) / 0.3) || 0);
      pressure = clamp(pressure + ((supply - demand) / compliance) * dt + rnd.normal(0, 0.0003 * Math.sqrt(dt)), 0.02, relief);
      // The main pump draws from the pool; the make-up valve refills it slowly.
      const intake = main && !failed ? pump(0.05, 0.9, pressure) : 0;
      pool = clamp(pool - (intake / poolArea) * dt + (pool < poolNominal ? (0.002 / poolArea) * dt : 0), 0, 20);
      if (battery !== undefined) battery = Math.max(0, battery - (0.01 / 86_400) * dt);
    },
    read() {
      return {
        values: {
          pressure: Math.max(0, pressure + rnd.normal(0, 0.001)),
          pump_running: main,
          jockey_running: jockey,
          pool_level: pool + rnd.normal(0, 0.002),
          ...(battery !== undefined ? { battery: Math.round(battery * 10) / 10 } : {}),
        },
        events: events.splice(0),
      };
    },
    started(a) {
      if (a.fault.kind === 'hydrant_draw') return [{ type: 'hydrant_draw', data: { flow: a.fault.flow } }];
      // The pump controller monitors its supply and motor: it reports the fault as soon as it happens.
      if (a.fault.kind === 'pump_failure') return [{ type: 'pump_fault', active: true, message: 'main fire pump failed' }];
      return [];
    },
    command(name, args, t) {
      if (name === 'pump_test_start') {
        if (failedNow) return { status: 'failed', message: 'main fire pump failed: it does not start' };
        if (main && testUntil === undefined) return { status: 'rejected', message: 'main pump is running on demand' };
        const minutes = typeof args.minutes === 'number' ? args.minutes : 10;
        testUntil = t + minutes * 60_000;
        main = true;
        return { status: 'done', message: `main pump test run started for ${minutes} min` };
      }
      if (name === 'pump_test_stop') {
        if (testUntil === undefined) return { status: 'rejected', message: main ? 'main pump is running on demand: not stopped' : 'no test run in progress' };
        testUntil = undefined;
        main = false;
        return { status: 'done', message: 'test run ended' };
      }
      return undefined;
    },
    ended(a) {
      if (a.fault.kind === 'pump_failure') return [{ type: 'pump_fault', active: false, message: 'main fire pump restored' }];
      return [];
    },
  };
};

export { fireWaterPhysics as physics };
