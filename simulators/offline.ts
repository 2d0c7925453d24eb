// A scenario without any transport, as fast as the CPU goes: every message its devices send, stamped
// with the simulated time it is sent at. For tests that feed a component directly (the rules engine,
// ingest's interpretation) and compare with the plan's expected alarms.
import type { DeviceClass } from '../contract/catalog.ts';
import { createSimulation, type SentRejection, type Simulation } from './simulation.ts';
import type { ScenarioPlan } from './scenario.ts';

export interface OfflineMessage {
  enterprise: string;
  device: string;
  class: DeviceClass;
  channel: 'telemetry' | 'event' | 'status';
  payload: string;
  /** Simulated epoch ms the device sent it; use it as the receive time. */
  receivedAt: number;
}

export interface OfflineRun {
  observed: OfflineMessage[];
  /** The devices with the meta their models run with (vessel limits filled in). */
  devices: { enterprise: string; id: string; class: DeviceClass; intervalSeconds: number; meta: Record<string, unknown> }[];
  rejections: SentRejection[];
  sim: Simulation;
}

export function runOffline(plan: ScenarioPlan): OfflineRun {
  const sim = createSimulation({ devices: plan.devices, seed: plan.seed, start: plan.start, faults: plan.faults });
  const observed: OfflineMessage[] = [];
  for (const report of sim.due(plan.end)) {
    const d = report.state.device;
    for (const m of report.messages) observed.push({ enterprise: d.enterprise, device: d.id, class: d.class, channel: m.channel, payload: m.payload, receivedAt: report.step.now });
  }
  const devices = sim.states.map((s) => ({ ...s.device, meta: s.model.meta }));
  return { observed, devices, rejections: [...sim.rejections].sort((a, b) => a.at - b.at), sim };
}
