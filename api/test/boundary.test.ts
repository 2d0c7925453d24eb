// The enterprise boundary, resource by resource: an enterprise user (acme) can neither read nor change
// anything of another enterprise (bravo), and lists never leak it. Every write is tried for real and
// the stores are checked afterwards to be untouched.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

let h: Harness;
let admin: Record<string, string>;
let acme: Record<string, string>;
let bravoAlarm: string;
let acmeAlarm: string;
let bravoWindow: string;
let bravoBefore: unknown;
let bravoHistory: string[];

const inject = (method: string, url: string, headers: Record<string, string> = {}, payload?: unknown) =>
  h.api.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  admin = await login(h, ADMIN.username, ADMIN.password);
  expect((await inject('POST', '/api/v1/accounts', admin, { username: 'acme-user', password: 'acme-password-1', role: 'enterprise', enterprise: 'acme' })).statusCode).toBe(201);
  expect((await inject('POST', '/api/v1/accounts', admin, { username: 'bravo-user', password: 'bravo-password-1', role: 'enterprise', enterprise: 'bravo' })).statusCode).toBe(201);
  acme = await login(h, 'acme-user', 'acme-password-1');
  bravoAlarm = (await raiseAlarm(h, 'bravo', 'gas-9', 1)).id;
  acmeAlarm = (await raiseAlarm(h, 'acme', 'gas-1', 2)).id;
  const win = await inject('POST', '/api/v1/maintenance', admin, { enterprise: 'bravo', device: 'gas-9', minutes: 30, reason: 'calibration' });
  bravoWindow = win.json().id;
  // Something for bravo in the audit log.
  await inject('PATCH', '/api/v1/enterprises/bravo', admin, { name: 'Bravo Petrochem Ltd' });
  bravoBefore = await h.alarms.get(bravoAlarm);
  bravoHistory = (await h.alarms.history(bravoAlarm)).map((e) => e.action);
});

afterAll(async () => {
  await h?.close();
});

/** Every request an acme user might try on bravo's data, by resource. */
const FORBIDDEN: Record<string, [string, string, unknown?][]> = {
  enterprises: [
    ['GET', '/api/v1/enterprises/bravo'],
    ['PATCH', '/api/v1/enterprises/bravo', { name: 'pwned' }],
  ],
  'hazard sources': [
    ['GET', '/api/v1/enterprises/bravo/hazard-sources'],
    ['GET', '/api/v1/hazard-sources?enterprise=bravo'],
    ['GET', '/api/v1/enterprises/bravo/hazard-sources/lpg'],
    ['POST', '/api/v1/enterprises/bravo/hazard-sources', { id: 'x', name: 'x', grade: 1, x: 1, y: 1 }],
    ['PATCH', '/api/v1/enterprises/bravo/hazard-sources/lpg', { grade: 4 }],
  ],
  devices: [
    ['GET', '/api/v1/devices?enterprise=bravo'],
    ['GET', '/api/v1/enterprises/bravo/devices'],
    ['GET', '/api/v1/enterprises/bravo/devices/gas-9'],
    ['POST', '/api/v1/enterprises/bravo/devices', { id: 'evil', class: 'oxygen' }],
    ['PATCH', '/api/v1/enterprises/bravo/devices/gas-9', { name: 'pwned' }],
    ['POST', '/api/v1/enterprises/bravo/devices/gas-9/revoke'],
    ['POST', '/api/v1/enterprises/bravo/devices/gas-9/rotate'],
  ],
  thresholds: [
    ['GET', '/api/v1/enterprises/bravo/devices/gas-9/thresholds'],
    ['PUT', '/api/v1/enterprises/bravo/devices/gas-9/thresholds', { limits: {} }],
  ],
  'latest values and charts': [
    ['GET', '/api/v1/latest?enterprise=bravo'],
    ['GET', '/api/v1/enterprises/bravo/devices/gas-9/latest'],
    ['GET', '/api/v1/enterprises/bravo/devices/gas-9/chart'],
    ['GET', '/api/v1/enterprises/bravo/devices/gas-9/readings/export?from=0&format=csv'],
  ],
  maintenance: [
    ['GET', '/api/v1/maintenance?enterprise=bravo'],
    ['POST', '/api/v1/maintenance', { enterprise: 'bravo', device: 'gas-9', minutes: 60, reason: 'hide alarms' }],
  ],
  alarms: [
    ['GET', '/api/v1/alarms?enterprise=bravo'],
    ['GET', '/api/v1/alarms/export?enterprise=bravo&format=csv'],
    ['GET', '/api/v1/alarms/export?enterprise=bravo&format=xlsx'],
  ],
  audit: [
    ['GET', '/api/v1/audit?enterprise=bravo'],
    ['GET', '/api/v1/audit/export?enterprise=bravo'],
  ],
  accounts: [
    ['GET', '/api/v1/accounts'],
    ['POST', '/api/v1/accounts', { username: 'evil', password: 'evil-password-1', role: 'enterprise', enterprise: 'bravo' }],
    ['PATCH', '/api/v1/accounts/bravo-user', { password: 'evil-password-1' }],
  ],
};

describe('an enterprise user cannot reach another enterprise', () => {
  for (const [resource, requests] of Object.entries(FORBIDDEN)) {
    test(`${resource}: refused with 403`, async () => {
      for (const [method, url, body] of requests) {
        const res = await inject(method, url, acme, body);
        expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(403);
        expect(res.json().code).toBe('HW_ERR_FORBIDDEN');
      }
    });
  }

  test('alarms of another enterprise are "not found" for every action (ids are not confirmed to exist)', async () => {
    const attempts: [string, string, unknown?][] = [
      ['GET', `/api/v1/alarms/${bravoAlarm}`],
      ['POST', `/api/v1/alarms/${bravoAlarm}/acknowledge`, {}],
      ['POST', `/api/v1/alarms/${bravoAlarm}/feedback`, { cause: 'false_alarm', measures: 'none' }],
      ['POST', `/api/v1/alarms/${bravoAlarm}/shelve`, { minutes: 10, reason: 'x' }],
      ['POST', `/api/v1/alarms/${bravoAlarm}/unshelve`, {}],
      ['POST', `/api/v1/alarms/${bravoAlarm}/clear`, { reason: 'x' }],
      ['POST', `/api/v1/alarms/${bravoAlarm}/close`, {}],
      ['POST', `/api/v1/maintenance/${bravoWindow}/end`],
    ];
    for (const [method, url, body] of attempts) {
      const res = await inject(method, url, acme, body);
      expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(404);
      expect(res.json().code).toBe('HW_ERR_NOT_FOUND');
    }
  });

  test('nothing of bravo changed', async () => {
    expect(h.registry.enterprise('bravo')!.name).toBe('Bravo Petrochem Ltd');
    const gas9 = h.registry.device('bravo', 'gas-9')!;
    expect(gas9).toMatchObject({ name: 'LPG detector', revokedAt: null });
    expect(gas9.meta.limits).toBeUndefined();
    expect(h.registry.device('bravo', 'evil')).toBeUndefined();
    expect(await h.alarms.get(bravoAlarm)).toEqual(bravoBefore);
    expect((await h.alarms.history(bravoAlarm)).map((e) => e.action)).toEqual(bravoHistory);
    expect(bravoHistory).not.toContain('acknowledged');
    const windows = await h.alarms.maintenance({ enterprise: 'bravo' });
    expect(windows).toHaveLength(1);
    expect(windows[0].endedAt).toBeNull();
    const accounts = (await inject('GET', '/api/v1/accounts', admin)).json();
    expect(accounts.map((a: { username: string }) => a.username)).not.toContain('evil');
    await login(h, 'bravo-user', 'bravo-password-1');
  });

  test('lists show only the own enterprise', async () => {
    const only = (items: { enterprise?: string; id?: string }[], key: 'enterprise' | 'id' = 'enterprise') => [...new Set(items.map((i) => i[key]))];
    expect(only((await inject('GET', '/api/v1/enterprises', acme)).json(), 'id')).toEqual(['acme']);
    expect(only((await inject('GET', '/api/v1/hazard-sources', acme)).json())).toEqual(['acme']);
    expect(only((await inject('GET', '/api/v1/devices', acme)).json())).toEqual(['acme']);
    expect(only((await inject('GET', '/api/v1/latest', acme)).json())).toEqual(['acme']);
    expect(only((await inject('GET', '/api/v1/maintenance', acme)).json())).toEqual([]);
    const alarms = (await inject('GET', '/api/v1/alarms', acme)).json();
    expect(alarms.alarms.map((a: { id: string }) => a.id)).toEqual([acmeAlarm]);
    expect(alarms.total).toBe(1);
    const overview = (await inject('GET', '/api/v1/overview', acme)).json();
    expect(overview.enterprises.map((e: { id: string }) => e.id)).toEqual(['acme']);
    expect(only(overview.sources)).toEqual(['acme']);
    expect(overview.counts).toEqual({ 1: 0, 2: 1, 3: 0, 4: 0 });
    const audit = (await inject('GET', '/api/v1/audit', acme)).json();
    expect(audit.length).toBeGreaterThan(0);
    expect(only(audit)).toEqual(['acme']);
  });

  test('the live stream carries only the own enterprise\'s alarm changes', async () => {
    const res = await fetch(`${h.api.url}/api/v1/stream?values=false`, { headers: acme });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const events: string[] = [];
    const decoder = new TextDecoder();
    let buffer = '';
    const readUntil = async (pred: () => boolean) => {
      while (!pred()) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        const parts = buffer.split('\n\n');
        buffer = parts.pop()!;
        events.push(...parts);
      }
    };
    await readUntil(() => events.some((e) => e.includes('event: hello')));
    await raiseAlarm(h, 'bravo', 'gas-9', 2, 'HW_ALM_GAS_LEL_HIGH'); // escalation of bravo's alarm
    const second = await raiseAlarm(h, 'acme', 'tank-1', 3, 'HW_ALM_LEVEL_HIGH');
    await readUntil(() => events.some((e) => e.includes(second.id)));
    await reader.cancel();
    const alarmEvents = events.filter((e) => e.includes('event: alarm'));
    expect(alarmEvents.length).toBeGreaterThan(0);
    for (const e of alarmEvents) expect(e).not.toContain('"enterprise":"bravo"');
  });
});
