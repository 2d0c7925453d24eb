// Emergency resources through the API: coordinates of enterprises, hazard sources and devices; the
// resource register with its roles and scope; CSV and Excel imports, all or nothing; and the nearest
// resources an alarm needs, with distances known in advance.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { EARTH_RADIUS_KM } from '../../registry/geo.ts';
import { GOOD_CSV, BAD_CSV, xlsx, XLSX_GOOD_ROWS } from '../../resources/test/files.ts';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

let h: Harness;
let admin: Record<string, string>;
let sup: Record<string, string>;
let op: Record<string, string>;
let acme: Record<string, string>;

const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) =>
  h.api.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
const upload = (url: string, headers: Record<string, string>, body: string | Buffer, type: string) =>
  h.api.app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': type }, payload: body });

/** A latitude `km` north of `lat` (along the meridian the great-circle distance is exact). */
const north = (lat: number, km: number) => lat + km / ((2 * Math.PI * EARTH_RADIUS_KM) / 360);
const TANKFARM = { lat: 30.752, lon: 121.246 };

const resource = (over: Record<string, unknown>) => ({ kind: 'shelter', name: 'x', lat: 30.75, lon: 121.25, jurisdiction: '金山区应急管理局', capacity: 100, ...over });

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [['sup', 'supervisor', null], ['op', 'operator', null], ['acme-user', 'enterprise', 'acme']] as const) {
    expect((await inject('POST', '/api/v1/accounts', admin, { username, password: `${username}-password-1`, role, enterprise })).statusCode).toBe(201);
  }
  sup = await login(h, 'sup', 'sup-password-1');
  op = await login(h, 'op', 'op-password-1');
  acme = await login(h, 'acme-user', 'acme-user-password-1');
});

afterAll(async () => {
  await h?.close();
});

describe('coordinates of enterprises, hazard sources and devices', () => {
  test('set through the plant routes, both or neither, shown on the overview', async () => {
    const e = await inject('PATCH', '/api/v1/enterprises/acme', admin, { lat: 30.7501, lon: 121.2502 });
    expect(e.json()).toMatchObject({ id: 'acme', lat: 30.7501, lon: 121.2502 });
    const half = await inject('PATCH', '/api/v1/enterprises/acme', admin, { lat: 30.7 });
    expect(half.statusCode).toBe(400);
    expect(half.json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.lon' });
    expect((await inject('PATCH', '/api/v1/enterprises/acme', admin, { lat: 91, lon: 121 })).json()).toMatchObject({ field: 'body.lat' });
    expect((await inject('PATCH', '/api/v1/enterprises/acme', admin, { lat: 30.75, lon: 121.25 })).statusCode).toBe(200);
    const created = await inject('POST', '/api/v1/enterprises', admin, { id: 'charlie', name: 'Charlie', lat: 30.8, lon: 121.3 });
    expect(created.json()).toMatchObject({ lat: 30.8, lon: 121.3 });
    expect((await inject('GET', '/api/v1/enterprises/bravo', admin)).json()).toMatchObject({ lat: 30.76, lon: 121.27 });

    const s = await inject('POST', '/api/v1/enterprises/charlie/hazard-sources', admin, { id: 'hs', name: 'HS', grade: 2, x: 10, y: 10, lat: 30.801, lon: 121.301 });
    expect(s.statusCode).toBe(201);
    expect(s.json()).toMatchObject({ lat: 30.801, lon: 121.301 });
    // A change of grade keeps the position; null clears it.
    expect((await inject('PATCH', '/api/v1/enterprises/charlie/hazard-sources/hs', admin, { grade: 1 })).json()).toMatchObject({ grade: 1, lat: 30.801 });
    expect((await inject('PATCH', '/api/v1/enterprises/charlie/hazard-sources/hs', admin, { lat: null, lon: null })).json()).toMatchObject({ lat: null, lon: null });
    expect((await inject('PATCH', '/api/v1/enterprises/charlie/hazard-sources/hs', admin, { lon: 121.3 })).json()).toMatchObject({ field: 'body.lat' });

    const overview = (await inject('GET', '/api/v1/overview', admin)).json();
    expect(overview.enterprises.find((x: { id: string }) => x.id === 'acme')).toMatchObject({ lat: 30.75, lon: 121.25 });
    expect(overview.sources.find((x: { id: string }) => x.id === 'tankfarm')).toMatchObject(TANKFARM);
    expect(overview.sources.find((x: { id: string }) => x.id === 'reactor')).toMatchObject({ lat: null, lon: null });
  });

  test("a device's position and live video are attributes, checked", async () => {
    const bad = await inject('POST', '/api/v1/enterprises/acme/devices', admin, { id: 'cam-x', class: 'camera', meta: { lat: 30.75 } });
    expect(bad.json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.meta.lon' });
    const script = await inject('POST', '/api/v1/enterprises/acme/devices', admin, { id: 'cam-x', class: 'camera', meta: { streamUrl: 'javascript:alert(1)' } });
    expect(script.json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.meta.streamUrl' });
    const cam = await inject('POST', '/api/v1/enterprises/acme/devices', admin, { id: 'cam-1', class: 'camera', hazardSource: 'tankfarm', meta: { lat: 30.7525, lon: 121.2465, streamUrl: 'http://nvr.example.org/live/cam-1.m3u8' } });
    expect(cam.statusCode).toBe(201);
    expect(cam.json().device.meta).toMatchObject({ lat: 30.7525, lon: 121.2465, streamUrl: 'http://nvr.example.org/live/cam-1.m3u8' });
    expect((await inject('PATCH', '/api/v1/enterprises/acme/devices/cam-1', admin, { meta: { lat: 'north', lon: 121 } })).json()).toMatchObject({ field: 'body.meta.lat' });
  });
});

describe('the resource register', () => {
  test('supervisors and administrators write; operators read; every kind says what it must', async () => {
    expect((await inject('POST', '/api/v1/resources', op, resource({ id: 'sh-op' }))).statusCode).toBe(403);
    expect((await inject('POST', '/api/v1/resources', acme, resource({ id: 'sh-acme' }))).statusCode).toBe(403);
    const created = await inject('POST', '/api/v1/resources', sup, resource({ id: 'sh-1', name: '体育馆避难场所', capacity: 800 }));
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: 'sh-1', kind: 'shelter', capacity: 800, enterprise: null, items: [], specialities: [] });
    expect((await inject('POST', '/api/v1/resources', sup, resource({ id: 'sh-1' }))).statusCode).toBe(409);
    const team = await inject('POST', '/api/v1/resources', admin, resource({ id: 'team-x', kind: 'rescue_team', capacity: null, specialities: ['hazmat'] }));
    expect(team.statusCode).toBe(400);
    expect(team.json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.people' });
    expect(team.json().message).toContain('body.phone: a rescue team needs a phone number to call');
    expect((await inject('POST', '/api/v1/resources', admin, resource({ id: 'x', enterprise: 'nobody', jurisdiction: '' }))).json()).toMatchObject({ field: 'body.enterprise' });
    expect((await inject('POST', '/api/v1/resources', admin, resource({ id: 'x', kind: 'spaceship' }))).json()).toMatchObject({ field: 'body.kind' });
    // PUT creates, then replaces.
    const put = (body: Record<string, unknown>) => inject('PUT', '/api/v1/resources/fs-1', sup, body);
    const fs = { kind: 'fire_station', name: '化工区消防站', lat: 30.76, lon: 121.27, jurisdiction: '金山区消防救援支队', phone: '119', people: 30 };
    expect((await put(fs)).statusCode).toBe(201);
    expect((await put({ ...fs, people: 31 })).statusCode).toBe(200);
    expect((await inject('GET', '/api/v1/resources/fs-1', op)).json()).toMatchObject({ people: 31 });
    expect((await inject('GET', '/api/v1/resources?kind=fire_station,shelter', op)).json().map((r: { id: string }) => r.id)).toEqual(['fs-1', 'sh-1']);
    expect((await inject('GET', '/api/v1/resources?bbox=121.26,30.755,121.28,30.77', op)).json().map((r: { id: string }) => r.id)).toEqual(['fs-1']);
    expect((await inject('GET', '/api/v1/resources?bbox=121.26,30.77', op)).json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'querystring.bbox' });
    expect((await inject('DELETE', '/api/v1/resources/sh-1', op)).statusCode).toBe(403);
    expect((await inject('DELETE', '/api/v1/resources/sh-1', sup)).statusCode).toBe(200);
    expect((await inject('DELETE', '/api/v1/resources/sh-1', sup)).statusCode).toBe(404);
    const audit = (await inject('GET', '/api/v1/audit?action=resource.create&limit=20', admin)).json();
    expect(audit.some((e: { target: string; status: number }) => e.target === 'sh-1' && e.status === 201)).toBe(true);
  });

  test("an enterprise user sees its enterprise's resources and the public ones, never another enterprise's", async () => {
    await inject('PUT', '/api/v1/resources/acme-team', admin, { kind: 'rescue_team', name: 'Acme 救援队', lat: 30.751, lon: 121.251, enterprise: 'acme', phone: '1', people: 8, specialities: ['hazmat'] });
    await inject('PUT', '/api/v1/resources/bravo-team', admin, { kind: 'rescue_team', name: 'Bravo 救援队', lat: north(TANKFARM.lat, 0.5), lon: TANKFARM.lon, enterprise: 'bravo', phone: '1', people: 8, specialities: ['hazmat'] });
    const seen = (await inject('GET', '/api/v1/resources', acme)).json().map((r: { id: string }) => r.id);
    expect(seen).toContain('acme-team');
    expect(seen).toContain('fs-1');
    expect(seen).not.toContain('bravo-team');
    expect((await inject('GET', '/api/v1/resources/bravo-team', acme)).statusCode).toBe(404);
    expect((await inject('GET', '/api/v1/resources?enterprise=bravo', acme)).statusCode).toBe(403);
    expect((await inject('GET', '/api/v1/resources?enterprise=bravo', op)).json().map((r: { id: string }) => r.id)).toEqual(['bravo-team']);
  });
});

describe('import', () => {
  const count = async () => (await inject('GET', '/api/v1/resources', admin)).json().length;

  test('a good CSV: checked with dryRun, then stored; the same file again replaces', async () => {
    const before = await count();
    const dry = await upload('/api/v1/resources/import?dryRun=true', sup, GOOD_CSV, 'text/csv; charset=utf-8');
    expect(dry.statusCode).toBe(200);
    expect(dry.json()).toEqual({ dryRun: true, rows: 6, imported: 4, created: 4, updated: 0, ignoredColumns: ['序号'] });
    expect(await count()).toBe(before);
    const done = await upload('/api/v1/resources/import', sup, GOOD_CSV, 'text/csv');
    expect(done.json()).toMatchObject({ dryRun: false, imported: 4, created: 4, updated: 0 });
    expect(await count()).toBe(before + 4);
    expect((await inject('GET', '/api/v1/resources/wh-1', op)).json()).toMatchObject({ enterprise: 'acme', items: [{ kind: 'gas_mask', quantity: 200 }, { kind: 'absorbent', quantity: 1500 }, { kind: 'other', name: '3M 6800 全面罩' }] });
    expect((await upload('/api/v1/resources/import', sup, GOOD_CSV, 'text/csv')).json()).toMatchObject({ created: 0, updated: 4 });
    expect(await count()).toBe(before + 4);
    // The audit says what was imported, not the file.
    const audit = (await inject('GET', '/api/v1/audit?action=resource.import&limit=5', admin)).json();
    expect(audit[0].detail).toMatchObject({ format: 'csv', rows: 6, created: 0, updated: 4, bytes: Buffer.byteLength(GOOD_CSV) });
    expect(JSON.stringify(audit)).not.toContain('危化品救援队');
  });

  test('a bad CSV: every wrong cell by row and column, and nothing imported', async () => {
    const before = await count();
    const res = await upload('/api/v1/resources/import', sup, BAD_CSV, 'text/csv');
    expect(res.statusCode).toBe(400);
    const body = res.json();
    expect(body).toMatchObject({ code: 'HW_ERR_VALIDATION', rows: 10 });
    expect(body.message).toMatch(/errors in the file; nothing was imported$/);
    expect(body.errors[0]).toEqual({ row: 2, column: 'people', message: 'a rescue team needs its number of people' });
    expect(body.errors.find((e: { row: number }) => e.row === 4)).toMatchObject({ column: 'lat', value: '121.27' });
    expect(body.errorCount).toBe(body.errors.length);
    expect(await count()).toBe(before);
  });

  test('a good and a bad Excel workbook', async () => {
    const before = await count();
    const good = await upload('/api/v1/resources/import', admin, await xlsx(XLSX_GOOD_ROWS), XLSX);
    expect(good.json()).toMatchObject({ imported: 3, created: 3 });
    expect((await inject('GET', '/api/v1/resources/x-wh', op)).json().items.map((i: { kind: string }) => i.kind)).toEqual(['scba', 'leak_plug']);
    const rows = XLSX_GOOD_ROWS.map((r) => [...r]);
    rows[1][3] = 'thirty';
    rows.push(['x-new', '避难场所', '新避难场所', 30.7, 121.3, '金山区应急管理局', null, null, null, null, null, null]);
    // Sent as an octet stream: the workbook is recognised by its bytes.
    const bad = await upload('/api/v1/resources/import', admin, await xlsx(rows), 'application/octet-stream');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors).toEqual([
      { row: 2, column: '纬度（WGS84）', value: 'thirty', message: 'not a number: decimal degrees, e.g. 30.7512 (degrees, minutes and seconds are not read)' },
      // The sheet has no capacity column: the error names the column it should add.
      { row: 6, column: '容量 (capacity)', message: 'a shelter needs its capacity (persons)' },
    ]);
    expect(await count()).toBe(before + 3);
    expect((await inject('GET', '/api/v1/resources/x-new', op)).statusCode).toBe(404);
  });

  test('operators may not import; an empty body says what to send', async () => {
    expect((await upload('/api/v1/resources/import', op, GOOD_CSV, 'text/csv')).statusCode).toBe(403);
    expect((await upload('/api/v1/resources/import', acme, GOOD_CSV, 'text/csv')).statusCode).toBe(403);
    const empty = await h.api.app.inject({ method: 'POST', url: '/api/v1/resources/import', headers: sup });
    expect(empty.statusCode).toBe(400);
  });
});

describe('nearest resources of an alarm', () => {
  beforeAll(async () => {
    // Along the meridian through the tank farm, at distances known in advance.
    const at = (km: number) => ({ lat: north(TANKFARM.lat, km), lon: TANKFARM.lon, jurisdiction: '金山区应急管理局' });
    const put = (id: string, body: Record<string, unknown>) => inject('PUT', `/api/v1/resources/${id}`, admin, body);
    expect((await put('n-team-2', { kind: 'rescue_team', name: '危化品救援二队', phone: '1', people: 20, specialities: ['hazmat'], ...at(2) })).statusCode).toBeLessThan(300);
    await put('n-team-7', { kind: 'rescue_team', name: '危化品救援七队', phone: '1', people: 20, specialities: ['hazmat'], ...at(-7) });
    await put('n-fire-team', { kind: 'rescue_team', name: '灭火队', phone: '1', people: 20, specialities: ['fire'], ...at(0.3) });
    await put('n-fs-4', { kind: 'fire_station', name: '消防站', phone: '119', ...at(4) });
    await put('n-wh-3', { kind: 'warehouse', name: '仓库', items: [{ kind: 'absorbent', quantity: 2, unit: '吨' }], ...at(3) });
    await put('n-shelter-1', { kind: 'shelter', name: '避难场所', capacity: 100, ...at(1) });
    // Earlier tests left others about; this suite's own are the nearest by construction, except the
    // acme and bravo teams half a kilometre away.
  });

  test('a gas alarm at its hazard source: hazmat teams, fire stations, warehouses with what it needs, nearest first', async () => {
    const alarm = await raiseAlarm(h, 'acme', 'gas-1', 2);
    const res = await inject('GET', `/api/v1/alarms/${alarm.id}/nearest-resources?limit=10`, op);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.position).toEqual({ ...TANKFARM, from: 'hazardSource' });
    const group = (kind: string) => body.needs.find((n: { kind: string }) => n.kind === kind);
    expect(group('rescue_team').specialities).toEqual(['hazmat']);
    const teams: [string, number][] = group('rescue_team').resources.map((r: { id: string; distanceKm: number }) => [r.id, r.distanceKm]);
    // Nearest first; those placed along the meridian at their distances to the metre.
    expect(teams.map(([, d]) => d)).toEqual(teams.map(([, d]) => d).sort((a, b) => a - b));
    expect(teams.filter(([id]) => id.startsWith('n-') || id === 'bravo-team')).toEqual([['bravo-team', 0.5], ['n-team-2', 2], ['n-team-7', 7]]);
    expect(teams[0]).toEqual(['acme-team', 0.491]);
    expect(group('fire_station').resources.find((r: { id: string }) => r.id === 'n-fs-4').distanceKm).toBe(4);
    expect(group('warehouse').resources.find((r: { id: string }) => r.id === 'n-wh-3')).toMatchObject({ distanceKm: 3, matched: ['absorbent'] });
    // The fire team is nearer but not what a gas leak needs; a shelter is not on the gas list.
    expect(JSON.stringify(body)).not.toContain('n-fire-team');
    expect(body.needs.map((n: { kind: string }) => n.kind)).not.toContain('shelter');

    // An enterprise user sees the public ones and its own, not bravo's team.
    const mine = (await inject('GET', `/api/v1/alarms/${alarm.id}/nearest-resources?limit=3`, acme)).json();
    const mineTeams = mine.needs.find((n: { kind: string }) => n.kind === 'rescue_team').resources.map((r: { id: string }) => r.id);
    expect(mineTeams).toHaveLength(3);
    expect(mineTeams[0]).toBe('acme-team');
    expect(mineTeams).not.toContain('bravo-team');
    const bravoAlarm = await raiseAlarm(h, 'bravo', 'gas-9', 1);
    expect((await inject('GET', `/api/v1/alarms/${bravoAlarm.id}/nearest-resources`, acme)).statusCode).toBe(404);
    expect((await inject('GET', '/api/v1/alarms/nope/nearest-resources', op)).statusCode).toBe(404);
  });

  test("placed at its device's own coordinates, else its source's, else its enterprise's, else nowhere", async () => {
    const onDevice = await raiseAlarm(h, 'acme', 'cam-1', 1);
    expect((await inject('GET', `/api/v1/alarms/${onDevice.id}/nearest-resources`, op)).json().position).toEqual({ lat: 30.7525, lon: 121.2465, from: 'device' });
    const onEnterprise = await raiseAlarm(h, 'acme', 'reactor-1', 3, 'HW_ALM_LEVEL_HIGH');
    const res = (await inject('GET', `/api/v1/alarms/${onEnterprise.id}/nearest-resources`, op)).json();
    expect(res.position).toEqual({ lat: 30.75, lon: 121.25, from: 'enterprise' });
    expect(res.deviceClass).toBe('vessel');
    expect(res.needs[0].kind).toBe('fire_station');
    await h.registry.setEnterpriseLocation('acme', null);
    const nowhere = (await inject('GET', `/api/v1/alarms/${onEnterprise.id}/nearest-resources`, op)).json();
    expect(nowhere.position).toBeNull();
    expect(nowhere.needs.every((n: { resources: unknown[] }) => n.resources.length === 0)).toBe(true);
    await h.registry.setEnterpriseLocation('acme', { lat: 30.75, lon: 121.25 });
  });
});
