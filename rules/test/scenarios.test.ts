// Every shipped scenario (simulators/scenarios/*.yaml) through the real rules engine and alarm store on
// the simulated clock (cli/replay.ts): the simulators' device models produce the messages, the engine
// evaluates them with the default rules, and the alarms reached are compared with the scenario's
// expected list (device, condition, level, within the time given; at most `maxInstances`; nothing else
// when exhaustive), with correlation and without: one cause, one alarm must lose no expected alarm.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { alarmDetail } from '../../api/console/i18n.js';
import { ALARM_CONDITIONS } from '../../contract/alarms.ts';
import { DEVICE_CLASSES, metricSpec, type DeviceClass } from '../../contract/catalog.ts';
import { actionableCount, expectationProblems, replayScenario, REPLAY_START } from '../../cli/replay.ts';
import { loadScenario, planScenario } from '../../simulators/scenario.ts';

const DIR = join(import.meta.dirname, '..', '..', 'simulators', 'scenarios');
const FILES = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const plan = (file: string) => planScenario(loadScenario(join(DIR, file)), REPLAY_START);

describe('scenarios through the rules engine', () => {
  it('ships scenarios with expected alarms', () => {
    expect(FILES.length).toBeGreaterThan(0);
  });

  for (const file of FILES) {
    it(`${file}: raises exactly the expected alarms, at the expected levels, in time`, async () => {
      const p = plan(file);
      const result = await replayScenario(p);
      expect(expectationProblems(p, result), JSON.stringify(result.reached.map((r) => `${r.device} ${r.condition} L${r.level} +${(r.at - p.start) / 1000}s`))).toEqual([]);
      expect(p.expected.length).toBeGreaterThan(0);
      // The Chinese console words every one of these alarms from its code and parameters: no English
      // word may remain once the metric's unit (%LEL, MPa, ...) is taken out.
      const catalog = { conditions: ALARM_CONDITIONS, deviceClasses: DEVICE_CLASSES };
      const english = result.alarms
        .map((a) => ({ a, zh: alarmDetail(a, catalog, 'zh') }))
        .filter(({ a, zh }) => /[A-Za-z]{2,}/.test(zh.replaceAll(a.metric ? (metricSpec(a.deviceClass as DeviceClass, a.metric)?.unit || '\0') : '\0', '')));
      expect(english.map(({ a, zh }) => `${a.condition}: ${zh}`)).toEqual([]);
    });
  }

  it('demo.yaml, one cause, one alarm: the lel-102 leak is one alarm with the detector\'s stage on it, the interlock trip sits under the tank\'s HH alarm', async () => {
    const result = await replayScenario(plan('demo.yaml'));
    const lel102 = result.alarms.filter((a) => a.device === 'lel-102');
    expect(lel102.map((a) => a.condition)).toEqual(['HW_ALM_GAS_LEL_HIGH']);
    const corroborated = result.changes.filter((c) => c.alarm.id === lel102[0].id && c.change.action === 'corroborated');
    expect(corroborated.map((c) => c.change.data?.event)).toContain('alarm_stage1');
    const tank = result.alarms.filter((a) => a.device === 'tank-101');
    const hh = tank.find((a) => a.condition === 'HW_ALM_LEVEL_HIGH')!;
    expect(tank.find((a) => a.condition === 'HW_ALM_INTERLOCK_TRIP')?.parentId).toBe(hh.id);
  });

  it('every scenario: fewer alarms to act on with correlation, and no expected alarm lost either way', async () => {
    for (const file of FILES) {
      const c = await actionableCount(plan(file));
      expect(c.problems, file).toEqual({ correlated: [], uncorrelated: [] });
      expect(c.after, file).toBeLessThan(c.before);
      // Each alarm saved is a device event recorded as corroboration or a consequence under its cause.
      expect(c.before - c.after, file).toBeLessThanOrEqual(c.corroborations + c.grouped);
    }
  });
});
