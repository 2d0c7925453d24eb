// The operator API through fastify inject, on real stores: sign-in and sessions, validation, the
// permission table, audit, and the full closed loop of an alarm.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { seedPlant, raiseAlarm } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

let h: Harness;
let admin: Record<string, string>;

const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) =>
  h.api.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [
    ['op', 'operator', null],
    ['sup', 'supervisor', null],
    ['acme-user', 'enterprise', 'acme'],
  ] as const) {
    const res = await inject('POST', '/api/v1/accounts', admin, { username, password: `${username}-password-1`, role, enterprise });
    expect(res.statusCode, res.body).toBe(201);
  }
});

afterAll(async () => {
  await h?.close();
});

describe('authentication', () => {
  test('every API route but sign-in needs a session', async () => {
    for (const url of ['/api/v1/alarms', '/api/v1/devices', '/api/v1/overview', '/api/v1/audit', '/api/v1/stream', '/api/v1/session']) {
      const res = await inject('GET', url);
      expect(res.statusCode, url).toBe(401);
      expect(res.json().code).toBe('HW_ERR_UNAUTHENTICATED');
    }
  });

  test('who is asking is known before the body is checked: a bad body from nobody is 401, from an account 400 and audited', async () => {
    const bad = { name: '', lat: 95 };
    expect((await inject('PUT', '/api/v1/resources/x-bad', {}, bad)).statusCode).toBe(401);
    const res = await inject('PUT', '/api/v1/resources/x-bad', admin, bad);
    expect(res.statusCode).toBe(400);
    const log = (await inject('GET', '/api/v1/audit?action=resource.update&limit=10', admin)).json();
    expect(log.find((e: { path: string }) => e.path === '/api/v1/resources/x-bad')).toMatchObject({ username: ADMIN.username, status: 400 });
  });

  test('a wrong password is refused and audited; a right one gives a cookie and a bearer token', async () => {
    const bad = await inject('POST', '/api/v1/session', {}, { username: 'op', password: 'nope' });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().code).toBe('HW_ERR_UNAUTHENTICATED');
    const unknown = await inject('POST', '/api/v1/session', {}, { username: 'ghost', password: 'nope' });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().message).toBe(bad.json().message);

    const ok = await inject('POST', '/api/v1/session', {}, { username: 'op', password: 'op-password-1' });
    expect(ok.statusCode).toBe(200);
    const cookie = ok.cookies.find((c) => c.name === 'hw_session')!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Strict');
    const { token, user } = ok.json();
    expect(user).toMatchObject({ username: 'op', role: 'operator', enterprise: null });
    expect((await inject('GET', '/api/v1/session', { cookie: `hw_session=${cookie.value}` })).json().user.username).toBe('op');
    expect((await inject('GET', '/api/v1/session', { authorization: `Bearer ${token}` })).statusCode).toBe(200);

    const log = (await inject('GET', '/api/v1/audit?action=session.login&limit=10', admin)).json();
    expect(log.some((e: { username: string; status: number }) => e.username === 'op' && e.status === 401)).toBe(true);
    expect(log.some((e: { username: string; status: number }) => e.username === 'op' && e.status === 200)).toBe(true);
    // Passwords never reach the audit log.
    expect(JSON.stringify(log)).not.toContain('op-password-1');
  });

  test('sign-out ends the session', async () => {
    const headers = await login(h, 'op', 'op-password-1');
    expect((await inject('DELETE', '/api/v1/session', headers)).statusCode).toBe(200);
    expect((await inject('GET', '/api/v1/alarms', headers)).statusCode).toBe(401);
  });

  test('a session expires after its idle lifetime; using it extends it', async () => {
    // Own API: the clock jumps by days here.
    const own = await startHarness();
    try {
      const again = await login(own, ADMIN.username, ADMIN.password);
      const get = () => own.api.app.inject({ method: 'GET', url: '/api/v1/alarms', headers: again });
      const ttl = 12 * 60 * 60_000; // api.sessionTtlMinutes default
      own.clock.t += ttl - 60_000;
      expect((await get()).statusCode).toBe(200);
      own.clock.t += ttl - 60_000;
      expect((await get()).statusCode).toBe(200);
      own.clock.t += ttl + 1;
      const expired = await get();
      expect(expired.statusCode).toBe(401);
      expect(expired.json().code).toBe('HW_ERR_UNAUTHENTICATED');
    } finally {
      await own.close();
    }
  });

  test('a disabled account cannot sign in and loses its sessions', async () => {
    await inject('POST', '/api/v1/accounts', admin, { username: 'temp', password: 'temp-password-1', role: 'operator' });
    const headers = await login(h, 'temp', 'temp-password-1');
    expect((await inject('PATCH', '/api/v1/accounts/temp', admin, { disabled: true })).statusCode).toBe(200);
    expect((await inject('GET', '/api/v1/alarms', headers)).statusCode).toBe(401);
    expect((await inject('POST', '/api/v1/session', {}, { username: 'temp', password: 'temp-password-1' })).statusCode).toBe(401);
  });

  test('changing one\'s password needs the current one', async () => {
    await inject('POST', '/api/v1/accounts', admin, { username: 'pw', password: 'pw-password-1', role: 'operator' });
    const headers = await login(h, 'pw', 'pw-password-1');
    const wrong = await inject('POST', '/api/v1/session/password', headers, { currentPassword: 'nope', newPassword: 'pw-password-2' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().field).toBe('body.currentPassword');
    expect((await inject('POST', '/api/v1/session/password', headers, { currentPassword: 'pw-password-1', newPassword: 'pw-password-2' })).statusCode).toBe(200);
    await login(h, 'pw', 'pw-password-2');
  });

  test('roles: operators cannot manage accounts, provision devices, set thresholds or shelve', async () => {
    const op = await login(h, 'op', 'op-password-1');
    const alarm = await raiseAlarm(h, 'acme', 'tank-1', 3, 'HW_ALM_LEVEL_HIGH');
    const attempts = [
      inject('GET', '/api/v1/accounts', op),
      inject('POST', '/api/v1/accounts', op, { username: 'x', password: 'x-password-1', role: 'administrator' }),
      inject('POST', '/api/v1/enterprises/acme/devices', op, { id: 'new-1', class: 'oxygen' }),
      inject('PUT', '/api/v1/enterprises/acme/devices/tank-1/thresholds', op, { limits: { level: { H: 5 } } }),
      inject('POST', `/api/v1/alarms/${alarm.id}/shelve`, op, { minutes: 10, reason: 'noisy' }),
      inject('POST', '/api/v1/enterprises', op, { id: 'new-ent', name: 'New' }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json().code).toBe('HW_ERR_FORBIDDEN');
    }
    expect(h.registry.device('acme', 'tank-1')!.meta.limits).toEqual({ level: { HH: 9, H: 8, L: 1, LL: 0.5 } });
  });
});

describe('validation', () => {
  test('a bad body names the field and the reason', async () => {
    const res = await inject('POST', '/api/v1/enterprises/acme/devices', admin, { id: 'bad id!', class: 'toaster' });
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body.code).toBe('HW_ERR_VALIDATION');
    const fields = body.issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['body.id', 'body.class']));
    expect(body.message).toMatch(/body\.class/);
  });

  test('unknown fields are refused, not silently dropped', async () => {
    const res = await inject('POST', '/api/v1/enterprises/acme/hazard-sources', admin, { id: 's9', name: 'S9', grade: 2, x: 10, y: 10, colour: 'red' });
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/colour/);
  });

  test('query parameters are checked', async () => {
    const res = await inject('GET', '/api/v1/alarms?level=7&from=yesterday', admin);
    expect(res.statusCode).toBe(400);
    const fields = res.json().issues.map((i: { field: string }) => i.field);
    expect(fields).toEqual(expect.arrayContaining(['querystring.level.0', 'querystring.from']));
  });

  test('thresholds must be ordered and within the physical range of the metric', async () => {
    const sup = await login(h, 'sup', 'sup-password-1');
    const url = '/api/v1/enterprises/acme/devices/tank-1/thresholds';
    const unordered = await inject('PUT', url, sup, { limits: { level: { HH: 7, H: 8 } } });
    expect(unordered.statusCode).toBe(400);
    expect(unordered.json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.limits.level.HH' });
    const range = await inject('PUT', url, sup, { limits: { level: { H: 80 } } });
    expect(range.json().field).toBe('body.limits.level.H');
    const metric = await inject('PUT', url, sup, { limits: { lel: { H: 20 } } });
    expect(metric.json().field).toBe('body.limits.lel');
    const ok = await inject('PUT', url, sup, { limits: { level: { HH: 9.5, H: 8.5, L: 1, LL: 0.5 }, temperature: { H: 60 } } });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(h.registry.device('acme', 'tank-1')!.meta.limits).toEqual({ level: { HH: 9.5, H: 8.5, L: 1, LL: 0.5 }, temperature: { H: 60 } });
    const audit = (await inject('GET', '/api/v1/audit?action=device.thresholds', admin)).json();
    expect(audit[0]).toMatchObject({ username: 'sup', enterprise: 'acme', target: 'acme/tank-1', status: 200 });
  });

  test('malformed JSON is a 400 with a code', async () => {
    const res = await h.api.app.inject({ method: 'POST', url: '/api/v1/maintenance', headers: { ...admin, 'content-type': 'application/json' }, payload: '{"enterprise":' });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('HW_ERR_VALIDATION');
  });
});

describe('devices', () => {
  test('provisioning returns credentials once; revocation reaches the registry', async () => {
    const acme = await login(h, 'acme-user', 'acme-user-password-1');
    const res = await inject('POST', '/api/v1/enterprises/acme/devices', acme, { id: 'o2-1', class: 'oxygen', name: 'Pit O2', hazardSource: 'tankfarm' });
    expect(res.statusCode, res.body).toBe(201);
    const creds = res.json();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(creds).toMatchObject({ username: 'acme/o2-1', clientId: 'acme/o2-1' });
    expect(await h.registry.verify('acme/o2-1', creds.password)).toBe('ok');
    // Never again: reading the device shows no secret.
    const read = await inject('GET', '/api/v1/enterprises/acme/devices/o2-1', acme);
    expect(read.body).not.toContain(creds.password);
    const dup = await inject('POST', '/api/v1/enterprises/acme/devices', acme, { id: 'o2-1', class: 'oxygen' });
    expect(dup.statusCode).toBe(409);
    const unknownSource = await inject('POST', '/api/v1/enterprises/acme/devices', acme, { id: 'o2-2', class: 'oxygen', hazardSource: 'nope' });
    expect(unknownSource.json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.hazardSource' });

    const revoked = await inject('POST', '/api/v1/enterprises/acme/devices/o2-1/revoke', acme);
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).not.toBeNull();
    expect(await h.registry.verify('acme/o2-1', creds.password)).toBe('revoked');
  });

  test('rotation issues a new password and the old one stops working', async () => {
    const res = await inject('POST', '/api/v1/enterprises/acme/devices', admin, { id: 'rot-1', class: 'smoke_alarm' });
    const first = res.json().password;
    const rotated = await inject('POST', '/api/v1/enterprises/acme/devices/rot-1/rotate', admin);
    expect(rotated.statusCode).toBe(200);
    expect(await h.registry.verify('acme/rot-1', first)).toBe('bad');
    expect(await h.registry.verify('acme/rot-1', rotated.json().password)).toBe('ok');
  });
});

describe('hazard sources and thresholds', () => {
  test('a device follows the grade of its hazard source (the rules engine raises grade-1 alarms a level)', async () => {
    const res = await inject('POST', '/api/v1/enterprises/acme/devices', admin, { id: 'lel-7', class: 'gas_combustible', hazardSource: 'reactor' });
    expect(res.json().device.meta.hazardSourceGrade).toBe(3);
    const patched = await inject('PATCH', '/api/v1/enterprises/acme/hazard-sources/reactor', admin, { grade: 1 });
    expect(patched.json()).toMatchObject({ grade: 1, riskColour: 'red' });
    expect(h.registry.device('acme', 'lel-7')!.meta.hazardSourceGrade).toBe(1);
    const moved = await inject('PATCH', '/api/v1/enterprises/acme/devices/lel-7', admin, { hazardSource: null });
    expect(moved.json().meta.hazardSourceGrade).toBeUndefined();
  });

  test('the thresholds view shows the rules in force with the device\'s limits resolved', async () => {
    const gas = (await inject('GET', '/api/v1/enterprises/acme/devices/gas-1/thresholds', admin)).json();
    const lel = gas.rules.find((r: { metric: string }) => r.metric === 'lel');
    expect(lel.stages).toEqual(expect.arrayContaining([expect.objectContaining({ level: 2, raise: 25 }), expect.objectContaining({ level: 1, raise: 50 })]));
    const vessel = (await inject('GET', '/api/v1/enterprises/acme/devices/reactor-1/thresholds', admin)).json();
    const high = vessel.rules.find((r: { condition: string }) => r.condition === 'HW_ALM_LEVEL_HIGH');
    expect(high.stages.every((st: { raise: number | null }) => st.raise === null)).toBe(true); // no limits set
    await inject('PUT', '/api/v1/enterprises/acme/devices/reactor-1/thresholds', admin, { limits: { level: { HH: 6, H: 5 } } });
    const after = (await inject('GET', '/api/v1/enterprises/acme/devices/reactor-1/thresholds', admin)).json();
    const stages = after.rules.find((r: { condition: string }) => r.condition === 'HW_ALM_LEVEL_HIGH').stages.map((st: { raise: number }) => st.raise).sort();
    expect(stages).toEqual([5, 6]);
  });
});

describe('live stream over HTTP', () => {
  test('a client reconnecting with Last-Event-ID gets every change it missed, in order', async () => {
    const a = await raiseAlarm(h, 'acme', 'tank-1', 2, 'HW_ALM_LEVEL_HIGH');
    const since = (await h.alarms.history(a.id)).at(-1)!.seq;
    await inject('POST', `/api/v1/alarms/${a.id}/acknowledge`, admin, {});
    await inject('POST', `/api/v1/alarms/${a.id}/feedback`, admin, { cause: 'false_alarm', measures: 'checked gauge' });
    await new Promise((r) => setTimeout(r, 700)); // the shared tail has broadcast them to nobody
    const res = await fetch(`${h.api.url}/api/v1/stream?values=false`, { headers: { ...admin, 'last-event-id': String(since) } });
    const reader = res.body!.getReader();
    let text = '';
    while (!text.includes('event: hello')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const ids = [...text.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(ids[0]).toBeGreaterThan(since);
    expect(text).toContain('"action":"acknowledged"');
    expect(text).toContain('"action":"feedback"');
  });
});

describe('sign-in rate limit', () => {
  test('too many attempts from one address get 429 with a code', async () => {
    const own = await startHarness({ api: { loginRateLimit: 3 } });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 4; i++) codes.push((await own.api.app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin', password: 'guess' } })).statusCode);
      expect(codes).toEqual([401, 401, 401, 429]);
      const res = await own.api.app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin', password: ADMIN.password } });
      expect(res.statusCode).toBe(429);
      expect(res.json().code).toBe('HW_ERR_TOO_MANY_REQUESTS');
    } finally {
      await own.close();
    }
  });
});

describe('the alarm closed loop', () => {
  test('raise → acknowledge → feedback → shelve → unshelve → clear → close, with history and audit', async () => {
    const op = await login(h, 'op', 'op-password-1');
    const sup = await login(h, 'sup', 'sup-password-1');
    const alarm = await raiseAlarm(h, 'acme', 'gas-1', 2);

    const list = (await inject('GET', '/api/v1/alarms?state=active_unacknowledged&level=2&enterprise=acme', op)).json();
    expect(list.alarms.map((a: { id: string }) => a.id)).toContain(alarm.id);

    // Close is refused while the condition is active.
    const early = await inject('POST', `/api/v1/alarms/${alarm.id}/close`, op, {});
    expect(early.statusCode).toBe(409);
    expect(early.json().code).toBe('HW_ERR_ALARM_TRANSITION');

    const ack = await inject('POST', `/api/v1/alarms/${alarm.id}/acknowledge`, op, { note: 'on my way' });
    expect(ack.statusCode, ack.body).toBe(200);
    expect(ack.json().alarm).toMatchObject({ state: 'active_acknowledged', acknowledgedBy: 'op' });
    const twice = await inject('POST', `/api/v1/alarms/${alarm.id}/acknowledge`, op, {});
    expect(twice.json().code).toBe('HW_ERR_ALARM_TRANSITION');

    const fbBad = await inject('POST', `/api/v1/alarms/${alarm.id}/feedback`, op, { cause: 'aliens', measures: '' });
    expect(fbBad.statusCode).toBe(400);
    expect(fbBad.json().issues.map((i: { field: string }) => i.field)).toEqual(expect.arrayContaining(['body.cause', 'body.measures']));
    const fb = await inject('POST', `/api/v1/alarms/${alarm.id}/feedback`, op, { cause: 'process_swing', measures: 'closed valve V-12' });
    expect(fb.json().alarm.cause).toBe('process_swing');

    const shelve = await inject('POST', `/api/v1/alarms/${alarm.id}/shelve`, sup, { minutes: 30, reason: 'sensor being replaced' });
    expect(shelve.statusCode, shelve.body).toBe(200);
    expect(shelve.json().alarm.shelvedUntil).toBe(h.clock.t + 30 * 60_000);
    expect((await inject('POST', `/api/v1/alarms/${alarm.id}/unshelve`, sup, {})).statusCode).toBe(200);

    expect((await inject('POST', `/api/v1/alarms/${alarm.id}/clear`, sup, { reason: '' })).json().field).toBe('body.reason');
    const cleared = await inject('POST', `/api/v1/alarms/${alarm.id}/clear`, sup, { reason: 'verified on site: gas dispersed' });
    expect(cleared.statusCode, cleared.body).toBe(200);
    const closed = await inject('POST', `/api/v1/alarms/${alarm.id}/close`, op, { note: 'done' });
    expect(closed.statusCode, closed.body).toBe(200);
    expect(closed.json().alarm).toMatchObject({ state: 'closed', closedBy: 'op' });

    const detail = (await inject('GET', `/api/v1/alarms/${alarm.id}`, op)).json();
    expect(detail.history.map((e: { action: string }) => e.action)).toEqual(['raised', 'acknowledged', 'feedback', 'shelved', 'unshelved', 'cleared_manually', 'closed']);
    expect(detail.history.find((e: { action: string }) => e.action === 'feedback').data).toMatchObject({ cause: 'process_swing', measures: 'closed valve V-12' });

    const audit = (await inject('GET', '/api/v1/audit?limit=50', admin)).json();
    const mine = audit.filter((e: { target: string | null }) => e.target === alarm.id).map((e: { action: string; username: string; status: number }) => `${e.action}:${e.username}:${e.status}`);
    expect(mine).toEqual(
      expect.arrayContaining(['alarm.acknowledge:op:200', 'alarm.feedback:op:200', 'alarm.shelve:sup:200', 'alarm.clear:sup:200', 'alarm.close:op:200', 'alarm.close:op:409']),
    );

    const missing = await inject('POST', '/api/v1/alarms/no-such-alarm/acknowledge', op, {});
    expect(missing.statusCode).toBe(404);
  });

  test('the overview colours a source by its worst open alarm and counts per level', async () => {
    const before = (await inject('GET', '/api/v1/overview', admin)).json();
    const alarm = await raiseAlarm(h, 'bravo', 'gas-9', 1);
    const after = (await inject('GET', '/api/v1/overview', admin)).json();
    expect(after.counts[1]).toBe(before.counts[1] + 1);
    expect(after.sources.find((s: { id: string }) => s.id === 'lpg')).toMatchObject({ worstLevel: 1, grade: 2, riskColour: 'orange' });
    expect(after.enterprises.find((e: { id: string }) => e.id === 'bravo').worstLevel).toBe(1);
    await h.alarms.clearAuto(alarm.id, 0, h.clock.t);
    await inject('POST', `/api/v1/alarms/${alarm.id}/acknowledge`, admin, {});
    await inject('POST', `/api/v1/alarms/${alarm.id}/close`, admin, {});
    const closed = (await inject('GET', '/api/v1/overview', admin)).json();
    expect(closed.sources.find((s: { id: string }) => s.id === 'lpg').worstLevel).toBeNull();
  });

  test('alarms about the platform itself: the monitoring room sees and handles them, enterprises do not', async () => {
    const op = await login(h, 'op', 'op-password-1');
    const acme = await login(h, 'acme-user', 'acme-user-password-1');
    // As rules/platform.ts raises them: the reserved enterprise `platform`, a process as the device.
    const change = await h.alarms.raise({ enterprise: 'platform', device: 'ingest-a', deviceClass: 'platform', site: '', hazardSource: null, condition: 'HW_ALM_INGEST_BACKPRESSURE', level: 2, metric: 'spool_fill', value: 1, threshold: null, message: 'ingest a: spool full', at: h.clock.t });
    const id = change!.alarm.id;
    const seen = (await inject('GET', '/api/v1/alarms?enterprise=platform', op)).json();
    expect(seen.alarms.map((a: { id: string }) => a.id)).toContain(id);
    const overview = await inject('GET', '/api/v1/overview', op);
    expect(overview.statusCode, overview.body).toBe(200);
    expect(overview.json().enterprises.map((e: { id: string }) => e.id)).not.toContain('platform');
    expect((await inject('GET', '/api/v1/alarms', acme)).json().alarms.map((a: { id: string }) => a.id)).not.toContain(id);
    expect((await inject('POST', `/api/v1/alarms/${id}/acknowledge`, acme, {})).statusCode).toBe(404);
    expect((await inject('POST', `/api/v1/alarms/${id}/acknowledge`, op, { note: 'ingest host disk checked' })).statusCode).toBe(200);
    await h.alarms.clearAuto(id, 0.5, h.clock.t);
    expect((await inject('POST', `/api/v1/alarms/${id}/close`, op, {})).statusCode).toBe(200);
  });

  test('a consequence grouped under its cause: listed beneath it, signed for with it, said in the audit', async () => {
    const op = await login(h, 'op', 'op-password-1');
    const cause = await raiseAlarm(h, 'acme', 'reactor-1', 2, 'HW_ALM_LEVEL_HIGH');
    const d = h.registry.device('acme', 'reactor-1')!;
    const trip = (await h.alarms.raise({ enterprise: 'acme', device: 'reactor-1', deviceClass: d.class, site: d.site, hazardSource: d.hazardSource, condition: 'HW_ALM_INTERLOCK_TRIP', level: 2, metric: null, value: true, threshold: null, message: 'interlock tripped', at: h.clock.t, parentId: cause.id }))!.alarm;
    expect(trip.parentId).toBe(cause.id);
    const own = (await inject('GET', '/api/v1/alarms?device=reactor-1&topLevel=true&open=true', op)).json();
    expect(own.alarms.map((a: { id: string }) => a.id)).toEqual([cause.id]);
    const beneath = (await inject('GET', `/api/v1/alarms?parent=${cause.id}`, op)).json();
    expect(beneath.alarms.map((a: { id: string; parentId: string }) => [a.id, a.parentId])).toEqual([[trip.id, cause.id]]);
    expect((await inject('POST', `/api/v1/alarms/${cause.id}/acknowledge`, op, { note: 'level and interlock seen' })).statusCode).toBe(200);
    const detail = (await inject('GET', `/api/v1/alarms/${trip.id}`, op)).json();
    expect(detail.alarm.state).toBe('active_acknowledged');
    expect(detail.history.map((e: { action: string }) => e.action)).toEqual(['raised', 'grouped', 'acknowledged']);
    const audit = (await inject('GET', '/api/v1/audit?action=alarm.acknowledge&limit=5', admin)).json();
    expect(audit.find((e: { target: string }) => e.target === cause.id)?.detail).toEqual({ note: 'level and interlock seen', withConsequences: [trip.id] });
    for (const a of [cause, trip]) await h.alarms.clearAuto(a.id, 0, h.clock.t);
  });

  test('maintenance windows: start, list, end', async () => {
    const acme = await login(h, 'acme-user', 'acme-user-password-1');
    const start = await inject('POST', '/api/v1/maintenance', acme, { enterprise: 'acme', device: 'reactor-1', minutes: 60, reason: 'annual calibration' });
    expect(start.statusCode, start.body).toBe(201);
    const win = start.json();
    expect(win).toMatchObject({ by: 'acme-user', condition: null, until: h.clock.t + 3_600_000 });
    const device = (await inject('GET', '/api/v1/enterprises/acme/devices/reactor-1', acme)).json();
    expect(device.maintenance).toBe(true);
    const listed = (await inject('GET', '/api/v1/maintenance?active=true', acme)).json();
    expect(listed.map((w: { id: string }) => w.id)).toContain(win.id);
    const bad = await inject('POST', '/api/v1/maintenance', acme, { enterprise: 'acme', device: 'reactor-1', reason: 'x' });
    expect(bad.json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.minutes' });
    const end = await inject('POST', `/api/v1/maintenance/${win.id}/end`, acme);
    expect(end.statusCode, end.body).toBe(200);
    expect(end.json().endedBy).toBe('acme-user');
  });
});

describe('operations endpoints', () => {
  test('/healthz, /readyz, /metrics and the OpenAPI document', async () => {
    expect((await inject('GET', '/healthz')).statusCode).toBe(200);
    expect((await inject('GET', '/readyz')).statusCode).toBe(200);
    const metrics = await inject('GET', '/metrics');
    expect(metrics.body).toMatch(/hazwatch_api_requests_total\{method="GET",route="\/api\/v1\/alarms",status="200"\}/);
    expect(metrics.body).toMatch(/hazwatch_api_refusals_total\{reason="HW_ERR_VALIDATION"\}/);
    const doc = (await inject('GET', '/docs/json')).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/api/v1/alarms', '/api/v1/alarms/{id}/acknowledge', '/api/v1/enterprises/{enterprise}/devices']));
    expect((await inject('GET', '/docs')).statusCode).toBeLessThan(400);
  });

  test('the console and its libraries are served locally', async () => {
    const index = await inject('GET', '/');
    expect(index.statusCode).toBe(200);
    expect(index.body).toContain('/console/app.js');
    expect(index.body).not.toMatch(/https?:\/\//);
    for (const url of ['/console/app.js', '/console/i18n.js', '/console/style.css', '/vendor/preact/dist/preact.mjs', '/vendor/preact/hooks/dist/hooks.mjs', '/vendor/htm/dist/htm.mjs']) {
      expect((await inject('GET', url)).statusCode, url).toBe(200);
    }
    expect((await inject('GET', '/vendor/preact/package.json')).statusCode).toBe(404);
  });
});
