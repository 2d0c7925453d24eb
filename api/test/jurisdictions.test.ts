// Jurisdictions and their scope everywhere (issue 15): a tree province → city → two counties → a park
// and a town, four enterprises (in the park, directly in the first county, in the town of the second,
// and one directly under the platform), and accounts at city, county, park and enterprise level. For
// every resource, each account sees exactly its part: lists, counts, search, the wall's trend and
// overview, quality figures, exports, the live stream; ids out of scope are 404 and filters naming an
// enterprise out of scope 403. Then the tree's own API: who may keep which part of it.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alarm } from '../../contract/alarms.ts';
import { openHazardSources } from '../../registry/hazard-sources.ts';
import { raiseAlarm } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

const ENTERPRISES = ['e-park', 'e-county', 'e-town', 'e-outside'] as const;
type Ent = (typeof ENTERPRISES)[number];
/** Who sees what: the table the whole file checks. */
const SEES: Record<string, Ent[]> = {
  admin: ['e-park', 'e-county', 'e-town', 'e-outside'],
  city: ['e-park', 'e-county', 'e-town'],
  county: ['e-park', 'e-county'],
  park: ['e-park'],
  ent: ['e-park'],
};
const ACCOUNTS = Object.keys(SEES);
const PASSWORD = 'scope-password-1';

let h: Harness;
const auth: Record<string, Record<string, string>> = {};
const alarms = {} as Record<Ent, Alarm>;
const dangers = {} as Record<Ent, string>;
const warnings = {} as Record<Ent, string>;

const call = async (who: string, method: string, url: string, payload?: unknown) => {
  const res = await h.api.app.inject({ method: method as 'GET', url, headers: auth[who], ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: String(res.headers['content-type'] ?? '').includes('json') ? res.json() : res.body, raw: res };
};
const ok = async (who: string, method: string, url: string, payload?: unknown) => {
  const r = await call(who, method, url, payload);
  expect(r.status, `${who} ${method} ${url}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
  return r.body;
};
const sorted = (xs: Iterable<string>) => [...new Set(xs)].sort();
/** A count stands for the enterprises when it is theirs (one alarm each), else shows itself in the failure. */
const counted = (who: string, n: number) => (n === SEES[who].length ? SEES[who] : [`a count of ${n}`]);
const outOf = (who: string) => ENTERPRISES.filter((e) => !SEES[who].includes(e));

beforeAll(async () => {
  h = await startHarness();
  auth.admin = await login(h, ADMIN.username, ADMIN.password);
  const tree = [
    { id: '310000', name: '上海市', kind: 'province', code: '310000' },
    { id: '310100', name: '市辖区', kind: 'city', parent: '310000', code: '310100' },
    { id: '310116', name: '金山区', kind: 'county', parent: '310100', code: '310116' },
    { id: '310120', name: '奉贤区', kind: 'county', parent: '310100', code: '310120' },
    { id: 'js-park', name: '金山化工园区', kind: 'park', parent: '310116' },
    { id: '310120101', name: '南桥镇', kind: 'town', parent: '310120', code: '310120101' },
  ];
  for (const n of tree) await ok('admin', 'POST', '/api/v1/jurisdictions', n);
  const place: Record<Ent, string | null> = { 'e-park': 'js-park', 'e-county': '310116', 'e-town': '310120101', 'e-outside': null };
  const sources = await openHazardSources(h.registry.database);
  for (const e of ENTERPRISES) {
    await ok('admin', 'POST', '/api/v1/enterprises', { id: e, name: `Enterprise ${e}`, lat: 30.75, lon: 121.25 });
    if (place[e]) await ok('admin', 'PUT', `/api/v1/enterprises/${e}/jurisdiction`, { jurisdiction: place[e] });
    await sources.put({ enterprise: e, id: 'src', name: 'Tank farm', grade: 2, x: 100, y: 100 });
    await h.registry.addDevices([
      { enterprise: e, id: 'gas-1', class: 'gas_combustible', name: 'Gas 1', hazardSource: 'src' },
      { enterprise: e, id: 'tank-1', class: 'vessel', name: 'Tank 1', hazardSource: 'src' },
    ]);
  }
  const accounts = [
    { username: 'city', role: 'supervisor', jurisdiction: '310100' },
    { username: 'county', role: 'supervisor', jurisdiction: '310116' },
    { username: 'park', role: 'supervisor', jurisdiction: 'js-park' },
    { username: 'ent', role: 'enterprise', enterprise: 'e-park' },
  ];
  for (const a of accounts) {
    await ok('admin', 'POST', '/api/v1/accounts', { ...a, password: PASSWORD });
    auth[a.username] = await login(h, a.username, PASSWORD);
  }
  for (const e of ENTERPRISES) {
    alarms[e] = await raiseAlarm(h, e, 'gas-1', 2);
    await ok('admin', 'POST', '/api/v1/maintenance', { enterprise: e, device: 'tank-1', minutes: 60, reason: 'calibration' });
    dangers[e] = (await ok('admin', 'POST', '/api/v1/dangers', { enterprise: e, title: `danger of ${e}`, grade: 'general', responsible: { name: '张工', phone: '13800000000' }, deadline: h.clock.t + 86_400_000 })).danger.id;
    warnings[e] = (await ok('admin', 'POST', '/api/v1/warnings', { level: 3, title: `warning ${e}`, text: '黄色预警', enterprises: [e], audiences: ['public'] })).id;
    await ok('admin', 'POST', '/api/v1/resources', { id: `res-${e}`, kind: 'shelter', name: `shelter of ${e}`, lat: 30.75, lon: 121.25, enterprise: e, capacity: 50 });
    await ok('admin', 'POST', '/api/v1/duty/units', { id: `unit-${e}`, name: `duty of ${e}`, kind: 'enterprise', enterprise: e });
    // Something about the enterprise in the audit log.
    await ok('admin', 'PATCH', `/api/v1/enterprises/${e}`, { name: `Enterprise ${e} Ltd` });
  }
  await ok('admin', 'POST', '/api/v1/resources', { id: 'res-public', kind: 'shelter', name: 'public shelter', lat: 30.75, lon: 121.25, jurisdiction: '金山区应急管理局', capacity: 500 });
}, 60_000);

afterAll(async () => {
  await h?.close();
});

describe('each account sees exactly its part', () => {
  /** Lists and counts, resource by resource: [name, what the account sees as enterprise ids]. */
  const LISTS: [string, (who: string) => Promise<string[]>][] = [
    ['enterprises', async (who) => (await ok(who, 'GET', '/api/v1/enterprises')).map((e: { id: string }) => e.id)],
    ['alarms', async (who) => (await ok(who, 'GET', '/api/v1/alarms')).alarms.map((a: Alarm) => a.enterprise)],
    ['alarm count', async (who) => counted(who, (await ok(who, 'GET', '/api/v1/alarms?open=true&limit=1')).total)],
    ['alarm search', async (who) => (await ok(who, 'GET', '/api/v1/alarms?q=GAS&level=2&deviceClass=gas_combustible')).alarms.map((a: Alarm) => a.enterprise)],
    ['overview', async (who) => (await ok(who, 'GET', '/api/v1/overview')).enterprises.map((e: { id: string }) => e.id)],
    ['overview counts', async (who) => {
      const o = await ok(who, 'GET', '/api/v1/overview');
      expect(o.counts[2]).toBe(SEES[who].length);
      return o.sources.map((s: { enterprise: string }) => s.enterprise);
    }],
    ['trend', async (who) => {
      const t = await ok(who, 'GET', '/api/v1/alarms/trend?hours=2');
      return counted(who, t.buckets.reduce((sum: number, b: { count: number }) => sum + b.count, 0));
    }],
    ['alarm quality', async (who) => counted(who, (await ok(who, 'GET', `/api/v1/alarm-quality?to=${h.clock.t + 60_000}`)).raised)],
    ['devices', async (who) => (await ok(who, 'GET', '/api/v1/devices')).map((d: { enterprise: string }) => d.enterprise)],
    ['latest values', async (who) => (await ok(who, 'GET', '/api/v1/latest')).map((d: { enterprise: string }) => d.enterprise)],
    ['devices of the wall', async (who) => counted(who, (await ok(who, 'GET', '/api/v1/overview')).enterprises.reduce((n: number, e: { devices: number }) => n + e.devices, 0) / 2)],
    ['hazard sources', async (who) => (await ok(who, 'GET', '/api/v1/hazard-sources')).map((s: { enterprise: string }) => s.enterprise)],
    ['maintenance', async (who) => (await ok(who, 'GET', '/api/v1/maintenance')).map((w: { enterprise: string }) => w.enterprise)],
    ['hidden dangers', async (who) => {
      const r = await ok(who, 'GET', '/api/v1/dangers');
      expect(r.total).toBe(r.dangers.length);
      return r.dangers.map((d: { enterprise: string }) => d.enterprise);
    }],
    ['warnings', async (who) => (await ok(who, 'GET', '/api/v1/warnings')).flatMap((w: { enterprises: string[] }) => w.enterprises)],
    ['emergency resources', async (who) => {
      const list = await ok(who, 'GET', '/api/v1/resources');
      // The public one is everyone's.
      expect(list.map((r: { id: string }) => r.id)).toContain('res-public');
      return list.filter((r: { enterprise: string | null }) => r.enterprise).map((r: { enterprise: string }) => r.enterprise);
    }],
    ['duty units', async (who) => (await ok(who, 'GET', '/api/v1/duty/units')).map((u: { enterprise: string | null }) => u.enterprise ?? 'regulator')],
    ['jurisdiction tree', async (who) => (await ok(who, 'GET', '/api/v1/jurisdictions')).enterprises.map((e: { id: string }) => e.id)],
    ['alarm export', async (who) => {
      const r = await call(who, 'GET', '/api/v1/alarms/export?format=csv&lang=en');
      expect(r.status).toBe(200);
      const rows = (r.body as string).trim().split('\r\n').slice(1);
      return rows.map((line) => ENTERPRISES.find((e) => line.includes(`,${e},`)) ?? line);
    }],
  ];

  test.each(ACCOUNTS)('%s: every list and count', async (who) => {
    for (const [name, read] of LISTS) {
      expect(sorted(await read(who)), `${who}: ${name}`).toEqual(sorted(SEES[who]));
    }
  });

  test.each(['admin', 'city', 'county', 'park'])('%s: the audit log and its export hold entries about its enterprises only', async (who) => {
    const entries = await ok(who, 'GET', '/api/v1/audit?limit=1000');
    const about = sorted(entries.map((e: { enterprise: string | null }) => e.enterprise).filter(Boolean));
    if (who === 'admin') expect(about).toEqual(expect.arrayContaining(sorted(SEES.admin)));
    else {
      expect(about).toEqual(sorted(SEES[who]));
      expect(entries.every((e: { enterprise: string | null }) => e.enterprise !== null)).toBe(true);
    }
    const csv = (await call(who, 'GET', '/api/v1/audit/export?format=csv&lang=en')).body as string;
    for (const e of outOf(who)) expect(csv, `${who} audit export`).not.toContain(`,${e},`);
  });

  test.each(ACCOUNTS.filter((w) => w !== 'admin'))('%s: ids out of scope are 404, filters naming them 403', async (who) => {
    for (const e of outOf(who)) {
      const expectStatus = async (status: number, method: string, url: string, payload?: unknown) => {
        expect((await call(who, method, url, payload)).status, `${who} ${method} ${url}`).toBe(status);
      };
      await expectStatus(404, 'GET', `/api/v1/alarms/${alarms[e].id}`);
      await expectStatus(404, 'POST', `/api/v1/alarms/${alarms[e].id}/acknowledge`, {});
      await expectStatus(404, 'GET', `/api/v1/alarms/${alarms[e].id}/nearest-resources`);
      await expectStatus(404, 'GET', `/api/v1/dangers/${dangers[e]}`);
      await expectStatus(404, 'GET', `/api/v1/warnings/${warnings[e]}`);
      await expectStatus(404, 'GET', `/api/v1/resources/res-${e}`);
      await expectStatus(404, 'GET', `/api/v1/duty/units/unit-${e}`);
      await expectStatus(403, 'GET', `/api/v1/enterprises/${e}`);
      await expectStatus(403, 'GET', `/api/v1/enterprises/${e}/devices/gas-1`);
      await expectStatus(403, 'GET', `/api/v1/enterprises/${e}/devices/gas-1/chart`);
      await expectStatus(403, 'GET', `/api/v1/enterprises/${e}/devices/gas-1/readings/export?from=0&format=csv`);
      await expectStatus(403, 'POST', '/api/v1/maintenance', { enterprise: e, device: 'gas-1', minutes: 10, reason: 'x' });
      for (const list of ['alarms', 'alarms/export', 'devices', 'latest', 'hazard-sources', 'maintenance', 'dangers', 'warnings', 'resources', 'duty/units', 'alarm-quality']) {
        await expectStatus(403, 'GET', `/api/v1/${list}?enterprise=${e}`);
      }
      if (who !== 'ent') await expectStatus(403, 'GET', `/api/v1/audit?enterprise=${e}`);
    }
    // The own part by id works.
    const mine = SEES[who][0];
    expect((await call(who, 'GET', `/api/v1/alarms/${alarms[mine].id}`)).status).toBe(200);
    expect((await call(who, 'GET', `/api/v1/alarms?enterprise=${mine}`)).body.total).toBe(1);
    // The store is untouched by the refused acknowledgements.
    for (const e of outOf(who)) expect((await h.alarms.get(alarms[e].id))!.state).toBe('active_unacknowledged');
  });

  test('the live stream carries each account its own enterprises only', { timeout: 20_000 }, async () => {
    const streams = await Promise.all(
      ACCOUNTS.map(async (who) => {
        const controller = new AbortController();
        const res = await fetch(`${h.api.url}/api/v1/stream?values=false`, { headers: auth[who], signal: controller.signal });
        const reader = res.body!.getReader();
        const state = { who, text: '', controller };
        void (async () => {
          const decoder = new TextDecoder();
          for (;;) {
            const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
            if (done) break;
            state.text += decoder.decode(value, { stream: true });
          }
        })();
        return state;
      }),
    );
    await expect.poll(() => streams.every((s) => s.text.includes('event: hello')), { timeout: 5000 }).toBe(true);
    for (const e of ENTERPRISES) await raiseAlarm(h, e, 'gas-1', 1, 'HW_ALM_LEVEL_HIGH');
    const seen = (text: string) => sorted([...text.matchAll(/^data: (.*)$/gm)].map((m) => JSON.parse(m[1])).filter((d) => d.alarm).map((d) => d.alarm.enterprise as string));
    // Everyone's last alarm (e-outside's, raised last) reached the admin: the others had every chance.
    await expect.poll(() => seen(streams[0].text), { timeout: 5000 }).toEqual(sorted(SEES.admin));
    await new Promise((r) => setTimeout(r, 600));
    for (const s of streams) {
      expect(seen(s.text), `${s.who}'s stream`).toEqual(sorted(SEES[s.who]));
      s.controller.abort();
    }
  });
});

describe('the tree and who keeps it', () => {
  test('everyone reads the part of the tree in scope, with the path to its node', async () => {
    const ids = async (who: string) => (await ok(who, 'GET', '/api/v1/jurisdictions')).nodes.map((n: { id: string }) => n.id).sort();
    expect(await ids('admin')).toEqual(['310000', '310100', '310116', '310120', '310120101', 'js-park']);
    expect(await ids('city')).toEqual(['310100', '310116', '310120', '310120101', 'js-park']);
    expect(await ids('county')).toEqual(['310116', 'js-park']);
    expect(await ids('park')).toEqual(['js-park']);
    expect(await ids('ent')).toEqual([]);
    const county = await ok('county', 'GET', '/api/v1/jurisdictions');
    expect(county.scope).toBe('310116');
    expect(county.path.map((n: { name: string }) => n.name)).toEqual(['上海市', '市辖区', '金山区']);
    expect((await ok('ent', 'GET', '/api/v1/jurisdictions')).path.map((n: { id: string }) => n.id).at(-1)).toBe('js-park');
    expect((await call('county', 'GET', '/api/v1/jurisdictions/310120')).status).toBe(404);
    expect((await ok('admin', 'GET', '/api/v1/enterprises/e-park')).jurisdiction).toBe('js-park');
  });

  test('validation through the API names the field', async () => {
    const bad = async (body: unknown) => (await call('admin', 'POST', '/api/v1/jurisdictions', body)).body;
    expect(await bad({ id: 'x', name: 'X', kind: 'city', parent: '310116' })).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.parent' });
    expect(await bad({ id: 'x', name: 'X', kind: 'county', parent: 'nowhere' })).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.parent' });
    expect(await bad({ id: 'x', name: 'X', kind: 'county', parent: '310100', code: '320106' })).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.code' });
    expect(await bad({ id: '310116', name: 'X', kind: 'county', parent: '310100' })).toMatchObject({ code: 'HW_ERR_CONFLICT' });
    expect((await call('admin', 'PATCH', '/api/v1/jurisdictions/310100', { parent: '310116' })).body).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.parent' });
    expect((await call('admin', 'DELETE', '/api/v1/jurisdictions/js-park')).status).toBe(409);
    expect((await call('admin', 'POST', '/api/v1/accounts', { username: 'lost', password: PASSWORD, role: 'operator', jurisdiction: 'nowhere' })).body).toMatchObject({ field: 'body.jurisdiction' });
    expect((await call('admin', 'POST', '/api/v1/accounts', { username: 'lost', password: PASSWORD, role: 'enterprise', enterprise: 'e-park', jurisdiction: '310116' })).status).toBe(400);
    // Supervisors read the tree but do not keep it.
    expect((await call('city', 'POST', '/api/v1/jurisdictions', { id: 'y', name: 'Y', kind: 'town', parent: '310116' })).status).toBe(403);
  });

  test('an administrator with a jurisdiction keeps only what lies below it, and cannot widen its own scope', async () => {
    await ok('admin', 'POST', '/api/v1/accounts', { username: 'city-admin', password: PASSWORD, role: 'administrator', jurisdiction: '310100' });
    auth['city-admin'] = await login(h, 'city-admin', PASSWORD);
    const status = async (method: string, url: string, payload?: unknown) => (await call('city-admin', method, url, payload)).status;
    // Below its node: yes.
    expect(await status('POST', '/api/v1/jurisdictions', { id: 'js-town', name: '朱泾镇', kind: 'town', parent: '310116', code: '310116102' })).toBe(201);
    expect(await status('PATCH', '/api/v1/jurisdictions/js-town', { name: '朱泾' })).toBe(200);
    expect(await status('PUT', '/api/v1/enterprises/e-county/jurisdiction', { jurisdiction: 'js-town' })).toBe(200);
    expect(await status('POST', '/api/v1/enterprises', { id: 'e-new', name: 'New', jurisdiction: 'js-town' })).toBe(201);
    expect((await ok('city-admin', 'GET', '/api/v1/enterprises')).map((e: { id: string }) => e.id)).toContain('e-new');
    // At the top, on its own node, outside: no.
    expect(await status('POST', '/api/v1/jurisdictions', { id: 'top', name: 'Top', kind: 'city' })).toBe(403);
    expect(await status('PATCH', '/api/v1/jurisdictions/310100', { name: 'mine now' })).toBe(403);
    expect(await status('PATCH', '/api/v1/jurisdictions/310116', { parent: '310000' })).toBe(403);
    expect(await status('PATCH', '/api/v1/jurisdictions/310000', { name: 'x' })).toBe(404);
    expect(await status('PUT', '/api/v1/enterprises/e-outside/jurisdiction', { jurisdiction: 'js-town' })).toBe(403);
    expect(await status('PUT', '/api/v1/enterprises/e-county/jurisdiction', { jurisdiction: null })).toBe(403);
    expect(await status('POST', '/api/v1/enterprises', { id: 'e-top', name: 'Top' })).toBe(403);
    // Accounts: within its jurisdiction only, none platform-wide.
    expect(await status('POST', '/api/v1/accounts', { username: 'town-op', password: PASSWORD, role: 'operator', jurisdiction: 'js-town' })).toBe(201);
    expect(await status('POST', '/api/v1/accounts', { username: 'all-op', password: PASSWORD, role: 'operator' })).toBe(403);
    expect(await status('POST', '/api/v1/accounts', { username: 'out-ent', password: PASSWORD, role: 'enterprise', enterprise: 'e-outside' })).toBe(403);
    expect(await status('PATCH', '/api/v1/accounts/town-op', { jurisdiction: null })).toBe(403);
    expect(await status('PATCH', '/api/v1/accounts/admin', { displayName: 'x' })).toBe(404);
    const listed = (await ok('city-admin', 'GET', '/api/v1/accounts')).map((u: { username: string }) => u.username).sort();
    expect(listed).toEqual(['city', 'city-admin', 'county', 'ent', 'park', 'town-op']);
    // A move counts at once: the county's account now sees e-county through the new town, the park's never.
    expect(sorted((await ok('county', 'GET', '/api/v1/enterprises')).map((e: { id: string }) => e.id))).toEqual(['e-county', 'e-new', 'e-park']);
    // A node with an account bound to it stays.
    await ok('city-admin', 'PUT', '/api/v1/enterprises/e-county/jurisdiction', { jurisdiction: '310116' });
    await ok('city-admin', 'PUT', '/api/v1/enterprises/e-new/jurisdiction', { jurisdiction: '310116' });
    expect(await status('DELETE', '/api/v1/jurisdictions/js-town')).toBe(409);
    await ok('city-admin', 'PATCH', '/api/v1/accounts/town-op', { jurisdiction: '310116' });
    expect(await status('DELETE', '/api/v1/jurisdictions/js-town')).toBe(200);
    // Every change is audited.
    const actions = (await ok('admin', 'GET', '/api/v1/audit?username=city-admin&limit=100')).map((e: { action: string }) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['jurisdiction.create', 'jurisdiction.update', 'jurisdiction.delete', 'enterprise.jurisdiction', 'account.create']));
  });
});

describe('the demo', () => {
  test('its tree and its city, county and park accounts each see a different part', { timeout: 30_000 }, async () => {
    const demo = await startHarness({ api: { autoPlan: true, demoLogin: true } });
    try {
      const seen = async (username: string) => {
        const headers = await login(demo, username, 'hazwatch-demo');
        const res = await demo.api.app.inject({ method: 'GET', url: '/api/v1/enterprises', headers });
        return res.json().map((e: { id: string }) => e.id).sort();
      };
      expect(await seen('demo-city')).toEqual(['demo-chem', 'demo-coat', 'demo-gas']);
      expect(await seen('demo-county')).toEqual(['demo-chem', 'demo-gas']);
      expect(await seen('demo-park')).toEqual(['demo-chem']);
      expect(await seen('demo-chem')).toEqual(['demo-chem']);
      expect(await seen('demo')).toEqual(['demo-chem', 'demo-coat', 'demo-gas']);
      const tree = await demo.api.app.inject({ method: 'GET', url: '/api/v1/jurisdictions', headers: await login(demo, 'demo-park', 'hazwatch-demo') });
      expect(tree.json().path.map((n: { code: string | null }) => n.code)).toEqual(['310000', '310100', '310116', null]);
    } finally {
      await demo.close();
    }
  });
});
