// Every shipped scenario (simulators/scenarios/*.yaml) through the real rules engine and alarm store on
// the simulated clock: the simulators' device models produce the messages, the engine evaluates them
// with the default rules, and the alarms raised are compared with the scenario's expected list (device,
// condition, level, within the time given; at most `maxInstances`; nothing else when exhaustive).
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alarmDetail } from '../../api/console/i18n.js';
import { ALARM_CONDITIONS, reachedBy, type AlarmCondition, type AlarmLevel } from '../../contract/alarms.ts';
import { DEVICE_CLASSES, metricSpec, type DeviceClass } from '../../contract/catalog.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import type { DeviceRecord } from '../../registry/registry.ts';
import { loadScenario, planScenario, type ScenarioPlan } from '../../simulators/scenario.ts';
import { createSimulation } from '../../simulators/simulation.ts';
import { loadRuleSet } from '../definitions.ts';
import { createEngine } from '../engine.ts';
import { openAlarmStore } from '../store.ts';

const DIR = join(import.meta.dirname, '..', '..', 'simulators', 'scenarios');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const T0 = Date.UTC(2026, 10, 23, 1, 0, 0);

interface Reached {
  device: string;
  condition: AlarmCondition;
  level: AlarmLevel;
  at: number;
}

async function runScenario(plan: ScenarioPlan) {
  let now = plan.start;
  const store = await openAlarmStore(join(mkdtempSync(join(tmpdir(), 'hw-scn-')), 'alarms.db'), { now: () => now });
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
  const rules = loadRuleSet();
  const engine = createEngine({
    store,
    rules: () => rules,
    devices: { get: (e, id) => records.get(`${e}/${id}`), all: () => [...records.values()] },
    log: silentLogger(),
    metrics: createMetricsRegistry(),
    now: () => now,
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
  const changes = await store.tailHistory(0, 100_000);
  // Correlation must lose no expected alarm: a device event recorded on an alarm as corroboration counts
  // as its own condition reached (contract/alarms.ts reachedBy).
  const reached: Reached[] = changes.flatMap((c) => {
    const r = reachedBy(c);
    return r ? [{ device: c.alarm.device, condition: r.condition, level: r.level, at: c.change.at }] : [];
  });
  const instances = new Map<string, number>();
  for (const c of changes) if (c.change.action === 'raised') instances.set(`${c.alarm.device}/${c.alarm.condition}`, (instances.get(`${c.alarm.device}/${c.alarm.condition}`) ?? 0) + 1);
  await store.dispose();
  const alarms = changes.map((c) => c.alarm);
  return { reached, instances, alarms };
}

function compare(plan: ScenarioPlan, result: Awaited<ReturnType<typeof runScenario>>): string[] {
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
      const listed = plan.expected.some((e) => e.device === r.device && e.condition === r.condition && e.level === r.level);
      // De-escalating back through a listed level of the same alarm is part of the expected story.
      const passing = plan.expected.some((e) => e.device === r.device && e.condition === r.condition);
      if (!listed && !passing) problems.push(`unexpected: ${r.device} ${r.condition} level ${r.level} at ${new Date(r.at).toISOString()}`);
    }
  }
  return problems;
}

describe('scenarios through the rules engine', () => {
  it('ships scenarios with expected alarms', () => {
    expect(FILES.length).toBeGreaterThan(0);
  });

  for (const file of FILES) {
    it(`${file}: raises exactly the expected alarms, at the expected levels, in time`, async () => {
      const plan = planScenario(loadScenario(join(DIR, file)), T0);
      const result = await runScenario(plan);
      expect(compare(plan, result), JSON.stringify(result.reached.map((r) => `${r.device} ${r.condition} L${r.level} +${(r.at - plan.start) / 1000}s`))).toEqual([]);
      expect(plan.expected.length).toBeGreaterThan(0);
      // The Chinese console words every one of these alarms from its code and parameters: no English
      // word may remain once the metric's unit (%LEL, MPa, ...) is taken out.
      const catalog = { conditions: ALARM_CONDITIONS, deviceClasses: DEVICE_CLASSES };
      const english = result.alarms
        .map((a) => ({ a, zh: alarmDetail(a, catalog, 'zh') }))
        .filter(({ a, zh }) => /[A-Za-z]{2,}/.test(zh.replaceAll(a.metric ? (metricSpec(a.deviceClass as DeviceClass, a.metric)?.unit || '\0') : '\0', '')));
      expect(english.map(({ a, zh }) => `${a.condition}: ${zh}`)).toEqual([]);
    });
  }
});
