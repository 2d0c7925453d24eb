// What every simulated device does whatever its class: keep a clock, integrate its physics in small
// steps, keep its faults, round and bound its readings to what the instrument can show, and turn the
// common faults (silence, chatter, clock skew, malformed firmware, fault, tamper) into behaviour.
import { DEVICE_CLASSES, type DeviceClass, type MetricSpec } from '../../contract/catalog.ts';
import { COMMON_FAULTS, Fault, type FaultInput, type FaultKind } from '../faults.ts';
import { createRandom } from '../random.ts';
import { commandSpec } from '../../contract/commands.ts';
import type { ActiveFault, CommandResult, DeviceModel, ModelEvent, ModelOptions, PhysicsFactory, StepResult } from './types.ts';
import { clamp } from './util.ts';

/** Longest integration step: short enough for pump and sensor dynamics of a few seconds. */
const MAX_STEP_SECONDS = 1;

/** Resolution each metric is reported with, like the instrument's display. */
const DECIMALS: Record<string, number> = {
  level: 3,
  temperature: 2,
  pressure: 4,
  flow: 1,
  lel: 1,
  ppm: 2,
  o2: 2,
  pool_level: 3,
  residual_current: 0,
  cable_temperature: 1,
  voltage: 1,
  current: 1,
  power: 2,
  energy: 2,
  battery: 0,
  signal: 0,
};

function round(metric: string, v: number): number {
  const d = DECIMALS[metric] ?? 3;
  const f = 10 ** d;
  return Math.round(v * f) / f;
}

export function createBaseModel(cls: DeviceClass, factory: PhysicsFactory, options: ModelOptions): DeviceModel {
  const rnd = createRandom(options.seed);
  const meta: Record<string, unknown> = { ...(options.meta ?? {}) };
  const metrics: Record<string, MetricSpec> = DEVICE_CLASSES[cls].metrics;
  let physics: ReturnType<PhysicsFactory> | undefined;
  let last: number | undefined;
  const faults: ActiveFault[] = [];
  const pending: ModelEvent[] = [];
  const malformedLeft = new Map<ActiveFault, number>();

  function ensure(now: number): ReturnType<PhysicsFactory> {
    if (!physics) {
      physics = factory({ rnd, meta, start: now });
      last = now;
    }
    return physics;
  }

  function commonStarted(a: ActiveFault): ModelEvent[] {
    if (a.fault.kind === 'device_fault') return [{ type: 'fault', active: true, message: a.fault.message }];
    if (a.fault.kind === 'tamper') return [{ type: 'tamper', active: true }];
    return [];
  }

  function commonEnded(a: ActiveFault): ModelEvent[] {
    if (a.fault.kind === 'device_fault') return [{ type: 'fault', active: false, message: a.fault.message }];
    if (a.fault.kind === 'tamper') return [{ type: 'tamper', active: false }];
    return [];
  }

  function end(a: ActiveFault, t: number): void {
    const i = faults.indexOf(a);
    if (i < 0) return;
    faults.splice(i, 1);
    malformedLeft.delete(a);
    pending.push(...commonEnded(a), ...(physics?.ended?.(a, t) ?? []));
  }

  function expire(t: number): void {
    for (const a of [...faults]) if (a.end !== undefined && a.end <= t) end(a, a.end);
  }

  const model: DeviceModel = {
    deviceClass: cls,
    meta,

    step(now: number, options: { report?: boolean } = {}): StepResult {
      const p = ensure(now);
      if (now < (last as number)) throw new Error(`step(${now}) goes back in time (last step ${last})`);
      let t = last as number;
      while (t < now) {
        const next = Math.min(now, t + MAX_STEP_SECONDS * 1000);
        // A fault starting or ending inside this interval acts exactly from its start to its end.
        const boundary = faults.reduce((b, a) => {
          if (a.start > t && a.start < b) b = a.start;
          return a.end !== undefined && a.end > t && a.end < b ? a.end : b;
        }, next);
        p.advance(boundary, (boundary - t) / 1000, faults.filter((a) => a.start < boundary));
        t = boundary;
        expire(t);
      }
      last = now;
      expire(now);

      const current = faults.filter((a) => a.start <= now);
      const override: Record<string, number> = {};
      for (const a of current) {
        if (a.fault.kind !== 'chatter') continue;
        const phase = (2 * Math.PI * (now - a.start)) / 1000 / a.fault.periodSeconds;
        override[a.fault.metric] = a.fault.around + a.fault.amplitude * Math.sin(phase) + rnd.normal(0, a.fault.amplitude * 0.2);
      }
      const read = p.read(now, current, override);
      const values: Record<string, number | boolean> = {};
      for (const [metric, value] of Object.entries(read.values)) {
        const spec = metrics[metric];
        if (!spec) continue;
        if (typeof value === 'boolean') values[metric] = value;
        else values[metric] = round(metric, clamp(value, spec.min ?? -Infinity, spec.max ?? Infinity));
      }
      const events = [...pending.splice(0), ...read.events];
      const skew = current.find((a) => a.fault.kind === 'clock_skew');
      const result: StepResult = { now, ts: now + (skew?.fault.kind === 'clock_skew' ? skew.fault.offsetSeconds * 1000 : 0), values, events };
      const silent = current.find((a) => a.fault.kind === 'silent');
      if (silent?.fault.kind === 'silent') result.silent = silent.fault.mode;
      for (const a of options.report === false ? [] : current) {
        const left = malformedLeft.get(a);
        if (a.fault.kind === 'malformed' && left !== undefined && left > 0) {
          result.malformed = a.fault.variant;
          malformedLeft.set(a, left - 1);
          break;
        }
      }
      return result;
    },

    inject(input: FaultInput, at?: number): ActiveFault {
      const fault = Fault.parse(input);
      const p = physics;
      const t = at ?? last;
      if (t === undefined || !p) throw new Error('inject() before the first step(): step the model once to set its clock');
      if (!COMMON_FAULTS.includes(fault.kind) && !p.faults.includes(fault.kind)) {
        throw new Error(`a ${cls} device cannot have a ${fault.kind} fault (it knows ${[...COMMON_FAULTS, ...p.faults].join(', ')})`);
      }
      if (fault.kind === 'chatter' && !metrics[fault.metric]) throw new Error(`chatter on unknown metric ${fault.metric} of ${cls}`);
      const a: ActiveFault = { fault, start: t, ...(fault.durationSeconds !== undefined ? { end: t + fault.durationSeconds * 1000 } : {}) };
      faults.push(a);
      if (fault.kind === 'malformed') malformedLeft.set(a, fault.count);
      pending.push(...commonStarted(a), ...(p.started?.(a, t) ?? []));
      return a;
    },

    clear(kind?: FaultKind, at?: number): void {
      const t = at ?? last ?? 0;
      for (const a of [...faults]) if (!kind || a.fault.kind === kind) end(a, t);
    },

    faults: () => faults,

    command(name: string, args: Record<string, unknown>, at?: number): CommandResult {
      const p = physics;
      const t = at ?? last;
      if (t === undefined || !p) return { status: 'rejected', message: 'not started' };
      if (!commandSpec(cls, name)) return { status: 'rejected', message: `a ${cls} device has no command ${name}` };
      const current = faults.filter((a) => a.start <= t);
      const own = p.command?.(name, args, t, current);
      if (own) return own;
      if (name === 'self_test') {
        // The built-in test finds what the device knows to be wrong with itself.
        const broken = current.find((a) => a.fault.kind === 'device_fault' || a.fault.kind === 'tamper');
        if (broken) return { status: 'failed', message: broken.fault.kind === 'device_fault' ? `self-test failed: ${broken.fault.message ?? 'device fault'}` : 'self-test failed: tampered with' };
        return { status: 'done', message: 'self-test passed' };
      }
      if (name === 'silence') return { status: 'done', message: 'local sounder silenced' };
      return { status: 'rejected', message: `${name} is not modelled` };
    },
  };
  return model;
}
