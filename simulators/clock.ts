// The simulated clock. At speed 1 it is the wall clock (latency measurements). Faster, it would send
// timestamps from the future, which ingest refuses beyond an hour and distrusts beyond 30 s; so a run
// of known length is anchored in the past: simulated time starts `span - span / speed` before now and
// reaches the wall clock exactly when the run ends. Simulated timestamps never run ahead of real time.
export interface SimClock {
  speed: number;
  /** Simulated epoch ms at the start of the run. */
  start: number;
  /** Wall-clock epoch ms at the start of the run. */
  realStart: number;
  now(): number;
  /** Wall-clock ms until the simulated time `t` (0 when it has passed). */
  realDelayUntil(t: number): number;
}

export interface ClockOptions {
  speed?: number;
  /** Simulated seconds the run covers; required when speed > 1. */
  spanSeconds?: number;
  /** Simulated start; default: anchored as described above. */
  start?: number;
  wallClock?: () => number;
}

export function createClock(options: ClockOptions = {}): SimClock {
  const speed = options.speed ?? 1;
  if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`speed must be a positive number, got ${speed}`);
  const wall = options.wallClock ?? Date.now;
  const realStart = wall();
  let start = options.start;
  if (start === undefined) {
    if (speed > 1 && options.spanSeconds === undefined) {
      throw new Error('a simulated clock faster than real time needs the length of the run (duration or scenario), so that its timestamps stay in the past');
    }
    start = realStart - (speed > 1 ? (options.spanSeconds as number) * 1000 * (1 - 1 / speed) : 0);
  }
  const s = start;
  return {
    speed,
    start: s,
    realStart,
    now: () => s + (wall() - realStart) * speed,
    realDelayUntil: (t) => Math.max(0, (t - s) / speed - (wall() - realStart)),
  };
}
