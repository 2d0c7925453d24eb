// The duty roster through the API (issue 16): who may keep which unit, the enterprise boundary, shifts
// refused for overlaps and for people of another unit, a week from a pattern, who is on duty now with
// the chain of whom to call, and the handover: open work collected in the unit's scope, signed out by
// one account and in by another, then kept as it is; every write audited.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

const HOUR = 3_600_000;
let h: Harness;
let admin: Record<string, string>;
let sup: Record<string, string>;
let op: Record<string, string>;
let acme: Record<string, string>;
let bravo: Record<string, string>;

const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) =>
  h.api.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
const ids = (list: { id: string | number }[]) => list.map((x) => x.id);

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [['sup', 'supervisor', null], ['op', 'operator', null], ['acme-user', 'enterprise', 'acme'], ['bravo-user', 'enterprise', 'bravo']] as const) {
    expect((await inject('POST', '/api/v1/accounts', admin, { username, password: `${username}-password-1`, role, enterprise, displayName: `${username} 姓名` })).statusCode).toBe(201);
  }
  sup = await login(h, 'sup', 'sup-password-1');
  op = await login(h, 'op', 'op-password-1');
  acme = await login(h, 'acme-user', 'acme-user-password-1');
  bravo = await login(h, 'bravo-user', 'bravo-user-password-1');
});

afterAll(async () => {
  await h?.close();
});

describe('units, people and shifts', () => {
  test('supervisors keep every unit, an enterprise user only its own; operators read', async () => {
    expect((await inject('POST', '/api/v1/duty/units', op, { id: 'park', name: '园区', kind: 'park' })).statusCode).toBe(403);
    expect((await inject('POST', '/api/v1/duty/units', sup, { id: 'park', name: '化工园区', kind: 'park' })).statusCode).toBe(201);
    expect((await inject('POST', '/api/v1/duty/units', sup, { id: 'park', name: '化工园区', kind: 'park' })).json()).toMatchObject({ code: 'HW_ERR_CONFLICT', field: 'body.id' });
    expect((await inject('POST', '/api/v1/duty/units', sup, { id: 'bravo-unit', name: 'Bravo', kind: 'enterprise', parent: 'park', enterprise: 'bravo' })).statusCode).toBe(201);
    // An enterprise user creates its own enterprise's unit, never another's nor a regulator's.
    expect((await inject('POST', '/api/v1/duty/units', acme, { id: 'x', name: 'x', kind: 'enterprise', enterprise: 'bravo' })).json()).toMatchObject({ code: 'HW_ERR_FORBIDDEN', field: 'body.enterprise' });
    expect((await inject('POST', '/api/v1/duty/units', acme, { id: 'x', name: 'x', kind: 'park' })).statusCode).toBe(403);
    const own = await inject('POST', '/api/v1/duty/units', acme, { id: 'acme-unit', name: 'Acme 中控室', kind: 'enterprise', parent: 'park', enterprise: 'acme' });
    expect(own.statusCode).toBe(201);
    expect(own.json()).toMatchObject({ id: 'acme-unit', timeZone: 'Asia/Shanghai', parent: 'park' });
    expect((await inject('POST', '/api/v1/duty/units', sup, { id: 'y', name: 'y', kind: 'park', parent: 'nowhere' })).json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.parent' });
    expect((await inject('POST', '/api/v1/duty/units', sup, { id: 'y', name: 'y', kind: 'park', timeZone: 'Mars/Olympus' })).json()).toMatchObject({ field: 'body.timeZone' });

    expect(ids((await inject('GET', '/api/v1/duty/units', op)).json())).toEqual(['acme-unit', 'bravo-unit', 'park']);
    expect(ids((await inject('GET', '/api/v1/duty/units', acme)).json())).toEqual(['acme-unit']);
    expect((await inject('GET', '/api/v1/duty/units?enterprise=bravo', acme)).statusCode).toBe(403);
    expect((await inject('GET', '/api/v1/duty/units/park', acme)).statusCode).toBe(404);
    expect((await inject('GET', '/api/v1/duty/units/bravo-unit', acme)).statusCode).toBe(404);
    expect((await inject('PUT', '/api/v1/duty/units/bravo-unit', acme, { name: 'mine now', kind: 'enterprise', enterprise: 'acme' })).statusCode).toBe(404);

    const people = [
      [sup, { id: 'park-zhao', unit: 'park', name: '赵磊', phone: '13800002001', kinds: ['duty_officer'], username: 'sup' }],
      [sup, { id: 'park-he', unit: 'park', name: '何建军', title: '副主任', phone: '13800002101', email: 'he@park.example.org', kinds: ['leader'] }],
      [acme, { id: 'acme-liu', unit: 'acme-unit', name: '刘洋', phone: '13800003001', kinds: ['duty_officer'], username: 'acme-user' }],
      [acme, { id: 'acme-guo', unit: 'acme-unit', name: '郭敏', phone: '13800003101', kinds: ['leader', 'safety_officer'] }],
      [sup, { id: 'bravo-ma', unit: 'bravo-unit', name: '马超', phone: '13800004001', kinds: ['duty_officer'] }],
    ] as const;
    for (const [who, p] of people) expect((await inject('POST', '/api/v1/duty/people', who, p)).statusCode, p.id).toBe(201);
    expect((await inject('POST', '/api/v1/duty/people', acme, { id: 'spy', unit: 'bravo-unit', name: 'x' })).statusCode).toBe(404);
    expect((await inject('POST', '/api/v1/duty/people', op, { id: 'o', unit: 'park', name: 'x' })).statusCode).toBe(403);
    expect((await inject('POST', '/api/v1/duty/people', sup, { id: 'bad', unit: 'park', name: 'x', email: 'not-mail', kinds: ['boss'] })).json()).toMatchObject({ code: 'HW_ERR_VALIDATION' });
    expect(ids((await inject('GET', '/api/v1/duty/people', acme)).json())).toEqual(['acme-guo', 'acme-liu']);
    expect(ids((await inject('GET', '/api/v1/duty/people?kind=leader', op)).json())).toEqual(['acme-guo', 'park-he']);
    expect((await inject('GET', '/api/v1/duty/people/bravo-ma', acme)).statusCode).toBe(404);
    expect((await inject('PUT', '/api/v1/duty/people/acme-guo', acme, { unit: 'acme-unit', name: '郭敏', phone: '13800003102', kinds: ['leader'] })).json()).toMatchObject({ phone: '13800003102' });
  });

  test('shifts never overlap within a unit and are staffed by its own people; a week comes from a pattern', async () => {
    const t = h.clock.t;
    const shift = (over: Record<string, unknown>) => ({ unit: 'acme-unit', startsAt: t - HOUR, endsAt: t + 11 * HOUR, officers: ['acme-liu'], leader: 'acme-guo', ...over });
    const first = await inject('POST', '/api/v1/duty/shifts', acme, shift({}));
    expect(first.statusCode).toBe(201);
    const overlap = await inject('POST', '/api/v1/duty/shifts', acme, shift({ startsAt: t + 10 * HOUR, endsAt: t + 20 * HOUR }));
    expect(overlap.statusCode).toBe(409);
    expect(overlap.json()).toMatchObject({ code: 'HW_ERR_DUTY_OVERLAP', field: 'body.startsAt' });
    const foreign = await inject('POST', '/api/v1/duty/shifts', sup, shift({ unit: 'bravo-unit', officers: ['bravo-ma', 'acme-liu'], leader: null }));
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json()).toMatchObject({ code: 'HW_ERR_DUTY_PERSON', field: 'body.officers.1' });
    expect((await inject('POST', '/api/v1/duty/shifts', acme, shift({ unit: 'bravo-unit', officers: ['bravo-ma'], leader: null }))).statusCode).toBe(404);
    expect((await inject('POST', '/api/v1/duty/shifts', op, shift({ startsAt: t + 30 * HOUR, endsAt: t + 31 * HOUR }))).statusCode).toBe(403);
    // The park's day: now, then a week of 12-hour shifts from tomorrow, by pattern.
    expect((await inject('POST', '/api/v1/duty/shifts', sup, { unit: 'park', startsAt: t - 2 * HOUR, endsAt: t + 10 * HOUR, officers: ['park-zhao'], leader: 'park-he' })).statusCode).toBe(201);
    const day = new Date(t + 3 * 86_400_000).toISOString().slice(0, 10);
    const week = await inject('POST', '/api/v1/duty/shifts/week', sup, { unit: 'park', from: day, slots: [{ start: '08:00', end: '20:00' }, { start: '20:00', end: '08:00' }], crews: [{ officers: ['park-zhao'], leader: 'park-he' }] });
    expect(week.statusCode).toBe(201);
    expect(week.json()).toHaveLength(14);
    expect(week.json()[0].startsAt).toBe(Date.parse(`${day}T00:00:00Z`));
    expect((await inject('POST', '/api/v1/duty/shifts/week', sup, { unit: 'park', from: day, slots: [{ start: '08:00', end: '20:00' }], crews: [{ officers: ['park-zhao'] }] })).json()).toMatchObject({ code: 'HW_ERR_DUTY_OVERLAP', field: 'body.from' });
    expect((await inject('GET', `/api/v1/duty/shifts?unit=park&from=${t}&to=${t + 30 * 86_400_000}`, op)).json()).toHaveLength(15);
    // An enterprise user lists only its unit's shifts, and cannot touch another's.
    expect((await inject('GET', '/api/v1/duty/shifts', acme)).json().map((s: { unit: string }) => s.unit)).toEqual(['acme-unit']);
    const parkShift = (await inject('GET', '/api/v1/duty/shifts?unit=park', sup)).json()[0];
    expect((await inject('GET', `/api/v1/duty/shifts/${parkShift.id}`, acme)).statusCode).toBe(404);
    expect((await inject('DELETE', `/api/v1/duty/shifts/${parkShift.id}`, acme)).statusCode).toBe(404);
    const moved = await inject('PUT', `/api/v1/duty/shifts/${first.json().id}`, acme, shift({ note: '交接班前巡检' }));
    expect(moved.json()).toMatchObject({ id: first.json().id, note: '交接班前巡检' });
    const audit = (await inject('GET', '/api/v1/audit?action=duty.shift.create&limit=50', admin)).json();
    expect(audit.some((e: { target: string; status: number; enterprise: string }) => e.target === String(first.json().id) && e.status === 201 && e.enterprise === 'acme')).toBe(true);
  });

  test('who is on duty now: the unit’s people, the chain upward, and a parent answering for a unit with nobody', async () => {
    const now = (await inject('GET', '/api/v1/duty/now?unit=acme-unit', op)).json();
    expect(now.units).toHaveLength(1);
    const acmeNow = now.units[0];
    expect(acmeNow).toMatchObject({ asked: 'acme-unit', fallback: false, officers: [{ id: 'acme-liu', phone: '13800003001' }], leader: { id: 'acme-guo' } });
    expect(acmeNow.chain.map((t: { unit: { id: string }; role: string }) => `${t.unit.id}:${t.role}`)).toEqual(['acme-unit:officers', 'acme-unit:leader', 'park:officers', 'park:leader']);
    // Bravo has no shift: the park answers.
    const bravoNow = (await inject('GET', '/api/v1/duty/now?unit=bravo-unit', sup)).json().units[0];
    expect(bravoNow).toMatchObject({ asked: 'bravo-unit', fallback: true, unit: { id: 'park' }, officers: [{ id: 'park-zhao' }] });
    // An enterprise user sees its own unit's people, never the regulator's.
    const own = (await inject('GET', '/api/v1/duty/now', acme)).json().units;
    expect(own.map((u: { asked: string }) => u.asked)).toEqual(['acme-unit']);
    expect(own[0].chain.map((t: { unit: { id: string } }) => t.unit.id)).toEqual(['acme-unit', 'acme-unit']);
    const bravoOwn = (await inject('GET', '/api/v1/duty/now', bravo)).json().units[0];
    expect(bravoOwn).toMatchObject({ asked: 'bravo-unit', fallback: false, shift: null, officers: [], leader: null, chain: [] });
    // At a moment in the week to come.
    const later = (await inject('GET', `/api/v1/duty/now?unit=park&at=${h.clock.t + 4 * 86_400_000}`, op)).json().units[0];
    expect(later).toMatchObject({ unit: { id: 'park' }, officers: [{ id: 'park-zhao' }] });
  });
});

describe('the handover', () => {
  test('lists the open work of the unit’s scope, is signed out by one account and in by another, then kept', async () => {
    const acmeAlarm = await raiseAlarm(h, 'acme', 'gas-1', 2);
    const bravoAlarm = await raiseAlarm(h, 'bravo', 'gas-9', 1);
    const acmeWork = (await inject('GET', '/api/v1/duty/open-work?unit=acme-unit', acme)).json();
    expect(acmeWork.items.filter((i: { kind: string }) => i.kind === 'alarm')).toEqual([
      { kind: 'alarm', id: acmeAlarm.id, title: '可燃气体浓度超限 · gas-1', enterprise: 'acme', level: 2, since: acmeAlarm.raisedAt, overdue: true, link: '#/device/acme/gas-1' },
    ]);
    expect(acmeWork.incomplete).toBe(false);
    // A regulator unit hands over everything: the worst first.
    const parkWork = (await inject('GET', '/api/v1/duty/open-work?unit=park', op)).json();
    expect(parkWork.items.filter((i: { kind: string }) => i.kind === 'alarm').map((i: { id: string }) => i.id)).toEqual([bravoAlarm.id, acmeAlarm.id]);
    expect((await inject('GET', '/api/v1/duty/open-work?unit=park', acme)).statusCode).toBe(404);

    const out = await inject('POST', '/api/v1/duty/handovers', sup, { unit: 'park', note: '2号罐区液位持续关注' });
    expect(out.statusCode).toBe(201);
    const handover = out.json();
    expect(handover).toMatchObject({ unit: 'park', state: 'awaiting_incoming', incoming: null, outgoing: { username: 'sup', name: 'sup 姓名', person: 'park-zhao', note: '2号罐区液位持续关注' } });
    expect(handover.items.map((i: { id: string }) => i.id)).toEqual(expect.arrayContaining([bravoAlarm.id, acmeAlarm.id]));
    expect(handover.shift).toEqual(expect.any(Number));

    // Closing the alarm later does not change what was handed over.
    await h.alarms.clearAuto(acmeAlarm.id, null, h.clock.t);
    const same = await inject('POST', `/api/v1/duty/handovers/${handover.id}/sign-in`, sup, { note: '' });
    expect(same.statusCode).toBe(403);
    expect(same.json()).toMatchObject({ code: 'HW_ERR_HANDOVER_SAME_ACCOUNT' });
    expect((await inject('POST', `/api/v1/duty/handovers/${handover.id}/sign-in`, acme, {})).statusCode).toBe(404);
    const signed = await inject('POST', `/api/v1/duty/handovers/${handover.id}/sign-in`, op, { note: '已接班' });
    expect(signed.statusCode).toBe(200);
    expect(signed.json()).toMatchObject({ state: 'signed', incoming: { username: 'op', name: 'op 姓名', note: '已接班' }, digest: handover.digest, items: handover.items });
    const again = await inject('POST', `/api/v1/duty/handovers/${handover.id}/sign-in`, admin, {});
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'HW_ERR_HANDOVER_SIGNED' });
    expect((await inject('PUT', `/api/v1/duty/handovers/${handover.id}`, admin, { note: 'x' })).statusCode).toBe(404);
    expect((await inject('DELETE', `/api/v1/duty/handovers/${handover.id}`, admin)).statusCode).toBe(404);

    // The enterprise's own handover: its scope only; the record hidden from another enterprise.
    const own = (await inject('POST', '/api/v1/duty/handovers', acme, { unit: 'acme-unit' })).json();
    expect(own.items.every((i: { enterprise: string }) => i.enterprise === 'acme')).toBe(true);
    expect(own.outgoing).toMatchObject({ username: 'acme-user', person: 'acme-liu' });
    expect((await inject('GET', `/api/v1/duty/handovers/${own.id}`, bravo)).statusCode).toBe(404);
    expect(ids((await inject('GET', '/api/v1/duty/handovers', acme)).json())).toEqual([own.id]);
    expect(ids((await inject('GET', '/api/v1/duty/handovers', op)).json())).toEqual([own.id, handover.id]);
    expect((await inject('GET', `/api/v1/duty/handovers/${handover.id}`, op)).json()).toMatchObject({ state: 'signed' });

    const audit = (await inject('GET', '/api/v1/audit?limit=200', admin)).json();
    const entries = audit.filter((e: { target: string; action: string }) => e.target === String(handover.id) && e.action.startsWith('duty.handover'));
    expect(entries.map((e: { action: string; username: string; status: number }) => [e.action, e.username, e.status]).sort()).toEqual([
      ['duty.handover.sign_in', 'acme-user', 404],
      ['duty.handover.sign_in', 'admin', 409],
      ['duty.handover.sign_in', 'op', 200],
      ['duty.handover.sign_in', 'sup', 403],
      ['duty.handover.sign_out', 'sup', 201],
    ]);
  });

  test('is described in the OpenAPI document', async () => {
    const doc = (await inject('GET', '/docs/json')).json();
    for (const path of ['/api/v1/duty/units', '/api/v1/duty/people', '/api/v1/duty/shifts', '/api/v1/duty/shifts/week', '/api/v1/duty/now', '/api/v1/duty/open-work', '/api/v1/duty/handovers', '/api/v1/duty/handovers/{id}/sign-in']) {
      expect(doc.paths[path], path).toBeDefined();
    }
  });
});
