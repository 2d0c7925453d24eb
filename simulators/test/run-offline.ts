// Runs a scenario plan through the simulation engine without any transport, as fast as the CPU goes,
// and returns what the devices sent, stamped with the simulated time it was sent at.
import { createSimulation } from '../simulation.ts';
import type { ScenarioPlan } from '../scenario.ts';
import type { Observed, OracleDevice } from './oracle.ts';

export function runOffline(plan: ScenarioPlan): { observed: Observed[]; devices: OracleDevice[]; sim: ReturnType<typeof createSimulation> } {
  const sim = createSimulation({ devices: plan.devices, seed: plan.seed, start: plan.start, faults: plan.faults });
  const observed: Observed[] = [];
  for (const report of sim.due(plan.end)) {
    for (const m of report.messages) {
      observed.push({ enterprise: report.state.device.enterprise, device: report.state.device.id, channel: m.channel, payload: m.payload, receivedAt: report.step.now });
    }
  }
  // Models fill in derived meta (vessel limits) when they start: read it from them.
  const devices = sim.states.map((s) => ({ ...s.device, meta: s.model.meta }));
  return { observed, devices, sim };
}
