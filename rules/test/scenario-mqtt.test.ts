// A shipped scenario end to end over real MQTT: the simulators' fleet (one connection per device, QoS1,
// at 60× speed) publishes to the hazwatch test broker, `hazwatch rules` evaluates, and the alarms that
// arrive on the alarm topic are compared with the scenario's expected list (device, condition, level,
// within the time given, in simulated time; nothing unexpected for the scenario's enterprise).
import { join } from 'node:path';
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
    await watch.waitFor(() => plan.expected.every((e) => watch.changes.some((c) => c.alarm.device === e.device && c.alarm.condition === e.condition && c.change.level <= e.level)), 15_000).catch(() => undefined);
    // The fleet switching its devices off at the end is not part of the scenario (their last will says offline).
    const endOfRun = (c: (typeof watch.changes)[number]) => c.alarm.condition === 'HW_ALM_DEVICE_OFFLINE' && c.change.at >= plan.end - 5000;
    const mine = watch.changes.filter((c) => c.alarm.enterprise === plan.devices[0].enterprise && ['raised', 'escalated'].includes(c.change.action) && !endOfRun(c));
    const problems: string[] = [];
    for (const e of plan.expected) {
      const hit = mine.find((c) => c.alarm.device === e.device && c.alarm.condition === e.condition && c.change.level <= e.level && c.change.at >= e.fault.at);
      if (!hit) problems.push(`missing: ${e.device} ${e.condition} level ${e.level}`);
      else if (hit.change.at > e.deadline) problems.push(`late: ${e.device} ${e.condition} level ${e.level} at +${(hit.change.at - e.fault.at) / 1000} s > ${e.withinSeconds} s`);
    }
    for (const c of mine) {
      if (!plan.expected.some((e) => e.device === c.alarm.device && e.condition === c.alarm.condition)) problems.push(`unexpected: ${c.alarm.device} ${c.alarm.condition} level ${c.change.level}`);
    }
    expect(problems, JSON.stringify(mine.map((c) => `${c.alarm.device} ${c.alarm.condition} L${c.change.level} +${(c.change.at - plan.start) / 1000}s`))).toEqual([]);
  });
});
