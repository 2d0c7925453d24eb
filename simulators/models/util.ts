// Small helpers shared by the device models.
import type { ActiveFault } from './types.ts';
import type { Fault, FaultKind } from '../faults.ts';

export function num(meta: Record<string, unknown>, key: string, fallback: number): number {
  const v = meta[key];
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

export function clamp(v: number, min: number, max: number): number {
  return v < min ? min : v > max ? max : v;
}

/** Local hour of day (0..24) at a UTC offset; plants run on local time (China: +8). */
export function hourOfDay(t: number, utcOffsetHours: number): number {
  const h = (t / 3_600_000 + utcOffsetHours) % 24;
  return h < 0 ? h + 24 : h;
}

/** Active faults of one kind at time t, typed. */
export function active<K extends FaultKind>(faults: readonly ActiveFault[], kind: K): (ActiveFault & { fault: Extract<Fault, { kind: K }> })[] {
  return faults.filter((f) => f.fault.kind === kind) as (ActiveFault & { fault: Extract<Fault, { kind: K }> })[];
}

/** First-order lag: moves `value` toward `target` with time constant `tau` seconds over `dt` seconds. */
export function lag(value: number, target: number, dt: number, tau: number): number {
  return target + (value - target) * Math.exp(-dt / tau);
}

/** Tracks a device-side latched condition with hysteresis and returns the transition, if any. */
export function latch(state: { on: boolean }, value: number, set: number, reset: number): boolean | undefined {
  if (!state.on && value >= set) {
    state.on = true;
    return true;
  }
  if (state.on && value < reset) {
    state.on = false;
    return false;
  }
  return undefined;
}
