// The engine that advances many device models on one simulated clock: each device reports at its own
// interval (with a seeded phase so that a fleet does not report in lock-step), receives its faults at
// their planned times, and yields the messages it sends. No transport and no wall clock: the fleet
// feeds it the clock's time; tests feed it a loop.
import type { DeviceClass } from '../contract/catalog.ts';
import type { ErrorCode } from '../contract/errors.ts';
import { encodeStep, type OutMessage } from './messages.ts';
import { createModel, type DeviceModel, type StepResult } from './models/index.ts';
import type { MalformedVariant } from './faults.ts';
import { createRandom, deviceSeed } from './random.ts';
import type { PlannedFault } from './scenario.ts';

/** Longest time between two looks at the sensors. */
const SAMPLE_MS = 5000;

export interface SimDevice {
  enterprise: string;
  id: string;
  class: DeviceClass;
  intervalSeconds: number;
  meta?: Record<string, unknown>;
}

export interface SimState {
  device: SimDevice;
  model: DeviceModel;
  /** Simulated epoch ms of the next sample (a report, or a look at the sensors for events). */
  next: number;
  /** Simulated epoch ms of the next telemetry report. */
  nextReport: number;
  intervalMs: number;
  sampleMs: number;
  faults: PlannedFault[];
}

export interface Report {
  state: SimState;
  step: StepResult;
  messages: OutMessage[];
}

export interface SentRejection {
  enterprise: string;
  device: string;
  code: ErrorCode;
  variant: MalformedVariant;
  /** Simulated epoch ms the malformed message was sent at. */
  at: number;
}

export interface SimulationOptions {
  devices: SimDevice[];
  seed: number;
  /** Simulated epoch ms of the start; every model's clock starts here. */
  start: number;
  faults?: PlannedFault[];
  maxBatch?: number;
}

const FIRST_REPORT_MS = 30_000;

export function createSimulation(options: SimulationOptions) {
  const phase = createRandom(options.seed ^ 0x5eed);
  const byKey = new Map<string, SimState>();
  const states: SimState[] = options.devices.map((device) => {
    const model = createModel(device.class, { seed: deviceSeed(options.seed, device.enterprise, device.id), enterprise: device.enterprise, device: device.id, meta: device.meta });
    model.step(options.start);
    const intervalMs = Math.max(1, Math.round(device.intervalSeconds * 1000));
    // A device reports once when it comes up (an NB-IoT alarm registers with a heartbeat), spread over
    // at most FIRST_REPORT_MS so that a fleet does not start in lock-step; then on its interval.
    const first = options.start + Math.floor(phase.next() * Math.min(intervalMs, FIRST_REPORT_MS));
    // Devices sample their sensors more often than they report, and send an event (smoke, a gas
    // stage, a pump fault) at once, as real ones do: a smoke alarm does not wait for its next heartbeat.
    const sampleMs = Math.min(intervalMs, SAMPLE_MS);
    const state: SimState = { device, model, intervalMs, sampleMs, next: Math.min(first, options.start + sampleMs), nextReport: first, faults: [] };
    byKey.set(`${device.enterprise}/${device.id}`, state);
    return state;
  });
  for (const f of options.faults ?? []) {
    const state = byKey.get(`${f.enterprise}/${f.device}`);
    if (!state) throw new Error(`fault for unknown device ${f.enterprise}/${f.device}`);
    state.faults.push(f);
  }
  for (const s of states) s.faults.sort((a, b) => a.at - b.at);
  const rejections: SentRejection[] = [];

  function report(state: SimState, at: number, telemetry: boolean): Report {
    while (state.faults.length && state.faults[0].at <= at) {
      const f = state.faults.shift()!;
      state.model.inject(f.fault, f.at);
    }
    const step = state.model.step(at, { report: telemetry });
    const messages = encodeStep(state.device.class, step, { maxBatch: options.maxBatch, telemetry });
    for (const m of messages) {
      if (m.expectRejection && m.variant) rejections.push({ enterprise: state.device.enterprise, device: state.device.id, code: m.expectRejection, variant: m.variant, at });
    }
    return { state, step, messages };
  }

  return {
    states,
    rejections,
    /** Reports of every device due at or before `now`, in time order. */
    due(now: number): Report[] {
      const out: Report[] = [];
      for (const s of states) {
        while (s.next <= now) {
          const at = s.next;
          const telemetry = at >= s.nextReport;
          if (telemetry) s.nextReport += s.intervalMs;
          const r = report(s, at, telemetry);
          if (r.messages.length || r.step.silent) out.push(r);
          s.next = Math.min(s.nextReport, at + s.sampleMs);
        }
      }
      return out.length > 1 ? out.sort((a, b) => a.step.now - b.step.now) : out;
    },
    /** Simulated time of the next report of any device. */
    nextDue(): number {
      return states.reduce((m, s) => Math.min(m, s.next), Infinity);
    },
  };
}
export type Simulation = ReturnType<typeof createSimulation>;
