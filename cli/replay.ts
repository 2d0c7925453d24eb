// `hazwatch replay --scenario f.yaml`: a scenario's devices (the simulators' models and faults) through
// the real rules engine and alarm store on the simulated clock, in seconds instead of the scenario's
// minutes, twice: with correlation (one cause, one alarm) and without. It says how many alarms an
// operator must act on either way and checks that correlation lost none of the alarms the scenario
// expects (each reached, at its level, in time). rules/test/scenarios.test.ts runs every shipped scenario
// through it; docs/alarms.md quotes its figures.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reachedBy, type Alarm, type AlarmCondition, type AlarmEventPayload, type AlarmLevel } from '../contract/alarms.ts';
import { HazwatchError } from '../contract/errors.ts';
import type { Command } from '../core/command.ts';
import { silentLogger } from '../core/log.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import type { DeviceRecord } from '../registry/registry.ts';
import { loadRuleSet, type RuleSet } from '../rules/definitions.ts';
import { createEngine } from '../rules/engine.ts';
import { openAlarmStore } from '../rules/store.ts';
import { loadScenario, planScenario, type ScenarioPlan } from '../simulators/scenario.ts';
import { createSimulation } from '../simulators/simulation.ts';

export interface Reached {
  device: string;
  condition: AlarmCondition;
  level: AlarmLevel;
  at: number;
}

export interface ReplayResult {
  /** Every change, in order. */
  changes: AlarmEventPayload[];
  /** Each alarm as it ended the run. */
  alarms: Alarm[];
  /** Conditions and levels reached (corroborations count as their own condition). */
  reached: Reached[];
  /** Instances raised per device/condition. */
  instances: Map<string, number>;
}

/** Runs a planned scenario through a fresh engine and store; `correlate: false` raises every condition as its own alarm. */
export async function replayScenario(plan: ScenarioPlan, options: { correlate?: boolean; rules?: RuleSet } = {}): Promise<ReplayResult> {
  let now = plan.start;
  const dir = mkdtempSync(join(tmpdir(), 'hw-replay-'));
  const store = await openAlarmStore(join(dir, 'alarms.db'), { now: () => now });
  try {
    const sim = createSimulation({ devices: plan.devices, seed: plan.seed, start: plan.start, faults: plan.faults });
    // Models fill in derived meta (vessel limits) when they start: the registry entry carries it.
    const records = new Map<string, DeviceRecord>(
      sim.states.map((s) => {
        const d = plan.devices.find((x) => x.id === s.device.id && x.enterprise === s.device.enterprise)!;
        const record: DeviceRecord = {
          enterprise: d.enterprise,
          id: d.id,
          class: d.class,
          name: d.name ?? '',
          connection: null,
          site: d.site ?? '',
          hazardSource: d.hazardSource ?? null,
          intervalSeconds: d.intervalSeconds,
          meta: s.model.meta,
          createdAt: plan.start,
          revokedAt: null,
        };
        return [`${d.enterprise}/${d.id}`, record];
      }),
    );
    const rules = options.rules ?? loadRuleSet();
    const engine = createEngine({
      store,
      rules: () => rules,
      devices: { get: (e, id) => records.get(`${e}/${id}`), all: () => [...records.values()] },
      log: silentLogger(),
      metrics: createMetricsRegistry(),
      now: () => now,
      correlate: options.correlate ?? true,
    });
    await engine.start();
    for (let t = plan.start; t <= plan.end; t += 1000) {
      for (const report of sim.due(t)) {
        now = report.step.now;
        const { enterprise, id } = report.state.device;
        for (const m of report.messages) {
          if (m.channel === 'telemetry') engine.telemetry(enterprise, id, m.payload, now);
          else if (m.channel === 'event') engine.event(enterprise, id, m.payload, now);
          else engine.status(enterprise, id, m.payload, now);
        }
        await engine.idle();
      }
      now = t;
      await engine.tick();
      await engine.idle();
    }
    const changes = await store.tailHistory(0, 1_000_000);
    const reached = changes.flatMap((c) => {
      const r = reachedBy(c);
      return r ? [{ device: c.alarm.device, condition: r.condition, level: r.level, at: c.change.at }] : [];
    });
    const instances = new Map<string, number>();
    for (const c of changes) if (c.change.action === 'raised') instances.set(`${c.alarm.device}/${c.alarm.condition}`, (instances.get(`${c.alarm.device}/${c.alarm.condition}`) ?? 0) + 1);
    const alarms = await store.list({ limit: 1000 });
    return { changes, alarms, reached, instances };
  } finally {
    await store.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What the scenario expects that the run did not reach (missing, late, too many instances), and what it reached unasked when exhaustive. */
export function expectationProblems(plan: ScenarioPlan, result: ReplayResult): string[] {
  const problems: string[] = [];
  for (const e of plan.expected) {
    const hits = result.reached.filter((r) => r.device === e.device && r.condition === e.condition && r.level <= e.level && r.at >= e.fault.at);
    if (hits.length === 0) problems.push(`missing: ${e.device} ${e.condition} level ${e.level}`);
    else if (hits[0].at > e.deadline) problems.push(`late: ${e.device} ${e.condition} level ${e.level} at +${(hits[0].at - e.fault.at) / 1000} s, expected within ${e.withinSeconds} s`);
    if (e.maxInstances !== undefined) {
      const n = result.instances.get(`${e.device}/${e.condition}`) ?? 0;
      if (n > e.maxInstances) problems.push(`too many: ${e.device} ${e.condition} ${n} instances, at most ${e.maxInstances}`);
    }
  }
  if (plan.exhaustive) {
    for (const r of result.reached) {
      // De-escalating back through a listed level of the same alarm is part of the expected story.
      if (!plan.expected.some((e) => e.device === r.device && e.condition === r.condition)) problems.push(`unexpected: ${r.device} ${r.condition} level ${r.level} at ${new Date(r.at).toISOString()}`);
    }
  }
  return problems;
}

export interface ActionableCount {
  scenario: string;
  /** Alarm instances without correlation: each one to be signed for. */
  before: number;
  /** Alarms of their own with correlation (consequences ride with their cause). */
  after: number;
  /** Device events recorded on an alarm instead of raising their own. */
  corroborations: number;
  /** Consequences put under the alarm of their cause. */
  grouped: number;
  /** Expected alarms not reached (must be empty), with and without correlation. */
  problems: { correlated: string[]; uncorrelated: string[] };
}

/** The figure of issue 19: how many alarms an operator must act on before and after correlation. */
export async function actionableCount(plan: ScenarioPlan, rules?: RuleSet): Promise<ActionableCount> {
  const [without, withIt] = [await replayScenario(plan, { correlate: false, rules }), await replayScenario(plan, { correlate: true, rules })];
  const raised = (r: ReplayResult) => r.changes.filter((c) => c.change.action === 'raised');
  return {
    scenario: plan.scenario,
    before: raised(without).length,
    after: raised(withIt).filter((c) => !withIt.alarms.find((a) => a.id === c.alarm.id)?.parentId).length,
    corroborations: withIt.changes.filter((c) => c.change.action === 'corroborated').length,
    grouped: withIt.changes.filter((c) => c.change.action === 'grouped').length,
    problems: { correlated: expectationProblems(plan, withIt), uncorrelated: expectationProblems(plan, without) },
  };
}

/** A fixed simulated start, so that a replay gives the same figures every time. */
export const REPLAY_START = Date.UTC(2026, 10, 23, 1, 0, 0);

export const replayCommand: Command = {
  name: 'replay',
  summary: 'Run scenarios through the rules engine on the simulated clock: alarms to act on with and without correlation, expected alarms checked',
  usage: 'replay --scenario f.yaml [--scenario g.yaml ...] [--out report.json]',
  options: {
    scenario: { type: 'string', multiple: true },
    out: { type: 'string' },
  },
  async run({ flags, out }) {
    const files = (flags.scenario as string[] | undefined) ?? [];
    if (!files.length) throw new HazwatchError('HW_ERR_CONFIG', 'replay: name at least one scenario (--scenario simulators/scenarios/demo.yaml)');
    const report: ActionableCount[] = [];
    out.write('scenario                     before  after  corroborated  grouped  expected alarms\n');
    for (const file of files) {
      const plan = planScenario(loadScenario(file), REPLAY_START);
      const c = await actionableCount(plan);
      report.push(c);
      const ok = c.problems.correlated.length === 0 ? `all ${plan.expected.length} reached` : c.problems.correlated.join('; ');
      out.write(`${c.scenario.padEnd(28)} ${String(c.before).padStart(6)} ${String(c.after).padStart(6)} ${String(c.corroborations).padStart(13)} ${String(c.grouped).padStart(8)}  ${ok}\n`);
    }
    if (typeof flags.out === 'string') writeFileSync(flags.out, `${JSON.stringify(report, null, 2)}\n`);
    if (report.some((c) => c.problems.correlated.length)) throw new HazwatchError('HW_ERR_CONFIG', 'replay: correlation lost an expected alarm (see above)');
  },
};
