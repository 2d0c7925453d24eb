// The hidden-danger store behaves the same on SQLite and PostgreSQL: the closed loop and its refusals,
// evidence kept as bytes, an append-only history, filters, and the overdue escalation recorded once
// per tier even when two stores (two API nodes) run it at the same instant.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import { dangersConfig } from '../config.ts';
import { dangerOpenWork } from '../open-work.ts';
import { openDangerStore, type NewDanger } from '../store.ts';

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 2, 1, 0, 0);
const escalation = dangersConfig.parse({}).escalation;
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

const input = (over: Partial<NewDanger> = {}): NewDanger => ({
  enterprise: 'acme',
  hazardSource: 'tankfarm',
  device: 'gas-1',
  alarmId: null,
  origin: 'inspection',
  title: '储罐区可燃气体探测器被遮挡',
  description: '现场检查发现',
  grade: 'general',
  responsible: { name: '张工', phone: '13800000000' },
  deadline: T0 + 24 * HOUR,
  ...over,
});

describe.each(BACKENDS)('hidden-danger store on $name', (backend) => {
  const made: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });
  const fresh = async () => {
    const d = await backend.fresh('dangers.db');
    made.push(d);
    return d;
  };

  it('runs the closed loop: evidence, rectified, recheck failed and passed by another account, closed', async () => {
    const clock = { t: T0 };
    const db = await fresh();
    const store = await openDangerStore(db.target, { escalation, now: () => clock.t });
    const { danger } = await store.create(input(), 'acme-user');
    expect(danger).toMatchObject({ state: 'open', enterprise: 'acme', grade: 'general', escalatedTier: 0, nextEscalationAt: T0 + 24 * HOUR, overdue: false, evidenceCount: 0, createdBy: 'acme-user' });
    expect(danger.id).toMatch(/^hd-20260301-[0-9a-f]{8}$/);

    // Not without evidence; not rechecked before it is rectified; not closed before the recheck.
    await expect(store.rectify(danger.id, 'acme-user')).rejects.toMatchObject({ code: 'HW_ERR_DANGER_NO_EVIDENCE' });
    await expect(store.recheck(danger.id, 'sup', { passed: true })).rejects.toMatchObject({ code: 'HW_ERR_DANGER_TRANSITION' });
    await expect(store.closeDanger(danger.id, 'sup')).rejects.toMatchObject({ code: 'HW_ERR_DANGER_TRANSITION' });

    clock.t += HOUR;
    const { evidence } = await store.addEvidence(danger.id, { name: 'after.png', contentType: 'image/png', bytes: PNG, sha256: 'abc' }, 'acme-user');
    expect(evidence).toMatchObject({ dangerId: danger.id, name: 'after.png', contentType: 'image/png', size: PNG.length, sha256: 'abc', by: 'acme-user', at: T0 + HOUR });
    const file = await store.evidenceFile(danger.id, evidence.id);
    expect(Buffer.compare(file!.bytes, PNG)).toBe(0);
    expect(await store.evidenceFile('other', evidence.id)).toBeUndefined();

    const rectified = await store.rectify(danger.id, 'acme-user', '已清理');
    expect(rectified.danger).toMatchObject({ state: 'rectified', rectifiedBy: 'acme-user', rectifiedAt: T0 + HOUR, nextEscalationAt: null, evidenceCount: 1 });
    await expect(store.recheck(danger.id, 'acme-user', { passed: true })).rejects.toMatchObject({ code: 'HW_ERR_DANGER_SAME_ACCOUNT' });
    await expect(store.recheck(danger.id, 'sup', { passed: false })).rejects.toMatchObject({ code: 'HW_ERR_VALIDATION', detail: { field: 'body.deadline' } });

    // Failed: open again with a new deadline; the old evidence does not count for the next round.
    const failed = await store.recheck(danger.id, 'sup', { passed: false, note: '仍有遮挡', deadline: T0 + 48 * HOUR });
    expect(failed.danger).toMatchObject({ state: 'open', deadline: T0 + 48 * HOUR, rectifiedBy: null, escalatedTier: 0, nextEscalationAt: T0 + 48 * HOUR });
    expect(failed.change).toMatchObject({ action: 'recheck_failed', by: 'sup', state: 'open', note: '仍有遮挡', data: { deadline: T0 + 48 * HOUR, previousDeadline: T0 + 24 * HOUR } });
    await expect(store.rectify(danger.id, 'acme-user')).rejects.toMatchObject({ code: 'HW_ERR_DANGER_NO_EVIDENCE' });
    await store.addEvidence(danger.id, { name: 'report.pdf', contentType: 'application/pdf', bytes: Buffer.from('%PDF-1.4\n'), sha256: 'def' }, 'acme-user');
    await store.rectify(danger.id, 'acme-user');
    const passed = await store.recheck(danger.id, 'sup', { passed: true, note: '复查合格' });
    expect(passed.danger.state).toBe('rechecked');
    await expect(store.addEvidence(danger.id, { name: 'late.png', contentType: 'image/png', bytes: PNG, sha256: 'x' }, 'acme-user')).rejects.toMatchObject({ code: 'HW_ERR_DANGER_TRANSITION' });
    const closed = await store.closeDanger(danger.id, 'sup2', '销号');
    expect(closed.danger).toMatchObject({ state: 'closed', closedBy: 'sup2' });

    const history = await store.history(danger.id);
    expect(history.map((e) => [e.action, e.by, e.state])).toEqual([
      ['opened', 'acme-user', 'open'],
      ['evidence_added', 'acme-user', 'open'],
      ['rectified', 'acme-user', 'rectified'],
      ['recheck_failed', 'sup', 'open'],
      ['evidence_added', 'acme-user', 'open'],
      ['rectified', 'acme-user', 'rectified'],
      ['recheck_passed', 'sup', 'rechecked'],
      ['closed', 'sup2', 'closed'],
    ]);
    expect((await store.evidence(danger.id)).map((e) => e.name)).toEqual(['after.png', 'report.pdf']);
    // The history and the evidence are a record: the database itself refuses to change them.
    await expect(db.exec("delete from danger_history")).rejects.toThrow(/append-only/);
    await expect(db.exec("update danger_evidence set name = 'x'")).rejects.toThrow(/append-only/);
    await store.close();
  });

  it('lists by enterprise, state, grade, overdue and time; changes a deadline; escalates each tier once across two nodes', async () => {
    const clock = { t: T0 };
    const db = await fresh();
    const a = await openDangerStore(db.target, { escalation, now: () => clock.t });
    const b = await openDangerStore(db.target, { escalation, now: () => clock.t });
    const general = (await a.create(input({ deadline: T0 + HOUR }), 'op')).danger;
    clock.t += 1000;
    const major = (await a.create(input({ grade: 'major', deadline: T0 + 2 * HOUR, enterprise: 'bravo' }), 'op')).danger;
    clock.t += 1000;
    const later = (await a.create(input({ deadline: T0 + 100 * HOUR }), 'op')).danger;
    expect(await a.count()).toBe(3);
    expect((await a.list({ enterprise: 'bravo' })).map((d) => d.id)).toEqual([major.id]);
    expect((await a.list({ grade: 'general' })).map((d) => d.id)).toEqual([later.id, general.id]);
    expect((await a.list({ from: T0 + 500, to: T0 + 1500 })).map((d) => d.id)).toEqual([major.id]);
    expect((await a.list({ limit: 1, offset: 1 })).map((d) => d.id)).toEqual([major.id]);

    // Nothing due before the deadline.
    expect(await a.escalateOverdue(T0 + HOUR - 1)).toEqual([]);
    clock.t = T0 + 3 * HOUR;
    expect((await a.list({ overdue: true })).map((d) => d.id).sort()).toEqual([general.id, major.id].sort());
    expect(await a.count({ overdue: false })).toBe(1);

    // Two nodes at the same instant: tier 1 of each once.
    const [x, y] = await Promise.all([a.escalateOverdue(clock.t), b.escalateOverdue(clock.t)]);
    const all = [...x, ...y];
    expect(all.map((e) => `${e.danger.id}:${e.tier}`).sort()).toEqual([`${general.id}:1`, `${major.id}:1`].sort());
    expect(x.length === 0 || y.length === 0).toBe(true);
    expect((await a.get(major.id))!).toMatchObject({ escalatedTier: 1, nextEscalationAt: T0 + 2 * HOUR + 4 * HOUR });
    expect((await a.get(general.id))!).toMatchObject({ escalatedTier: 1, nextEscalationAt: T0 + HOUR + 24 * HOUR });

    // Tier 2: the major one 4 h after tier 1, the general one 24 h after; never a tier 3.
    const t2 = await Promise.all([a.escalateOverdue(T0 + 6 * HOUR), b.escalateOverdue(T0 + 6 * HOUR)]);
    expect(t2.flat().map((e) => `${e.danger.id}:${e.tier}`)).toEqual([`${major.id}:2`]);
    expect((await a.escalateOverdue(T0 + 1000 * HOUR)).map((e) => `${e.danger.id}:${e.tier}`).sort()).toEqual([`${general.id}:2`, `${later.id}:1`, `${later.id}:2`].sort());
    expect(await a.escalateOverdue(T0 + 2000 * HOUR)).toEqual([]);
    const entries = (await a.history(major.id)).filter((e) => e.action === 'escalated');
    expect(entries.map((e) => [e.by, e.data?.tier])).toEqual([['system', 1], ['system', 2]]);

    // A new deadline starts the escalation over.
    await expect(a.changeDeadline(major.id, 'sup', T0, '延期')).rejects.toMatchObject({ code: 'HW_ERR_VALIDATION' });
    const moved = await a.changeDeadline(major.id, 'sup', clock.t + 10 * HOUR, '延期至明日');
    expect(moved.danger).toMatchObject({ deadline: clock.t + 10 * HOUR, escalatedTier: 0, overdue: false, nextEscalationAt: clock.t + 10 * HOUR });
    expect(moved.change).toMatchObject({ action: 'deadline_changed', note: '延期至明日' });

    // The duty handover's open work: overdue ones and those waiting for their recheck, in scope.
    await a.addEvidence(later.id, { name: 'p.png', contentType: 'image/png', bytes: PNG, sha256: 'x' }, 'acme-user');
    await a.rectify(later.id, 'acme-user');
    const work = dangerOpenWork(a);
    expect((await work({})).map((w) => [w.id, w.overdue, w.link])).toEqual([
      [general.id, true, `#/dangers/${general.id}`],
      [later.id, false, `#/dangers/${later.id}`],
    ]);
    expect((await work({ enterprise: 'bravo' })).map((w) => w.id)).toEqual([]);
    expect((await work({ enterprise: 'acme' }))[0]).toMatchObject({ kind: 'danger', title: '储罐区可燃气体探测器被遮挡', enterprise: 'acme', since: general.deadline });

    // A danger overdue for long reaches both tiers in one pass.
    clock.t = T0;
    const old = (await a.create(input({ grade: 'major', deadline: T0 + HOUR }), 'op')).danger;
    expect((await b.escalateOverdue(T0 + 50 * HOUR)).filter((e) => e.danger.id === old.id).map((e) => e.tier)).toEqual([1, 2]);
    await a.close();
    await b.close();
  });
});
