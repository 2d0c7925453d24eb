// A shipped scenario end to end over real MQTT: the simulators' fleet (one connection per device, QoS1,
// at 60× speed) publishes to the hazwatch test broker, `hazwatch rules` evaluates, and the alarms that
// arrive on the alarm topic are compared with the scenario's expected list (device, condition, level,
// within the time given, in simulated time; nothing unexpected for the scenario's enterprise).
import { join } from 'node:path';
import { reachedBy } from '../../contract/alarms.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { simulateConfig } from '../../simulators/config.ts';
import { startRun } from '../../simulators/run.ts';
import { alarmWatcher, closeAll, rulesConfig, startTestRules } from './support.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  await closeAll();
  await broker?.close();
});

describe('scenario over MQTT', () => {
  it('gas-leak.yaml at 60× speed: the expected alarms arrive on the alarm topic, in (simulated) time', async () => {
    await startTestRules(broker, rulesConfig(broker));
    const watch = await alarmWatcher(broker, 'scn');
    const run = await startRun({
      url: broker.url,
      settings: simulateConfig.parse({ scenario: join(import.meta.dirname, '..', '..', 'simulators', 'scenarios', 'gas-leak.yaml'), speed: 60 }),
      registry: broker.registry,
      progress: false,
    });
    const plan = run.plan!;
    await run.done;
    // What each change shows to have been reached: an alarm's own condition, or a device event recorded on
    // an alarm as corroboration (correlation must lose no expected alarm).
    const reached = () => watch.changes.flatMap((c) => { const r = reachedBy(c); return r ? [{ c, ...r }] : []; });
    await watch.waitFor(() => plan.expected.every((e) => reached().some((r) => r.c.alarm.device === e.device && r.condition === e.condition && r.level <= e.level)), 15_000).catch(() => undefined);
    // The fleet switching its devices off at the end is not part of the scenario (their last will says offline).
    const endOfRun = (c: (typeof watch.changes)[number]) => c.alarm.condition === 'HW_ALM_DEVICE_OFFLINE' && c.change.at >= plan.end - 5000;
    const mine = reached().filter(({ c }) => c.alarm.enterprise === plan.devices[0].enterprise && c.change.action !== 'deescalated' && !endOfRun(c));
    const problems: string[] = [];
    for (const e of plan.expected) {
      const hit = mine.find((r) => r.c.alarm.device === e.device && r.condition === e.condition && r.level <= e.level && r.c.change.at >= e.fault.at);
      if (!hit) problems.push(`missing: ${e.device} ${e.condition} level ${e.level}`);
      else if (hit.c.change.at > e.deadline) problems.push(`late: ${e.device} ${e.condition} level ${e.level} at +${(hit.c.change.at - e.fault.at) / 1000} s > ${e.withinSeconds} s`);
    }
    for (const r of mine) {
      if (!plan.expected.some((e) => e.device === r.c.alarm.device && e.condition === r.condition)) problems.push(`unexpected: ${r.c.alarm.device} ${r.condition} level ${r.level}`);
    }
    expect(problems, JSON.stringify(mine.map((r) => `${r.c.alarm.device} ${r.condition} L${r.level} +${(r.c.change.at - plan.start) / 1000}s`))).toEqual([]);
  });
});
