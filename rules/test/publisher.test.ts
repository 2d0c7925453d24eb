// Several rules processes on one alarm store: each evaluates its partition of enterprises, one of them
// (elected, core/leader.ts) publishes every change exactly once, and a standby takes the role over when
// the publisher goes. Real broker over TCP, a real SQLite file or a real PostgreSQL database.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { openAlarmStore } from '../store.ts';
import { alarmWatcher, cleanup, closeAll, device, rulesConfig, sleep, startTestRules } from './support.ts';

let broker: TestBroker;

beforeAll(async () => {
  broker = await startTestBroker();
});

afterEach(closeAll);

afterAll(async () => {
  await broker?.close();
});

describe.each(BACKENDS)('rules processes sharing a store on $name', (backend) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await backend.fresh('alarms.db');
  });
  afterAll(async () => {
    await db?.drop();
  });

  const start = (enterprises: string[]) => {
    const store = backend.name === 'PostgreSQL' ? { database: { url: db.target } } : {};
    const rules = { enterprises, electionMs: 200, writeInflux: false, ...(backend.name === 'SQLite' ? { storePath: db.target } : {}) };
    return startTestRules(broker, rulesConfig(broker, rules, store));
  };

  it('publishes each alarm change once from the elected process; a standby takes over and a restarted one stands by', async () => {
    const tag = backend.name === 'SQLite' ? 's' : 'p';
    const [e1, e2] = [`${tag}pub-e1`, `${tag}pub-e2`];
    const a = await start([e1]);
    const b = await start([e2]);
    await waitFor(() => a.publishing() !== b.publishing(), 5000, 20);
    const [leader, standby] = a.publishing() ? [a, b] : [b, a];
    const standbyEnterprise = standby === a ? e1 : e2;
    const leaderEnterprise = standby === a ? e2 : e1;

    const watch = await alarmWatcher(broker, `w-${tag}`);
    const gas1 = await device(broker, { enterprise: e1, id: `${tag}-gas-1`, class: 'gas_combustible' });
    const gas2 = await device(broker, { enterprise: e2, id: `${tag}-gas-2`, class: 'gas_combustible' });
    let ts = Date.now() - 100_000;
    const leak = async (gas: typeof gas1) => {
      for (const lel of [4, 30, 31]) await gas.send('telemetry', { ts: (ts += 1000), values: { lel } });
    };
    await leak(gas1);
    await leak(gas2);
    await watch.waitFor(() => watch.of(`${tag}-gas-1`).length >= 1 && watch.of(`${tag}-gas-2`).length >= 1);
    await leader.settle();
    await standby.settle();
    await sleep(300);
    // Raised by the process of each partition, published by the one publisher: once each, not twice.
    for (const id of [`${tag}-gas-1`, `${tag}-gas-2`]) {
      const raw = watch.changes.filter((c) => c.alarm.device === id);
      expect(raw.map((c) => c.change.action)).toEqual(['raised']);
    }

    // The publisher goes: the standby takes the role and publishes what happens next, from both
    // its own evaluation and an operator's acknowledgement.
    await leader.close();
    await waitFor(() => standby.publishing(), 5000, 20);
    const alarms = await openAlarmStore(db.target);
    cleanup.push(() => alarms.dispose());
    const first = watch.changes.find((c) => c.alarm.device === `${tag}-gas-${leaderEnterprise === e1 ? 1 : 2}`)!;
    await alarms.acknowledge(first.alarm.id, 'op.li');
    const own = standbyEnterprise === e1 ? gas1 : gas2;
    for (const lel of [56, 57]) await own.send('telemetry', { ts: (ts += 1000), values: { lel } });
    await watch.waitFor(() => watch.changes.some((c) => c.alarm.id === first.alarm.id && c.change.action === 'acknowledged'));
    expect(watch.of(first.alarm.device).map((c) => c.change.action)).toEqual(['raised', 'acknowledged']);
    const ownId = standbyEnterprise === e1 ? `${tag}-gas-1` : `${tag}-gas-2`;
    await watch.waitFor(() => watch.of(ownId).some((c) => c.change.action === 'escalated'));

    // Started again, the first process stands by and evaluates its partition; the changes it makes are
    // published by the current publisher.
    const again = await start([leaderEnterprise]);
    await sleep(600);
    expect(again.publishing()).toBe(false);
    expect(standby.publishing()).toBe(true);
    const other = leaderEnterprise === e1 ? gas1 : gas2;
    for (const lel of [57, 58]) await other.send('telemetry', { ts: (ts += 1000), values: { lel } });
    await watch.waitFor(() => watch.of(first.alarm.device).some((c) => c.change.action === 'escalated'));
    await again.settle();
    await standby.settle();
    await sleep(300);
    const raw = watch.changes.filter((c) => c.alarm.id === first.alarm.id);
    expect(raw.map((c) => c.change.action)).toEqual(['raised', 'acknowledged', 'escalated']);
  });
});
