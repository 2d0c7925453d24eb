// Alarm-quality figures: the computation on a crafted month (rates, floods, bad actors, chattering,
// standing alarms, response times), and the API and monthly report on real stores, within the caller's scope.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alarm } from '../../contract/alarms.ts';
import { alarmQuality } from '../alarm-quality.ts';
import { seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

const MIN = 60_000;
const FROM = Date.UTC(2026, 10, 1) - 8 * 3_600_000; // 2026-11-01 00:00 China Standard Time
const TO = FROM + 30 * 24 * 60 * MIN;

let n = 0;
function alarm(over: Partial<Alarm> & Pick<Alarm, 'raisedAt'>): Alarm {
  n++;
  return {
    id: `a${n}`,
    enterprise: 'acme',
    device: 'gas-1',
    deviceClass: 'gas_combustible',
    site: '',
    hazardSource: null,
    condition: 'HW_ALM_GAS_LEL_HIGH',
    level: 2,
    peakLevel: 2,
    state: 'closed',
    metric: 'lel',
    value: 30,
    threshold: 25,
    message: '',
    messageZh: null,
    updatedAt: over.raisedAt,
    acknowledgedAt: null,
    acknowledgedBy: null,
    clearedAt: over.raisedAt + MIN,
    closedAt: null,
    closedBy: null,
    shelvedUntil: null,
    cause: null,
    parentId: null,
    snapshot: null,
    ...over,
  };
}

describe('alarm-quality figures', () => {
  const t = (minutes: number) => FROM + minutes * MIN;
  const alarms: Alarm[] = [
    // A flood: 12 alarms within one 10-minute interval (minutes 100-109), on 4 devices.
    ...Array.from({ length: 12 }, (_, i) => alarm({ raisedAt: t(100) + i * 25_000, device: `gas-${(i % 4) + 1}`, acknowledgedAt: t(100) + i * 25_000 + 2 * MIN, closedAt: t(100) + i * 25_000 + 30 * MIN })),
    // A second flood interval right after it (minutes 110-119): 11 alarms of one tank, chattering (every 20 s).
    ...Array.from({ length: 11 }, (_, i) => alarm({ raisedAt: t(110) + i * 20_000, device: 'tank-1', condition: 'HW_ALM_LEVEL_HIGH', level: 3, peakLevel: 3 })),
    // A red alarm acknowledged in 1 minute, a consequence under it.
    alarm({ id: 'red', raisedAt: t(2000), level: 1, peakLevel: 1, acknowledgedAt: t(2001), closedAt: t(2060) }),
    alarm({ raisedAt: t(2000) + 1000, condition: 'HW_ALM_INTERLOCK_TRIP', device: 'tank-1', parentId: 'red' }),
    // Standing: active for 3 days at the end; and one raised before the period, still active.
    alarm({ id: 'standing', raisedAt: TO - 3 * 24 * 60 * MIN, state: 'active_acknowledged', clearedAt: null, device: 'o2-1', condition: 'HW_ALM_O2_LOW' }),
    alarm({ id: 'old', raisedAt: FROM - 5 * 24 * 60 * MIN, state: 'active_unacknowledged', clearedAt: null, device: 'o2-2', condition: 'HW_ALM_O2_LOW' }),
    // Outside the period: not counted.
    alarm({ raisedAt: TO + MIN }),
  ];
  const f = alarmQuality(alarms, FROM, TO);

  test('counts rates per 10 minutes and per day, and what an operator must act on', () => {
    expect(f.raised).toBe(26);
    expect(f.actionable).toBe(25);
    expect(f.perTenMinutes).toEqual({ average: Math.round((26 / (30 * 144)) * 100) / 100, peak: 12, peakAt: t(100) });
    expect(f.perDay.peak).toBe(23);
  });

  test('finds the floods, the bad actors, the chattering and the standing alarms', () => {
    expect(f.flood).toEqual({ intervals: 2, share: Math.round((2 / (30 * 144)) * 10_000) / 10_000, longestMinutes: 20 });
    expect(f.topTen[0]).toMatchObject({ device: 'tank-1', condition: 'HW_ALM_LEVEL_HIGH', count: 11 });
    expect(f.topTen.length).toBeLessThanOrEqual(10);
    expect(f.chattering.map((c) => `${c.device} ${c.condition}`).sort()).toEqual(['tank-1 HW_ALM_LEVEL_HIGH']);
    expect(f.standing.map((s) => [s.id, s.activeHours])).toEqual([
      ['old', 35 * 24],
      ['standing', 72],
    ]);
  });

  test('gives response times by level', () => {
    expect(f.response[1].acknowledge).toEqual({ count: 1, medianMinutes: 1, p90Minutes: 1 });
    expect(f.response[2].acknowledge).toEqual({ count: 12, medianMinutes: 2, p90Minutes: 2 });
    expect(f.response[2].close.count).toBe(12);
    expect(f.response[3].unacknowledged).toBe(11);
    expect(f.byLevel).toEqual({ 1: 1, 2: 14, 3: 11, 4: 0 });
  });
});

describe('alarm-quality API and monthly report', () => {
  let h: Harness;
  let admin: Record<string, string>;
  const inject = (url: string, headers: Record<string, string>) => h.api.app.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    h = await startHarness();
    await seedPlant(h);
    admin = await login(h, ADMIN.username, ADMIN.password);
    const res = await h.api.app.inject({ method: 'POST', url: '/api/v1/accounts', headers: admin, payload: { username: 'acme-user', password: 'acme-user-password-1', role: 'enterprise', enterprise: 'acme' } });
    expect(res.statusCode, res.body).toBe(201);
    // Three alarms in November (CST), two of acme and one of bravo, signed for at different speeds.
    const raise = async (enterprise: string, device: string, at: number) => {
      h.clock.t = at;
      const d = h.registry.device(enterprise, device)!;
      return (await h.alarms.raise({ enterprise, device, deviceClass: d.class, site: d.site, hazardSource: d.hazardSource, condition: 'HW_ALM_GAS_LEL_HIGH', level: 2, metric: 'lel', value: 30, threshold: 25, message: 'lel 30', at }))!.alarm;
    };
    const a = await raise('acme', 'gas-1', FROM + 60 * MIN);
    h.clock.t = FROM + 64 * MIN;
    await h.alarms.acknowledge(a.id, 'op');
    await h.alarms.clearAuto(a.id, 0, FROM + 70 * MIN);
    await raise('acme', 'gas-1', FROM + 3 * 24 * 60 * MIN);
    await raise('bravo', 'gas-9', FROM + 4 * 24 * 60 * MIN);
    h.clock.t = FROM + 45 * 24 * 60 * MIN; // mid-December: November is the last complete month
    admin = await login(h, ADMIN.username, ADMIN.password);
  });

  afterAll(async () => {
    await h?.close();
  });

  test('figures over a period, limited to the enterprise of an enterprise user', async () => {
    const all = (await inject(`/api/v1/alarm-quality?from=${FROM}&to=${TO}`, admin)).json();
    expect(all.raised).toBe(3);
    expect(all.response[2].acknowledge).toEqual({ count: 1, medianMinutes: 4, p90Minutes: 4 });
    expect(all.benchmarks.floodAlarmsPerTenMinutes).toBe(10);
    const acme = await login(h, 'acme-user', 'acme-user-password-1');
    const own = (await inject(`/api/v1/alarm-quality?from=${FROM}&to=${TO}`, acme)).json();
    expect([own.raised, own.enterprise]).toEqual([2, 'acme']);
    expect((await inject(`/api/v1/alarm-quality?from=${FROM}&to=${TO}&enterprise=bravo`, acme)).statusCode).toBe(403);
    expect((await inject(`/api/v1/alarm-quality?from=${TO}&to=${FROM}`, admin)).statusCode).toBe(400);
  });

  test('the monthly report is a printable page in Chinese or English', async () => {
    const zh = await inject('/api/v1/alarm-quality/report', admin);
    expect(zh.statusCode, zh.body).toBe(200);
    expect(zh.headers['content-type']).toContain('text/html');
    expect(zh.body).toContain('报警质量月报');
    expect(zh.body).toContain('可燃气体浓度超限');
    // Three alarms raised in the month: the summary says so.
    expect(zh.body).toMatch(/产生报警<\/td><td>3<\/td>/);
    const en = await inject('/api/v1/alarm-quality/report?month=2026-11&lang=en&enterprise=acme', admin);
    expect(en.body).toContain('Alarm quality, monthly report');
    expect(en.body).toMatch(/Alarms raised<\/td><td>2<\/td>/);
    expect((await inject('/api/v1/alarm-quality/report?month=2026-13', admin)).statusCode).toBe(400);
  });
});
