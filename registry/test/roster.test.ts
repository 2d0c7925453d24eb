// The duty roster behaves the same on SQLite and PostgreSQL: units and their parents, the duty
// directory, shifts that never overlap within a unit and are staffed by their own unit, who is on
// duty at a moment (shift boundaries, falling back to the parent unit), the escalation chain, repeating
// patterns in the unit's own time zone, and handovers that are signed by two accounts and then kept.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import { DEMO_ENTERPRISE, seedDemoRoster } from '../roster-demo.ts';
import { openRoster, PersonInput, patternShifts, UnitInput, WeekPattern, zonedTime, type RosterStore } from '../roster.ts';

const HOUR = 3_600_000;
// 2026-03-02 08:00 in Shanghai (UTC+8, no daylight saving).
const T0 = Date.UTC(2026, 2, 2, 0);

const unit = (over: Partial<UnitInput> & Pick<UnitInput, 'id' | 'kind'>) => UnitInput.parse({ name: over.id, ...over });
const person = (over: Partial<PersonInput> & Pick<PersonInput, 'id' | 'unit'>) => PersonInput.parse({ name: over.id, ...over });
const ids = (people: { id: string }[]) => people.map((p) => p.id);

/** A bureau above a park above an enterprise, each with two officers and a leader. */
async function plant(roster: RosterStore) {
  await roster.putUnit(unit({ id: 'bureau', kind: 'bureau' }));
  await roster.putUnit(unit({ id: 'park', kind: 'park', parent: 'bureau' }));
  await roster.putUnit(unit({ id: 'acme-unit', kind: 'enterprise', parent: 'park', enterprise: 'acme' }));
  for (const u of ['bureau', 'park', 'acme-unit']) {
    await roster.putPerson(person({ id: `${u}-o1`, unit: u, kinds: ['duty_officer'], phone: '13800000001' }));
    await roster.putPerson(person({ id: `${u}-o2`, unit: u, kinds: ['duty_officer'] }));
    await roster.putPerson(person({ id: `${u}-lead`, unit: u, kinds: ['leader', 'expert'], username: `${u}-boss` }));
  }
}

describe.each(BACKENDS)('duty roster on $name', (backend) => {
  const made: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });
  const fresh = async () => {
    const d = await backend.fresh('roster.db');
    made.push(d);
    return d;
  };

  it('keeps units and people, refuses a unit above itself, filters people by unit and kind', async () => {
    const target = (await fresh()).target;
    const roster = await openRoster(target, { now: () => T0 });
    await plant(roster);
    expect(await roster.unit('acme-unit')).toMatchObject({ parent: 'park', enterprise: 'acme', timeZone: 'Asia/Shanghai', createdAt: T0 });
    expect((await roster.unitFor('acme'))?.id).toBe('acme-unit');
    await expect(roster.putUnit(unit({ id: 'bureau', kind: 'bureau', parent: 'acme-unit' }))).rejects.toMatchObject({ code: 'HW_ERR_VALIDATION', detail: { field: 'parent' } });
    await expect(roster.putUnit(unit({ id: 'x', kind: 'park', parent: 'nowhere' }))).rejects.toMatchObject({ detail: { field: 'parent' } });
    await expect(roster.putUnit(unit({ id: 'x', kind: 'enterprise' }))).rejects.toMatchObject({ detail: { field: 'enterprise' } });
    await expect(roster.putUnit(unit({ id: 'acme-2', kind: 'enterprise', enterprise: 'acme' }))).rejects.toMatchObject({ code: 'HW_ERR_CONFLICT' });
    expect(ids(await roster.people({ unit: 'park' }))).toEqual(['park-lead', 'park-o1', 'park-o2']);
    expect(ids(await roster.people({ kinds: ['expert'] }))).toEqual(['acme-unit-lead', 'bureau-lead', 'park-lead']);
    expect((await roster.person('park-lead'))!.kinds).toEqual(['leader', 'expert']);
    await expect(roster.removeUnit('park')).rejects.toMatchObject({ code: 'HW_ERR_CONFLICT' });
    await roster.close();
    // Opening it again finds it as it was.
    const again = await openRoster(target);
    expect(await again.count()).toEqual({ units: 3, people: 9, shifts: 0 });
    await again.close();
  });

  it("refuses overlapping shifts of a unit and people of another unit; answers who is on duty at the boundaries, else the parent's", async () => {
    const roster = await openRoster((await fresh()).target, { now: () => T0 });
    await plant(roster);
    const day = await roster.addShift({ unit: 'acme-unit', startsAt: T0, endsAt: T0 + 12 * HOUR, officers: ['acme-unit-o1'], leader: 'acme-unit-lead', note: '' });
    const night = await roster.addShift({ unit: 'acme-unit', startsAt: T0 + 12 * HOUR, endsAt: T0 + 24 * HOUR, officers: ['acme-unit-o2'], leader: null, note: '' });
    await expect(roster.addShift({ unit: 'acme-unit', startsAt: T0 + 11 * HOUR, endsAt: T0 + 13 * HOUR, officers: ['acme-unit-o2'], leader: null, note: '' })).rejects.toMatchObject({
      code: 'HW_ERR_DUTY_OVERLAP',
      detail: { field: 'startsAt' },
      message: expect.stringContaining('2026-03-02 08:00 – 2026-03-02 20:00'),
    });
    // Another unit may have its shift at the same time, but not with acme's people.
    await expect(roster.addShift({ unit: 'park', startsAt: T0, endsAt: T0 + 24 * HOUR, officers: ['park-o1', 'acme-unit-o1'], leader: null, note: '' })).rejects.toMatchObject({
      code: 'HW_ERR_DUTY_PERSON',
      detail: { field: 'officers.1' },
    });
    await expect(roster.addShift({ unit: 'park', startsAt: T0, endsAt: T0 + 24 * HOUR, officers: [], leader: null, note: '' })).rejects.toMatchObject({ detail: { field: 'officers' } });
    await expect(roster.addShift({ unit: 'park', startsAt: T0, endsAt: T0, officers: ['park-o1'], leader: null, note: '' })).rejects.toMatchObject({ detail: { field: 'endsAt' } });
    const parkShift = await roster.addShift({ unit: 'park', startsAt: T0 - 24 * HOUR, endsAt: T0 + 48 * HOUR, officers: ['park-o1'], leader: 'park-lead', note: '' });
    // Moving a shift onto its neighbour is refused too; onto itself it is fine.
    await expect(roster.updateShift(night.id, { ...night, startsAt: T0 + 11 * HOUR })).rejects.toMatchObject({ code: 'HW_ERR_DUTY_OVERLAP' });
    expect(await roster.updateShift(night.id, { ...night, note: '夜班' })).toMatchObject({ id: night.id, note: '夜班' });

    // Half-open shifts: at 20:00 sharp the night shift answers, at 19:59:59.999 the day shift.
    expect(await roster.onDuty('acme-unit', T0)).toMatchObject({ asked: 'acme-unit', fallback: false, shift: { id: day.id }, officers: [{ id: 'acme-unit-o1', phone: '13800000001' }], leader: { id: 'acme-unit-lead' } });
    expect((await roster.onDuty('acme-unit', T0 + 12 * HOUR - 1)).shift?.id).toBe(day.id);
    expect(await roster.onDuty('acme-unit', T0 + 12 * HOUR)).toMatchObject({ shift: { id: night.id }, leader: null });
    // After the night shift nobody at acme is on duty: the park answers.
    const after = await roster.onDuty('acme-unit', T0 + 24 * HOUR);
    expect(after).toMatchObject({ asked: 'acme-unit', fallback: true, unit: { id: 'park' }, shift: { id: parkShift.id } });
    expect(ids(after.officers)).toEqual(['park-o1']);
    // And nobody anywhere: an empty answer for the unit asked.
    expect(await roster.onDuty('acme-unit', T0 + 100 * HOUR)).toMatchObject({ unit: { id: 'acme-unit' }, shift: null, officers: [], leader: null });
    await expect(roster.onDuty('nowhere', T0)).rejects.toMatchObject({ code: 'HW_ERR_NOT_FOUND' });

    // The chain: acme's officers, acme's leader, the park's officers, the park's leader (the bureau has nobody).
    const chain = await roster.dutyChain('acme-unit', T0 + HOUR);
    expect(chain.map((t) => [t.tier, t.unit.id, t.role, ids(t.people)])).toEqual([
      [0, 'acme-unit', 'officers', ['acme-unit-o1']],
      [1, 'acme-unit', 'leader', ['acme-unit-lead']],
      [2, 'park', 'officers', ['park-o1']],
      [3, 'park', 'leader', ['park-lead']],
    ]);
    // At night acme has no leader on call: the park's officers are the next tier.
    expect((await roster.dutyChain('acme-unit', T0 + 13 * HOUR)).map((t) => `${t.unit.id}:${t.role}`)).toEqual(['acme-unit:officers', 'park:officers', 'park:leader']);
    expect(await roster.dutyChain('acme-unit', T0 + HOUR, { levels: 1 })).toHaveLength(2);

    // Somebody on a shift still to come cannot be removed or moved to another unit.
    await expect(roster.removePerson('acme-unit-o2')).rejects.toMatchObject({ code: 'HW_ERR_CONFLICT' });
    await expect(roster.putPerson(person({ id: 'acme-unit-o2', unit: 'park' }))).rejects.toMatchObject({ code: 'HW_ERR_CONFLICT' });
    expect((await roster.shifts({ unit: 'acme-unit', from: T0 + 12 * HOUR })).map((s) => s.id)).toEqual([night.id]);
    expect(await roster.removeShift(night.id)).toBe(true);
    expect(await roster.removePerson('acme-unit-o2')).toBe(true);
    await roster.close();
  });

  it('makes a week of shifts from a pattern in the unit’s time zone, all or none', async () => {
    const roster = await openRoster((await fresh()).target, { now: () => T0 });
    await plant(roster);
    const pattern = WeekPattern.parse({
      unit: 'park',
      from: '2026-03-02',
      slots: [{ start: '08:00', end: '20:00' }, { start: '20:00', end: '08:00' }],
      crews: [{ officers: ['park-o1'], leader: 'park-lead' }, { officers: ['park-o2'], leader: 'park-lead' }],
    });
    const week = await roster.addPattern(pattern);
    expect(week).toHaveLength(14);
    // 08:00 Shanghai is 00:00 UTC; each shift ends where the next begins; crews take turns.
    expect(week[0]).toMatchObject({ startsAt: T0, endsAt: T0 + 12 * HOUR, officers: ['park-o1'] });
    expect(week[1]).toMatchObject({ startsAt: T0 + 12 * HOUR, endsAt: T0 + 24 * HOUR, officers: ['park-o2'] });
    expect(week[13].endsAt).toBe(T0 + 7 * 24 * HOUR);
    expect(week.every((s, i) => i === 0 || s.startsAt === week[i - 1].endsAt)).toBe(true);
    // The same week again overlaps: nothing of it is stored.
    await expect(roster.addPattern({ ...pattern, from: '2026-03-08' })).rejects.toMatchObject({ code: 'HW_ERR_DUTY_OVERLAP', detail: { field: 'from' } });
    expect(await roster.shifts({ unit: 'park' })).toHaveLength(14);
    // A crew with someone of another unit names the crew.
    await expect(roster.addPattern({ ...pattern, from: '2026-03-20', crews: [{ officers: ['park-o1'], leader: null }, { officers: ['park-o2', 'bureau-o1'], leader: null }] })).rejects.toMatchObject({
      code: 'HW_ERR_DUTY_PERSON',
      detail: { field: 'crews.1.officers.1' },
    });
    expect(await roster.shifts({ unit: 'park' })).toHaveLength(14);

    // A unit elsewhere: Berlin moves its clocks forward on 29 March 2026 at 02:00, so that night is 11 hours.
    await roster.putUnit(unit({ id: 'berlin', kind: 'department', timeZone: 'Europe/Berlin' }));
    await roster.putPerson(person({ id: 'b1', unit: 'berlin' }));
    const berlin = await roster.addPattern(WeekPattern.parse({ unit: 'berlin', from: '2026-03-28', days: 2, slots: [{ start: '08:00', end: '20:00' }, { start: '20:00', end: '08:00' }], crews: [{ officers: ['b1'] }] }));
    expect(berlin.map((s) => new Date(s.startsAt).toISOString())).toEqual(['2026-03-28T07:00:00.000Z', '2026-03-28T19:00:00.000Z', '2026-03-29T06:00:00.000Z', '2026-03-29T18:00:00.000Z']);
    expect((berlin[1].endsAt - berlin[1].startsAt) / HOUR).toBe(11);
    expect(zonedTime('2026-03-02', '08:00', 'Asia/Shanghai')).toBe(T0);
    expect(patternShifts({ ...pattern, days: 1 }, 'UTC').map((s) => s.startsAt)).toEqual([Date.UTC(2026, 2, 2, 8), Date.UTC(2026, 2, 2, 20)]);
    await roster.close();
  });

  it("seeds the demo's roster once: somebody on duty in every unit from now to a week ahead, the chain up to the bureau", async () => {
    const roster = await openRoster((await fresh()).target, { now: () => T0 });
    const at = T0 + 5 * HOUR + 17 * 60_000;
    expect(await seedDemoRoster(roster, { now: at })).toBeGreaterThan(40);
    expect(await seedDemoRoster(roster, { now: at })).toBe(0);
    const unit = (await roster.unitFor(DEMO_ENTERPRISE.id))!;
    for (let t = at; t < at + 7 * 24 * HOUR; t += 5 * HOUR) {
      expect((await roster.dutyChain(unit.id, t)).map((x) => `${x.unit.kind}:${x.role}`), new Date(t).toISOString()).toEqual([
        'enterprise:officers', 'enterprise:leader', 'park:officers', 'park:leader', 'bureau:officers', 'bureau:leader',
      ]);
    }
    await roster.close();
  });

  it('keeps a handover as both sides signed it: another account signs in, once, and nothing changes after', async () => {
    const d = await fresh();
    const roster = await openRoster(d.target, { now: () => T0 + HOUR });
    await plant(roster);
    const shift = await roster.addShift({ unit: 'park', startsAt: T0, endsAt: T0 + 12 * HOUR, officers: ['park-o1'], leader: 'park-lead', note: '' });
    const items = [{ kind: 'alarm' as const, id: 'a1', title: '可燃气体浓度超限 · gas-1', enterprise: 'acme', level: 2, since: T0, link: '#/device/acme/gas-1' }];
    const h = await roster.createHandover({ unit: 'park', items, by: { username: 'park-boss', name: '园区领导' }, note: '储罐区液位需关注' });
    expect(h).toMatchObject({ unit: 'park', shift: shift.id, items, incomplete: false, state: 'awaiting_incoming', incoming: null, outgoing: { username: 'park-boss', person: 'park-lead', at: T0 + HOUR, note: '储罐区液位需关注' } });
    expect(h.digest).toMatch(/^[0-9a-f]{64}$/);
    await expect(roster.signIn(h.id, { username: 'park-boss', name: '园区领导' })).rejects.toMatchObject({ code: 'HW_ERR_HANDOVER_SAME_ACCOUNT' });
    const signed = await roster.signIn(h.id, { username: 'op-2', name: '接班员', note: '已阅' });
    expect(signed).toMatchObject({ state: 'signed', incoming: { username: 'op-2', person: null, note: '已阅', at: T0 + HOUR }, digest: h.digest });
    await expect(roster.signIn(h.id, { username: 'op-3', name: '另一人' })).rejects.toMatchObject({ code: 'HW_ERR_HANDOVER_SIGNED' });
    expect(await roster.signIn(999, { username: 'op-2', name: 'x' })).toBeUndefined();
    expect((await roster.handovers({ unit: 'park' })).map((x) => x.id)).toEqual([h.id]);
    expect(await roster.handovers({ units: [] })).toEqual([]);
    // Past the store, straight on the engine: the record refuses to change or go.
    await roster.close();
    await expect(d.exec(`update duty_handovers set out_note = 'changed' where id = ${h.id}`)).rejects.toThrow(/append-only/);
    await expect(d.exec(`delete from duty_handover_signins where handover = ${h.id}`)).rejects.toThrow(/append-only/);
    const again = await openRoster(d.target);
    expect((await again.handover(h.id))!.outgoing.note).toBe('储罐区液位需关注');
    await expect(again.removeUnit('park')).rejects.toMatchObject({ code: 'HW_ERR_CONFLICT' });
    await again.close();
  });
});
