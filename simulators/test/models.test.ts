import { describe, expect, it } from 'vitest';
import { DEVICE_CLASS_IDS, DEVICE_CLASSES, type DeviceClass, type MetricSpec } from '../../contract/catalog.ts';
import { interpretEvent, interpretTelemetry } from '../../contract/payloads.ts';
import { MALFORMED_VARIANTS, type FaultInput, type MalformedVariant } from '../faults.ts';
import { encodeStep, malformedMessage } from '../messages.ts';
import { CLASS_FAULTS, createModel, PHYSICS, type DeviceModel, type ModelEvent, type StepResult } from '../models/index.ts';
import { createRandom, deviceSeed } from '../random.ts';

const T0 = Date.UTC(2026, 10, 23, 0, 0, 0); // 08:00 in China
const H = 3_600_000;

function run(model: DeviceModel, from: number, seconds: number, every: number): StepResult[] {
  const out: StepResult[] = [];
  for (let t = from; t <= from + seconds * 1000; t += every * 1000) out.push(model.step(t));
  return out;
}

function started(model: DeviceModel, at = T0): DeviceModel {
  model.step(at);
  return model;
}

const events = (steps: StepResult[]): ModelEvent[] => steps.flatMap((s) => s.events);
const series = (steps: StepResult[], metric: string) => steps.map((s) => s.values[metric] as number);
const firstAt = (steps: StepResult[], test: (s: StepResult) => boolean) => steps.find(test)?.now;

describe('random', () => {
  it('repeats for a seed and differs between seeds and devices', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    const xs = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(xs);
    expect(createRandom(43).next()).not.toBe(xs[0]);
    expect(deviceSeed(1, 'e', 'd1')).not.toBe(deviceSeed(1, 'e', 'd2'));
    expect(deviceSeed(1, 'e', 'd1')).toBe(deviceSeed(1, 'e', 'd1'));
    const n = createRandom(7);
    const draws = Array.from({ length: 4000 }, () => n.normal(10, 2));
    const mean = draws.reduce((s, x) => s + x, 0) / draws.length;
    expect(mean).toBeGreaterThan(9.8);
    expect(mean).toBeLessThan(10.2);
  });
});

describe('every model without faults', () => {
  // Two simulated days at the class's reporting interval (at most 60 s) cover the daily load and
  // temperature cycles, several tank batches, jockey pump cycles and a smoke alarm's daily self-check.
  for (const cls of DEVICE_CLASS_IDS) {
    it(`${cls} stays inside its physical range and its normal band`, () => {
      const model = createModel(cls, { seed: 11 });
      const every = Math.min(DEVICE_CLASSES[cls].intervalSeconds, 60);
      const steps = run(model, T0, 48 * 3600, every);
      const metrics: Record<string, MetricSpec> = DEVICE_CLASSES[cls].metrics;
      // Violations are collected and compared once: an expect() per value would dominate the run time.
      const bad: string[] = [];
      for (const s of steps) {
        const required = Object.keys(metrics).filter((m) => !metrics[m].optional);
        if (required.some((m) => !(m in s.values)) || Object.keys(s.values).some((m) => !(m in metrics))) bad.push(`metrics ${Object.keys(s.values)}`);
        for (const [metric, v] of Object.entries(s.values)) {
          const spec = metrics[metric];
          if (spec.type === 'boolean' ? typeof v !== 'boolean' : !(Number.isFinite(v) && (v as number) >= spec.min! && (v as number) <= spec.max!)) bad.push(`${metric}=${v}`);
        }
        if (s.ts !== s.now || s.silent || s.malformed) bad.push(`device behaviour at ${s.now}`);
      }
      expect(bad).toEqual([]);
      // What the device sends passes the contract untouched (checked on a sample of the run).
      const rejected = steps
        .filter((_, i) => i % 50 === 0 || steps[i].events.length > 0)
        .flatMap((s) => encodeStep(cls, s).flatMap((m) => (m.channel === 'telemetry' ? interpretTelemetry(cls, m.payload, s.now).rejections : interpretEvent(cls, m.payload, s.now).rejections)));
      expect(rejected).toEqual([]);
      // No condition events without a fault: only the smoke alarm's daily self-check.
      expect(events(steps).every((e) => e.type === 'heartbeat')).toBe(true);
      const v = (m: string) => series(steps, m);
      const within = (xs: number[], lo: number, hi: number) => {
        expect(Math.min(...xs)).toBeGreaterThan(lo);
        expect(Math.max(...xs)).toBeLessThan(hi);
      };
      switch (cls) {
        case 'vessel': {
          const limits = model.meta.limits as { level: { L: number; H: number }; temperature: { L: number; H: number }; pressure: { L: number; H: number } };
          within(v('level'), limits.level.L, limits.level.H);
          within(v('temperature'), limits.temperature.L, limits.temperature.H);
          within(v('pressure'), limits.pressure.L, limits.pressure.H);
          // It fills and drains: the level moves through most of its working band.
          expect(Math.max(...v('level')) - Math.min(...v('level'))).toBeGreaterThan(3);
          break;
        }
        case 'gas_combustible':
          within(v('lel'), -0.01, 5);
          break;
        case 'gas_toxic':
          within(v('ppm'), -0.01, 2);
          break;
        case 'oxygen':
          within(v('o2'), 20.5, 21.3);
          break;
        case 'fire_water': {
          within(v('pressure'), 0.25, 0.4);
          expect(steps.every((s) => s.values.pump_running === false)).toBe(true);
          // The jockey pump cycles: it starts and stops many times a day.
          const starts = steps.filter((s, i) => i > 0 && s.values.jockey_running === true && steps[i - 1].values.jockey_running === false).length;
          expect(starts).toBeGreaterThan(50);
          break;
        }
        case 'power_meter': {
          within(v('residual_current'), 50, 220);
          within(v('cable_temperature'), 10, 60);
          within(v('voltage'), 198, 242);
          within(v('current'), 5, 100);
          // Load follows the working day: busier at 10:00 local than at 03:00.
          const at = (hourLocal: number) => steps.find((s) => s.now === T0 + ((hourLocal - 8 + 24) % 24) * H)!.values.current as number;
          expect(at(10)).toBeGreaterThan(at(3) * 2);
          const energy = v('energy');
          expect(energy.every((e, i) => i === 0 || e >= energy[i - 1])).toBe(true);
          break;
        }
        case 'smoke_alarm': {
          within(v('battery'), 20, 100.01);
          expect(v('battery').at(-1)!).toBeLessThanOrEqual(v('battery')[0]);
          expect(events(steps).filter((e) => e.type === 'heartbeat')).toHaveLength(2);
          break;
        }
      }
    });
  }
});

describe('determinism', () => {
  for (const cls of DEVICE_CLASS_IDS) {
    it(`${cls}: the same seed gives the same readings, another seed others`, () => {
      const read = (seed: number) => run(createModel(cls, { seed, meta: {} }), T0, 3600, 10).map((s) => s.values);
      expect(read(5)).toEqual(read(5));
      expect(read(6)).not.toEqual(read(5));
    });
  }

  it('the physics of every class knows exactly the faults listed for it', () => {
    for (const cls of DEVICE_CLASS_IDS) {
      const physics = PHYSICS[cls]({ rnd: createRandom(1), meta: {}, start: T0 });
      expect([...physics.faults].sort()).toEqual([...CLASS_FAULTS[cls]].sort());
    }
  });
});

describe('faults cross the thresholds', () => {
  it('gas leak: the source passes stage 1 and 2 within seconds, with the detector\'s own stage alarms', () => {
    const m = started(createModel('gas_combustible', { seed: 3 }));
    m.inject({ kind: 'gas_leak', peak: 70, rampSeconds: 120, holdSeconds: 120, decaySeconds: 60 }, T0 + 60_000);
    const steps = run(m, T0 + 5000, 600, 5);
    const lel = series(steps, 'lel');
    expect(Math.max(...lel)).toBeGreaterThan(60);
    const s1 = firstAt(steps, (s) => (s.values.lel as number) >= 25)!;
    const s2 = firstAt(steps, (s) => (s.values.lel as number) >= 50)!;
    // The ramp reaches 25 %LEL after 43 s; the sensor's lag (T90 < 30 s) adds a little.
    expect((s1 - T0 - 60_000) / 1000).toBeGreaterThan(40);
    expect((s1 - T0 - 60_000) / 1000).toBeLessThan(70);
    expect(s2).toBeGreaterThan(s1);
    const ev = events(steps);
    expect(ev.filter((e) => e.type === 'alarm_stage1').map((e) => e.active)).toEqual([true, false]);
    expect(ev.filter((e) => e.type === 'alarm_stage2').map((e) => e.active)).toEqual([true, false]);
    // After the plume has gone the reading is back at its baseline.
    expect(lel.at(-1)).toBeLessThan(5);
  });

  it('gas leak: a neighbour sees the plume later and weaker', () => {
    const leak: FaultInput = { kind: 'gas_leak', peak: 70, rampSeconds: 120, holdSeconds: 180, decaySeconds: 60 };
    const source = started(createModel('gas_combustible', { seed: 4 }));
    const neighbour = started(createModel('gas_combustible', { seed: 5 }));
    source.inject(leak, T0);
    neighbour.inject({ ...leak, delaySeconds: 30, factor: 0.47 }, T0);
    const a = run(source, T0 + 5000, 500, 5);
    const b = run(neighbour, T0 + 5000, 500, 5);
    const rise = (steps: StepResult[]) => firstAt(steps, (s) => (s.values.lel as number) >= 10)!;
    expect(rise(b) - rise(a)).toBeGreaterThanOrEqual(25_000);
    expect(Math.max(...series(b, 'lel'))).toBeLessThan(Math.max(...series(a, 'lel')) * 0.7);
    expect(Math.max(...series(b, 'lel'))).toBeGreaterThan(25);
  });

  it('toxic gas: the stages follow the exposure limit of the device', () => {
    const m = started(createModel('gas_toxic', { seed: 1, meta: { gas: 'CO', exposureLimit: 20 } }));
    m.inject({ kind: 'gas_leak', peak: 60, rampSeconds: 60, holdSeconds: 120, decaySeconds: 60 });
    const steps = run(m, T0 + 5000, 300, 5);
    expect(Math.max(...series(steps, 'ppm'))).toBeGreaterThan(50);
    const stage1 = steps.find((s) => s.events.some((e) => e.type === 'alarm_stage1' && e.active))!;
    expect(stage1.values.ppm as number).toBeGreaterThanOrEqual(20);
    expect(events(steps).some((e) => e.type === 'alarm_stage2' && e.active)).toBe(true);
  });

  it('oxygen: a nitrogen release takes the space below 19.5 %VOL and ventilation brings it back', () => {
    const m = started(createModel('oxygen', { seed: 1 }));
    m.inject({ kind: 'oxygen_shift', target: 18, rampSeconds: 60, durationSeconds: 180 });
    const steps = run(m, T0 + 5000, 1200, 5);
    const o2 = series(steps, 'o2');
    expect(Math.min(...o2)).toBeLessThan(18.3);
    const below = firstAt(steps, (s) => (s.values.o2 as number) < 19.5)!;
    expect((below - T0) / 1000).toBeLessThan(60);
    expect(o2.at(-1)).toBeGreaterThan(20.6);
    m.inject({ kind: 'oxygen_shift', target: 25, rampSeconds: 30 });
    expect(Math.max(...series(run(m, T0 + 1_210_000, 300, 5), 'o2'))).toBeGreaterThan(23.5);
  });

  it('vessel overfill passes H and HH, trips the interlock, and the level stops rising', () => {
    const m = started(createModel('vessel', { seed: 2, meta: { height: 12, area: 20, initialLevel: 8 } }));
    const limits = m.meta.limits as { level: { H: number; HH: number } };
    m.inject({ kind: 'overfill', flow: 360 });
    const steps = run(m, T0 + 10_000, 1800, 10);
    const level = series(steps, 'level');
    expect(firstAt(steps, (s) => (s.values.level as number) >= limits.level.H)).toBeDefined();
    expect(Math.max(...level)).toBeGreaterThanOrEqual(limits.level.HH);
    expect(Math.max(...level)).toBeLessThan(limits.level.HH + 0.1);
    const trip = events(steps).filter((e) => e.type === 'interlock_trip');
    expect(trip.map((e) => e.active)).toEqual([true]);
    expect(steps.at(-1)!.values.flow).toBe(0);
    // Cleared: the operators drain the tank and the interlock resets below H.
    m.clear('overfill');
    const after = run(m, T0 + 1_820_000, 7200, 10);
    expect(events(after).filter((e) => e.type === 'interlock_trip').map((e) => e.active)).toEqual([false]);
  });

  it('vessel drain passes L and LL; fire raises temperature and pressure up to the relief valve', () => {
    const m = started(createModel('vessel', { seed: 2 }));
    const limits = m.meta.limits as { level: { LL: number }; temperature: { HH: number }; pressure: { HH: number } };
    m.inject({ kind: 'drain', flow: 600 });
    m.inject({ kind: 'fire', ratePerMinute: 20, durationSeconds: 600 });
    const steps = run(m, T0 + 10_000, 3600, 10);
    expect(Math.min(...series(steps, 'level'))).toBeLessThan(limits.level.LL);
    expect(Math.max(...series(steps, 'temperature'))).toBeGreaterThan(limits.temperature.HH);
    expect(Math.max(...series(steps, 'pressure'))).toBeGreaterThan(limits.pressure.HH);
    expect(Math.max(...series(steps, 'pressure'))).toBeLessThanOrEqual(limits.pressure.HH * 1.15 * 1.01);
  });

  it('fire water: a hydrant draw starts the main pump, which restores the pressure', () => {
    const m = started(createModel('fire_water', { seed: 1 }));
    m.inject({ kind: 'hydrant_draw', flow: 54, durationSeconds: 300 });
    const steps = run(m, T0 + 1000, 900, 1);
    expect(steps[0].events).toEqual([{ type: 'hydrant_draw', data: { flow: 54 } }]);
    const pumpAt = firstAt(steps, (s) => s.values.pump_running === true)!;
    expect((pumpAt - T0) / 1000).toBeLessThan(120); // GB 50974-2014: running within 2 min
    const p = series(steps, 'pressure');
    expect(Math.min(...p)).toBeGreaterThan(0.1);
    expect(Math.min(...p)).toBeLessThan(0.25);
    expect(steps.find((s) => s.now === T0 + 240_000)!.values.pressure as number).toBeGreaterThan(0.4);
  });

  it('fire water: with the main pump failed, a hydrant draw takes the pressure under 0.10 MPa', () => {
    const m = started(createModel('fire_water', { seed: 1 }));
    m.inject({ kind: 'pump_failure' });
    m.inject({ kind: 'hydrant_draw' });
    const steps = run(m, T0 + 1000, 300, 1);
    expect(steps[0].events).toContainEqual(expect.objectContaining({ type: 'pump_fault', active: true }));
    expect(steps.every((s) => s.values.pump_running === false)).toBe(true);
    expect(Math.min(...series(steps, 'pressure'))).toBeLessThan(0.1);
    m.clear('pump_failure');
    expect(m.step(T0 + 302_000).events).toContainEqual(expect.objectContaining({ type: 'pump_fault', active: false }));
  });

  it('power meter: growing leakage passes 300 mA; overload and fire heat the cable past 70 °C', () => {
    const leak = started(createModel('power_meter', { seed: 1 }));
    leak.inject({ kind: 'electrical_leakage', ratePerMinute: 30, peak: 800 });
    const l = run(leak, T0 + 10_000, 1800, 10);
    const over = firstAt(l, (s) => (s.values.residual_current as number) > 300)!;
    expect((over - T0) / 1000).toBeGreaterThan(120);
    expect((over - T0) / 1000).toBeLessThan(600);
    expect(Math.max(...series(l, 'residual_current'))).toBeLessThan(900);

    const load = started(createModel('power_meter', { seed: 1, meta: { ratedCurrent: 100 } }));
    load.inject({ kind: 'overload', factor: 1.5 });
    const o = run(load, T0 + 10_000, 3600, 10);
    expect(Math.max(...series(o, 'current'))).toBeGreaterThan(105);
    expect(Math.max(...series(o, 'cable_temperature'))).toBeGreaterThan(70);

    const fire = started(createModel('power_meter', { seed: 1 }));
    fire.inject({ kind: 'fire', ratePerMinute: 20 });
    fire.inject({ kind: 'arc_fault' });
    const f = run(fire, T0 + 10_000, 180, 10);
    expect(Math.max(...series(f, 'cable_temperature'))).toBeGreaterThan(80);
    expect(f[0].events).toContainEqual(expect.objectContaining({ type: 'arc_fault', active: true }));
  });

  it('smoke alarm: fire gives smoke within 20 s and its end; low battery, silence and tamper events', () => {
    const m = started(createModel('smoke_alarm', { seed: 1, meta: { battery: 80 } }));
    m.inject({ kind: 'fire', durationSeconds: 120 });
    const steps = run(m, T0 + 5000, 300, 5);
    const smoke = steps.filter((s) => s.events.some((e) => e.type === 'smoke'));
    expect(smoke.map((s) => s.events.find((e) => e.type === 'smoke')!.active)).toEqual([true, false]);
    expect((smoke[0].now - T0) / 1000).toBeLessThanOrEqual(20);
    m.inject({ kind: 'silence_button' });
    m.inject({ kind: 'low_battery', to: 15 });
    m.inject({ kind: 'tamper', durationSeconds: 60 });
    const next = run(m, T0 + 310_000, 120, 5);
    const ev = events(next);
    expect(ev.map((e) => e.type)).toEqual(expect.arrayContaining(['silence', 'low_battery', 'tamper']));
    expect(ev.filter((e) => e.type === 'tamper').map((e) => e.active)).toEqual([true, false]);
    expect(next.at(-1)!.values.battery).toBe(15);
  });

  it('chatter: the value hovers at the threshold, crossing it again and again', () => {
    const m = started(createModel('gas_combustible', { seed: 1 }));
    m.inject({ kind: 'chatter', metric: 'lel', around: 25, amplitude: 2, periodSeconds: 30 });
    const steps = run(m, T0 + 5000, 600, 5);
    const lel = series(steps, 'lel');
    const crossings = lel.filter((v, i) => i > 0 && (v >= 25) !== (lel[i - 1] >= 25)).length;
    expect(crossings).toBeGreaterThan(20);
    expect(Math.min(...lel)).toBeGreaterThan(21);
    expect(Math.max(...lel)).toBeLessThan(29);
  });

  it('clock skew, silence and device fault are device behaviour every class has', () => {
    for (const cls of DEVICE_CLASS_IDS) {
      const m = started(createModel(cls, { seed: 1 }));
      m.inject({ kind: 'clock_skew', offsetSeconds: 300, durationSeconds: 60 });
      m.inject({ kind: 'silent', mode: 'drop', durationSeconds: 30 });
      m.inject({ kind: 'device_fault', message: 'sensor drift' });
      const a = m.step(T0 + 10_000);
      expect(a.ts - a.now).toBe(300_000);
      expect(a.silent).toBe('drop');
      expect(a.events).toContainEqual({ type: 'fault', active: true, message: 'sensor drift' });
      expect(encodeStep(cls, a)).toEqual([]);
      const b = m.step(T0 + 40_000);
      expect(b.silent).toBeUndefined();
      expect(m.step(T0 + 70_000).ts).toBe(T0 + 70_000);
    }
  });

  it('a fault a class cannot have is refused, naming what it knows', () => {
    const m = started(createModel('oxygen', { seed: 1 }));
    expect(() => m.inject({ kind: 'overfill' })).toThrow(/oxygen device cannot have a overfill fault/);
    expect(() => m.inject({ kind: 'chatter', metric: 'lel', around: 1 })).toThrow(/unknown metric lel/);
    expect(() => createModel('oxygen', { seed: 1 }).inject({ kind: 'tamper' })).toThrow(/before the first step/);
  });
});

describe('malformed messages get the rejection they are built for', () => {
  const variants = Object.keys(MALFORMED_VARIANTS) as MalformedVariant[];
  for (const cls of DEVICE_CLASS_IDS as DeviceClass[]) {
    it(`${cls}`, () => {
      const m = started(createModel(cls, { seed: 1 }));
      const step = m.step(T0 + 10_000);
      for (const variant of variants) {
        const msg = malformedMessage(cls, variant, step);
        const rejections =
          msg.channel === 'telemetry' ? interpretTelemetry(cls, msg.payload, step.now).rejections : interpretEvent(cls, msg.payload, step.now).rejections;
        expect(rejections.map((r) => r.code), variant).toContain(MALFORMED_VARIANTS[variant]);
        expect(msg.expectRejection).toBe(MALFORMED_VARIANTS[variant]);
        // Small enough for the broker's default 256 KiB limit: refused by ingest for what it says.
        expect(Buffer.byteLength(msg.payload)).toBeLessThan(256 * 1024);
      }
    });
  }

  it('a malformed fault spoils `count` reports and keeps them for reports, not samples', () => {
    const m = started(createModel('gas_combustible', { seed: 1 }));
    m.inject({ kind: 'malformed', variant: 'nan_string', count: 2 });
    expect(m.step(T0 + 1000, { report: false }).malformed).toBeUndefined();
    expect(m.step(T0 + 2000).malformed).toBe('nan_string');
    expect(m.step(T0 + 3000).malformed).toBe('nan_string');
    expect(m.step(T0 + 4000).malformed).toBeUndefined();
  });
});
