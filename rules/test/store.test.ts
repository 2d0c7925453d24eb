import { afterEach, describe, expect, it } from 'vitest';
import { AlarmEventPayload } from '../../contract/alarms.ts';
import { openAlarmStore } from '../store.ts';
import type { RaiseInput } from '../store-types.ts';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';

function input(over: Partial<RaiseInput> = {}): RaiseInput {
  return {
    enterprise: 'acme',
    device: 'gas-01',
    deviceClass: 'gas_combustible',
    site: 'north',
    hazardSource: null,
    condition: 'HW_ALM_GAS_LEL_HIGH',
    level: 2,
    metric: 'lel',
    value: 30,
    threshold: 25,
    message: 'lel 30 ≥ 25',
    at: 1000,
    ...over,
  };
}

describe.each(BACKENDS)('alarm store on $name', (backend) => {
  const made: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });
  const fresh = async () => {
    const d = await backend.fresh('alarms.db');
    made.push(d);
    return d;
  };
  const tmp = async () => (await fresh()).target;

  it("keeps the rule file's Chinese line through raise and level changes, and opens a store made before it had one", async () => {
    const db = await fresh();
    // A store as an earlier version made it: the alarms table without message_zh.
    await db.exec("create table alarms (id text primary key, enterprise text not null, device text not null, device_class text not null, site text not null default '', hazard_source text, condition text not null, level integer not null, peak_level integer not null, state text not null, active integer not null, acked integer not null default 0, oos integer not null default 0, maintenance_id text, shelved_until bigint, metric text, value text, threshold double precision, message text not null, raised_at bigint not null, updated_at bigint not null, acknowledged_at bigint, acknowledged_by text, cleared_at bigint, closed_at bigint, closed_by text, cause text)");
    const store = await openAlarmStore(db.target);
    const raised = (await store.raise(input({ messageZh: '可燃气体 30 %LEL' })))!;
    expect(AlarmEventPayload.parse(raised).alarm.messageZh).toBe('可燃气体 30 %LEL');
    const up = (await store.changeLevel(raised.alarm.id, { level: 1, value: 55, threshold: 50, message: 'lel 55', messageZh: '可燃气体 55 %LEL', at: 2000 }))!;
    expect(up.alarm.messageZh).toBe('可燃气体 55 %LEL');
    expect((await store.get(raised.alarm.id))?.messageZh).toBe('可燃气体 55 %LEL');
    const plain = (await store.raise(input({ device: 'gas-02' })))!;
    expect(plain.alarm.messageZh).toBeNull();
  });

  it('walks the closed loop: raise, escalate, de-escalate, acknowledge, feedback, clear, close; every step in the history', async () => {
    let t = 10_000;
    const store = await openAlarmStore(await tmp(), { now: () => t });
    const raised = (await store.raise(input()))!;
    expect(AlarmEventPayload.parse(raised)).toBeTruthy();
    expect(raised.alarm.state).toBe('active_unacknowledged');
    const id = raised.alarm.id;

    const up = (await store.changeLevel(id, { level: 1, value: 55, threshold: 50, message: 'lel 55', at: 2000 }))!;
    expect(up.change.action).toBe('escalated');
    expect(up.alarm).toMatchObject({ level: 1, peakLevel: 1, value: 55 });
    expect(await store.changeLevel(id, { level: 1, value: 56, threshold: 50, message: 'x', at: 2100 })).toBeUndefined();
    const down = (await store.changeLevel(id, { level: 2, value: 40, threshold: 25, message: 'lel 40', at: 3000 }))!;
    expect(down.change.action).toBe('deescalated');
    expect(down.alarm).toMatchObject({ level: 2, peakLevel: 1 });

    t = 20_000;
    const ack = await store.acknowledge(id, 'op.li', 'on my way');
    expect(ack.alarm).toMatchObject({ state: 'active_acknowledged', acknowledgedBy: 'op.li', acknowledgedAt: 20_000 });
    await expect(store.acknowledge(id, 'op.wang')).rejects.toMatchObject({ code: 'HW_ERR_ALARM_TRANSITION' });
    await expect(store.closeAlarm(id, 'op.li')).rejects.toMatchObject({ code: 'HW_ERR_ALARM_TRANSITION' });

    const fb = await store.feedback(id, 'op.li', { cause: 'instrument_fault', measures: 'recalibrated the detector' });
    expect(fb.alarm.cause).toBe('instrument_fault');
    expect(fb.change.data).toMatchObject({ cause: 'instrument_fault', measures: 'recalibrated the detector' });

    const cleared = (await store.clearAuto(id, 3, 25_000))!;
    expect(cleared.alarm).toMatchObject({ state: 'cleared_acknowledged', clearedAt: 25_000 });
    expect(await store.clearAuto(id, 3, 26_000)).toBeUndefined();

    const closed = await store.closeAlarm(id, 'op.li', 'done');
    expect(closed.alarm).toMatchObject({ state: 'closed', closedBy: 'op.li' });
    await expect(store.acknowledge(id, 'x')).rejects.toMatchObject({ code: 'HW_ERR_ALARM_TRANSITION' });
    await expect(store.feedback(id, 'x', { cause: 'false_alarm', measures: 'x' })).rejects.toMatchObject({ code: 'HW_ERR_ALARM_TRANSITION' });
    await expect(store.acknowledge('nope', 'x')).rejects.toMatchObject({ code: 'HW_ERR_NOT_FOUND' });

    const history = await store.history(id);
    expect(history.map((h) => h.action)).toEqual(['raised', 'escalated', 'deescalated', 'acknowledged', 'feedback', 'cleared', 'closed']);
    expect(history.map((h) => h.by)).toEqual(['system', 'system', 'system', 'op.li', 'op.li', 'system', 'op.li']);
    // seq is global and strictly increasing: the outbox order.
    const seqs = history.map((h) => h.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect((await store.tailHistory(seqs[2])).map((p) => p.change.seq)).toEqual(seqs.slice(3));
    await store.dispose();
  });

  it('keeps one active instance per device and condition; a clear then a new breach is a new instance', async () => {
    const store = await openAlarmStore(await tmp());
    const a = (await store.raise(input()))!;
    // Same device+condition while active: the same instance (escalated), never a duplicate.
    const again = (await store.raise(input({ level: 1 })))!;
    expect(again.alarm.id).toBe(a.alarm.id);
    expect(again.change.action).toBe('escalated');
    expect(await store.raise(input({ level: 1 }))).toBeUndefined();
    expect(await store.activeInstances()).toHaveLength(1);
    await store.clearAuto(a.alarm.id, 1, 5000);
    const b = (await store.raise(input({ at: 6000 })))!;
    expect(b.alarm.id).not.toBe(a.alarm.id);
    expect(b.change.action).toBe('raised');
    expect(await store.count({ enterprise: 'acme' })).toBe(2);
    expect(await store.list({ states: ['cleared_unacknowledged'] })).toHaveLength(1);
    expect(await store.list({ levels: [2], conditions: ['HW_ALM_GAS_LEL_HIGH'] })).toHaveLength(1);
    await store.dispose();
  });

  it('searches by device class and by free text on the device id (wildcards literal), and reads the histories of many alarms', async () => {
    const store = await openAlarmStore(await tmp());
    const a = (await store.raise(input({ device: 'Gas-01' })))!;
    const b = (await store.raise(input({ device: 'tank_1', deviceClass: 'vessel', condition: 'HW_ALM_LEVEL_HIGH', metric: 'level', at: 2000 })))!;
    await store.raise(input({ device: 'tankx1', deviceClass: 'vessel', condition: 'HW_ALM_LEVEL_HIGH', metric: 'level', at: 3000 }));
    expect((await store.list({ deviceClasses: ['vessel'] })).map((x) => x.device).sort()).toEqual(['tank_1', 'tankx1']);
    expect(await store.count({ deviceClasses: ['vessel', 'gas_combustible'] })).toBe(3);
    expect((await store.list({ deviceText: 'GAS' })).map((x) => x.device)).toEqual(['Gas-01']);
    // `_` is a character, not LIKE's wildcard.
    expect((await store.list({ deviceText: 'k_1' })).map((x) => x.device)).toEqual(['tank_1']);
    expect(await store.count({ deviceText: '%' })).toBe(0);
    await store.acknowledge(a.alarm.id, 'op');
    const histories = await store.historyOf([a.alarm.id, b.alarm.id]);
    expect(histories.filter((e) => e.alarmId === a.alarm.id).map((e) => e.action)).toEqual(['raised', 'acknowledged']);
    expect(histories.filter((e) => e.alarmId === b.alarm.id).map((e) => e.action)).toEqual(['raised']);
    expect(await store.historyOf([])).toEqual([]);
    await store.dispose();
  });

  it('manual clear needs a reason and only applies to an active alarm', async () => {
    const store = await openAlarmStore(await tmp());
    const a = (await store.raise(input()))!;
    await expect(store.clear(a.alarm.id, 'op', ' ')).rejects.toMatchObject({ code: 'HW_ERR_VALIDATION' });
    const c = await store.clear(a.alarm.id, 'op', 'sensor replaced');
    expect(c.change).toMatchObject({ action: 'cleared_manually', by: 'op', note: 'sensor replaced' });
    expect(c.alarm.state).toBe('cleared_unacknowledged');
    await expect(store.clear(a.alarm.id, 'op', 'again')).rejects.toMatchObject({ code: 'HW_ERR_ALARM_TRANSITION' });
    const closed = await store.closeAlarm(a.alarm.id, 'op');
    expect(closed.alarm.state).toBe('closed');
    await store.dispose();
  });

  it('shelves with an expiry and unshelves by itself when it expires', async () => {
    let t = 100_000;
    const store = await openAlarmStore(await tmp(), { now: () => t, maxShelveMs: 3_600_000 });
    const a = (await store.raise(input()))!;
    await expect(store.shelve(a.alarm.id, 'op', t - 1, 'x')).rejects.toMatchObject({ code: 'HW_ERR_VALIDATION' });
    await expect(store.shelve(a.alarm.id, 'op', t + 7_200_000, 'x')).rejects.toMatchObject({ code: 'HW_ERR_VALIDATION' });
    const s = await store.shelve(a.alarm.id, 'op', t + 60_000, 'known drift, work order 17');
    expect(s.alarm).toMatchObject({ state: 'shelved', shelvedUntil: t + 60_000 });
    // Escalation while shelved changes the level but the alarm stays shelved.
    const up = (await store.changeLevel(a.alarm.id, { level: 1, value: 60, threshold: 50, message: 'x', at: t }))!;
    expect(up.alarm.state).toBe('shelved');
    expect(await store.expire(t + 59_000)).toHaveLength(0);
    t += 60_000;
    const expired = await store.expire(t);
    expect(expired).toHaveLength(1);
    expect(expired[0].change).toMatchObject({ action: 'unshelved', by: 'system', note: 'shelving expired' });
    expect(expired[0].alarm.state).toBe('active_unacknowledged');
    // Manual unshelve of an alarm that is not shelved is refused.
    await expect(store.unshelve(a.alarm.id, 'op')).rejects.toMatchObject({ code: 'HW_ERR_ALARM_TRANSITION' });
    await store.shelve(a.alarm.id, 'op', t + 1000, 'again');
    expect((await store.unshelve(a.alarm.id, 'op')).alarm.state).toBe('active_unacknowledged');
    await store.dispose();
  });

  it('maintenance takes active alarms out of service and gives them back when it ends, by itself or by hand', async () => {
    let t = 1_000_000;
    const store = await openAlarmStore(await tmp(), { now: () => t });
    const a = (await store.raise(input()))!;
    const other = (await store.raise(input({ condition: 'HW_ALM_DEVICE_OFFLINE', level: 4 })))!;
    const w = await store.setMaintenance({ enterprise: 'acme', device: 'gas-01', condition: 'HW_ALM_GAS_LEL_HIGH', by: 'tech.zhao', reason: 'calibration', until: t + 3_600_000 });
    expect((await store.get(a.alarm.id))!.state).toBe('out_of_service');
    expect((await store.get(other.alarm.id))!.state).toBe('active_unacknowledged');
    expect(await store.maintenance({ activeAt: t + 1 })).toHaveLength(1);
    expect(await store.activeInstances()).toHaveLength(1);
    t += 3_600_000;
    const back = await store.expire(t);
    expect(back.map((p) => p.change.action)).toEqual(['returned_to_service']);
    expect((await store.get(a.alarm.id))!.state).toBe('cleared_unacknowledged');
    expect(await store.maintenance({ activeAt: t })).toHaveLength(0);
    expect((await store.maintenance({ enterprise: 'acme' }))[0]).toMatchObject({ id: w.id, endedBy: 'system' });

    const w2 = await store.setMaintenance({ enterprise: 'acme', device: 'gas-01', by: 'tech.zhao', reason: 'replace', until: t + 60_000 });
    expect((await store.get(other.alarm.id))!.state).toBe('out_of_service');
    const ended = await store.endMaintenance(w2.id, 'tech.zhao');
    expect(ended).toMatchObject({ endedBy: 'tech.zhao' });
    await expect(store.endMaintenance(w2.id, 'x')).rejects.toMatchObject({ code: 'HW_ERR_ALARM_TRANSITION' });
    await expect(store.endMaintenance('nope', 'x')).rejects.toMatchObject({ code: 'HW_ERR_NOT_FOUND' });
    expect((await store.history(other.alarm.id)).map((h) => h.action)).toEqual(['raised', 'out_of_service', 'returned_to_service']);
    await store.dispose();
  });

  it('a window planned ahead changes nothing until it starts, then takes the alarms out of service; one cancelled before never does', async () => {
    let t = 1_000_000;
    const store = await openAlarmStore(await tmp(), { now: () => t });
    const a = (await store.raise(input()))!;
    const w = await store.setMaintenance({ enterprise: 'acme', device: 'gas-01', by: 'tech.zhao', reason: 'tank cleaning', from: t + 600_000, until: t + 3_600_000 });
    expect(w).toMatchObject({ from: t + 600_000, endedAt: null });
    expect((await store.get(a.alarm.id))!.state).toBe('active_unacknowledged');
    expect(await store.maintenance({ activeAt: t })).toHaveLength(0);
    expect(await store.maintenance({ currentAt: t })).toHaveLength(1);
    expect(await store.expire(t + 1000)).toEqual([]);
    t += 600_000;
    const started = await store.expire(t);
    expect(started.map((p) => [p.alarm.id, p.change.action, p.change.by])).toEqual([[a.alarm.id, 'out_of_service', 'system']]);
    expect(await store.maintenance({ activeAt: t })).toHaveLength(1);
    // Started once: the next tick does not start it again.
    expect(await store.expire(t + 1000)).toEqual([]);
    t += 3_000_000;
    expect((await store.expire(t)).map((p) => p.change.action)).toEqual(['returned_to_service']);

    const b = (await store.raise(input({ condition: 'HW_ALM_DEVICE_OFFLINE', level: 4 })))!;
    const planned = await store.setMaintenance({ enterprise: 'acme', device: 'gas-01', by: 'tech.zhao', reason: 'later', from: t + 60_000, until: t + 120_000 });
    await store.endMaintenance(planned.id, 'tech.zhao');
    expect(await store.expire(t + 90_000)).toEqual([]);
    expect((await store.get(b.alarm.id))!.state).toBe('active_unacknowledged');
    await expect(store.setMaintenance({ enterprise: 'acme', device: 'gas-01', by: 'x', reason: 'y', from: t + 10_000, until: t + 5_000 })).rejects.toMatchObject({ code: 'HW_ERR_VALIDATION' });
    await store.dispose();
  });

  it('keeps the history append-only, even for someone with direct access to the database', async () => {
    const db = await fresh();
    const store = await openAlarmStore(db.target);
    await store.raise(input());
    await expect(db.exec("update history set by = 'mallory'")).rejects.toThrow(/append-only/);
    await expect(db.exec('delete from history')).rejects.toThrow(/append-only/);
    await store.dispose();
  });

  it('lets two processes share the store: an action in one is seen and tailed by the other', async () => {
    const path = await tmp();
    const rules = await openAlarmStore(path);
    const api = await openAlarmStore(path);
    const a = (await rules.raise(input()))!;
    const cursor = await rules.lastSeq();
    await api.acknowledge(a.alarm.id, 'op');
    const tail = await rules.tailHistory(cursor);
    expect(tail.map((p) => p.change.action)).toEqual(['acknowledged']);
    expect(tail[0].alarm.state).toBe('active_acknowledged');
    await rules.enqueueNotifications('notify', 5, []);
    expect(await api.cursor('notify')).toBe(5);
    await rules.dispose();
    await api.dispose();
  });
  it('two operators acting on one alarm at the same instant from two processes: one wins, the other is told why, nothing lost', async () => {
    const target = await tmp();
    const [a, b] = [await openAlarmStore(target), await openAlarmStore(target)];
    const alarm = (await a.raise(input()))!.alarm;
    // Both acknowledge at once: exactly one transition, and the loser gets the reason.
    const acks = await Promise.allSettled([a.acknowledge(alarm.id, 'op.li'), b.acknowledge(alarm.id, 'op.wang')]);
    expect(acks.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = acks.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(refused.reason).toMatchObject({ code: 'HW_ERR_ALARM_TRANSITION' });
    // Different actions at once both land: neither overwrites the other's columns.
    await Promise.all([
      a.feedback(alarm.id, 'op.li', { cause: 'instrument_fault', measures: 'recalibrated' }),
      b.shelve(alarm.id, 'op.wang', Date.now() + 60_000, 'drift, work order 9'),
    ]);
    const both = (await b.get(alarm.id))!;
    expect(both).toMatchObject({ cause: 'instrument_fault', state: 'shelved' });
    await a.clearAuto(alarm.id, 3, Date.now());
    const closes = await Promise.allSettled([a.closeAlarm(alarm.id, 'op.li'), b.closeAlarm(alarm.id, 'op.wang')]);
    expect(closes.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const history = await a.history(alarm.id);
    expect(history.map((h) => h.action).filter((x) => x === 'acknowledged' || x === 'closed')).toEqual(['acknowledged', 'closed']);
    expect(history.map((h) => h.action).sort()).toEqual(['acknowledged', 'cleared', 'closed', 'feedback', 'raised', 'shelved']);
    await a.dispose();
    await b.dispose();
  });

  it('under many concurrent writers the history is the outbox: seq order is commit order, each snapshot matches the row', async () => {
    const target = await tmp();
    const stores = [await openAlarmStore(target), await openAlarmStore(target), await openAlarmStore(target)];
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await stores[i % 3].raise(input({ device: `gas-${i}` })))!.alarm.id);
    // Every store tries every action on every alarm at once; the store must serialise them.
    const results = await Promise.allSettled(
      stores.flatMap((s, k) => ids.flatMap((id) => [s.acknowledge(id, `op${k}`), s.feedback(id, `op${k}`, { cause: 'process_swing', measures: `m${k}` })])),
    );
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.code === 'HW_ERR_ALARM_TRANSITION')).toBe(true);
    const tail = await stores[0].tailHistory(0, 1000);
    const seqs = tail.map((p) => p.change.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
    for (const id of ids) {
      const changes = tail.filter((p) => p.alarm.id === id);
      expect(changes.filter((p) => p.change.action === 'acknowledged')).toHaveLength(1);
      expect(changes.filter((p) => p.change.action === 'feedback')).toHaveLength(3);
      // The last snapshot in the outbox is the alarm as stored: no update was lost between them.
      expect(changes.at(-1)!.alarm).toEqual(await stores[1].get(id));
    }
    await Promise.all(stores.map((s) => s.dispose()));
  });
});
