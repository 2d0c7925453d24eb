// Issue 15's done-when, in headless Chromium on the real API: the demo's city, county, park and
// enterprise accounts each see exactly their part of the demo's tree (seeded by the demo's own code,
// api.autoPlan + api.demoLogin), manage it from the console, find a past alarm, export it and watch the
// wall. Every check compares what the page shows with what this file wrote: the alarm list and its
// enterprise filter, '#/search' by time range and level (an alarm 40 days old, beyond the list's week),
// its CSV export, the wall's counts by level and state, and '#/admin'. Then the accounts tab's
// jurisdiction picker: the city administrator creates a county account, which signs in and sees its
// county only, and moves it to another county: its session ends, and signed in again it sees that one.
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Alarm } from '../../contract/alarms.ts';
import { DEMO_JURISDICTION_ENTERPRISES } from '../../registry/jurisdictions.ts';
import { DEMO_ACCOUNTS } from '../start.ts';
import { englishIn, HAS_CHROMIUM, launchBrowser, consoleSignIn } from './browser.ts';
import { raiseAlarm } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const PASSWORD = 'hazwatch-demo';
const ENTERPRISES = DEMO_JURISDICTION_ENTERPRISES.map((e) => e.id); // demo-chem, demo-gas, demo-coat
/** What each demo account sees (docs/jurisdictions.md#demo): the table the whole file checks. */
const SEES: Record<string, string[]> = {
  'demo-city': ['demo-chem', 'demo-gas', 'demo-coat'],
  'demo-county': ['demo-chem', 'demo-gas'],
  'demo-park': ['demo-chem'],
  'demo-chem': ['demo-chem'],
};

let h: Harness;
let browser: Browser;
const NOW = Date.now();
// 40 days ago on the hour: older than the week the alarm list loads, found by search only.
const OLD = Math.floor((NOW - 40 * DAY) / HOUR) * HOUR;
/** The alarms written, per enterprise: open (A unacknowledged, B acknowledged), closed this week (C), closed 40 days ago (D). */
const seeded = new Map<string, { A: Alarm; B: Alarm; C: Alarm; D: Alarm }>();

/** Raises at `at` through the harness's store (as fixture.ts does), then takes it through the closed loop as far as asked. */
async function alarmAt(at: number, enterprise: string, device: 'gas-1' | 'tank-1', level: 1 | 2 | 3 | 4, until: 'open' | 'acknowledged' | 'cleared' | 'closed') {
  h.clock.t = at;
  const raised = await raiseAlarm(h, enterprise, device, level, device === 'gas-1' ? 'HW_ALM_GAS_LEL_HIGH' : 'HW_ALM_LEVEL_HIGH');
  let alarm = raised;
  if (until !== 'open') alarm = (await h.alarms.acknowledge(raised.id, 'demo')).alarm;
  if (until === 'cleared' || until === 'closed') alarm = (await h.alarms.clearAuto(raised.id, 1, at + MINUTE))!.alarm;
  if (until === 'closed') alarm = (await h.alarms.closeAlarm(raised.id, 'demo', '已处置')).alarm;
  return alarm;
}

beforeAll(async () => {
  // The demo's own seeding: its tree, its two enterprises beside demo-chem, its accounts.
  h = await startHarness({ api: { demo: true, demoLogin: true, autoPlan: true } });
  const admin = await login(h, ADMIN.username, ADMIN.password);
  if (!h.registry.enterprise('demo-chem')) await h.registry.addEnterprise('demo-chem', '演示化工有限公司');
  for (const e of ENTERPRISES) {
    await h.registry.addDevices([
      { enterprise: e, id: 'gas-1', class: 'gas_combustible', name: '可燃气体探测器' },
      { enterprise: e, id: 'tank-1', class: 'vessel', name: '储罐液位计' },
    ]);
  }
  // Oldest first: a device's next alarm on a condition is raised after the last one cleared.
  for (const [i, e] of ENTERPRISES.entries()) {
    const D = await alarmAt(OLD + i * MINUTE, e, 'tank-1', 2, 'closed');
    const C = await alarmAt(NOW - 3 * DAY + i * MINUTE, e, 'gas-1', 1, 'closed');
    // demo-chem's B is cleared and signed for (waiting to be closed); the others' still active.
    const B = await alarmAt(NOW - (30 + i) * MINUTE, e, 'tank-1', ([3, 4, 2] as const)[i]!, i === 0 ? 'cleared' : 'acknowledged');
    const A = await alarmAt(NOW - (10 + i) * MINUTE, e, 'gas-1', ([2, 1, 3] as const)[i]!, 'open');
    seeded.set(e, { A, B, C, D });
  }
  // The platform's own alarms (ingest's spool), old and open: platform-wide accounts only.
  for (const [at, close] of [[OLD + 5 * MINUTE, true], [NOW - 5 * MINUTE, false]] as const) {
    h.clock.t = at;
    const p = (await h.alarms.raise({ enterprise: 'platform', device: 'ingest', deviceClass: 'platform', site: '', hazardSource: null, condition: 'HW_ALM_INGEST_BACKPRESSURE', level: 2, metric: 'spool_fill', value: 0.9, threshold: null, message: 'spool filling', at }))!;
    if (close) {
      await h.alarms.acknowledge(p.alarm.id, 'demo');
      await h.alarms.clearAuto(p.alarm.id, 0.1, at + MINUTE);
      await h.alarms.closeAlarm(p.alarm.id, 'demo');
    }
  }
  h.clock.t = Date.now();
  // A maintenance window in Fengxian's enterprise (the county and the park must not see it): its tank's
  // alarm goes out of service, listed as open but no longer on the wall.
  const res = await h.api.app.inject({ method: 'POST', url: '/api/v1/maintenance', headers: admin, payload: { enterprise: 'demo-coat', device: 'tank-1', minutes: 120, reason: '校准' } });
  expect(res.statusCode, res.body).toBe(201);
  for (const p of seeded.values()) for (const k of ['A', 'B', 'C', 'D'] as const) p[k] = (await h.alarms.get(p[k].id))!;
  expect(seeded.get('demo-coat')!.B.state).toBe('out_of_service');
  if (HAS_CHROMIUM) browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

const mine = (who: string) => SEES[who]!.map((e) => seeded.get(e)!);
const sorted = (xs: Iterable<string>) => [...xs].sort();
/** What the page shows as ids: the values of an attribute on the elements found. */
const attrs = (page: Page, selector: string, name: string) => page.locator(selector).evaluateAll((els, n) => els.map((el) => el.getAttribute(n) ?? ''), name).then(sorted);
/** A local time in Shanghai for a datetime-local field. */
const local = (ms: number) => new Date(ms + 8 * HOUR).toISOString().slice(0, 16);

async function open(username: string, password = PASSWORD): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1600, height: 950 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await consoleSignIn(page, h.api.url, username, password);
  await page.waitForSelector('[data-testid=admin-link]');
  return { context, page, errors };
}

const go = (page: Page, hash: string) => page.evaluate((x) => (location.hash = x), hash);
const listed = (page: Page) => attrs(page, '[data-testid=alarm-list] tr[data-alarm-id]', 'data-alarm-id');
const enterpriseFilter = (page: Page) => attrs(page, 'select[aria-label="企业"] option', 'value');

/** The alarm list (open, then all of the week) and its enterprise filter: exactly the account's part. */
async function checkAlarmList(page: Page, who: string) {
  const parts = mine(who);
  await expect.poll(() => listed(page)).toEqual(sorted(parts.flatMap((p) => [p.A.id, p.B.id])));
  await page.locator('.alarms .filters button').nth(1).click(); // 全部
  await expect.poll(() => listed(page)).toEqual(sorted(parts.flatMap((p) => [p.A.id, p.B.id, p.C.id])));
  const own = SEES[who]!;
  // One enterprise needs no filter; several: exactly those, and choosing one lists its alarms only.
  await expect.poll(() => enterpriseFilter(page)).toEqual(own.length > 1 ? sorted(['', ...own]) : []);
  if (own.length > 1) {
    const one = own.at(-1)!;
    await page.selectOption('select[aria-label="企业"]', one);
    const p = seeded.get(one)!;
    await expect.poll(() => listed(page)).toEqual(sorted([p.A.id, p.B.id, p.C.id]));
    await page.selectOption('select[aria-label="企业"]', '');
  }
  // The table under the map: a row per enterprise in scope.
  await expect.poll(() => attrs(page, '[data-testid=enterprise-table] tr[data-enterprise]', 'data-enterprise')).toEqual(sorted(own));
}

/** '#/search': the alarms of 40 days ago at level 2 — its own, not another enterprise's or the platform's; then their CSV. */
async function checkSearchAndExport(page: Page, who: string) {
  await page.click('[data-testid=search-link]');
  await page.waitForSelector('[data-testid=search-form]');
  await page.fill('input[name=from]', local(OLD - 30 * MINUTE));
  await page.fill('input[name=to]', local(OLD + 30 * MINUTE));
  await page.selectOption('select[name=level]', '2');
  await page.click('[data-testid=search-form] button[type=submit]');
  const expected = sorted(mine(who).map((p) => p.D.id));
  await expect.poll(() => attrs(page, '[data-testid=search-results] tbody tr', 'data-id')).toEqual(expected);
  expect(await page.locator('[data-testid=search-total]').textContent()).toContain(`共 ${expected.length} 条`);
  // The CSV link of this search, downloaded with the page's session: exactly these alarms.
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=export-csv]')]);
  const rows = Papa.parse<string[]>(readFileSync((await dl.path())!).toString('utf8').slice(1), { skipEmptyLines: true }).data;
  expect(rows[0]!.slice(0, 1)).toEqual(['报警编号']);
  expect(sorted(rows.slice(1).map((r) => r[0]!))).toEqual(expected);
  expect(sorted(new Set(rows.slice(1).map((r) => r[5]!)))).toEqual(sorted(SEES[who]!));
}

/** '#/wall': counts by level and by state, and a row per enterprise, equal to its part. */
async function checkWall(page: Page, who: string) {
  await page.click('[data-testid=wall-link]');
  await page.waitForSelector('[data-testid=wall-levels]');
  const parts = mine(who);
  // Needing attention (the wall's levels): not signed for, or signed for and still active; demo-chem's B
  // is cleared and signed for (to close), demo-coat's out of service.
  const attention = parts.flatMap((p) => [p.A, p.B]).filter((a) => ['active_unacknowledged', 'active_acknowledged', 'cleared_unacknowledged'].includes(a.state));
  for (const l of [1, 2, 3, 4]) {
    await expect.poll(() => page.locator(`[data-testid=wall-level-${l}]`).getAttribute('data-count'), { message: `${who} level ${l}` }).toBe(String(attention.filter((a) => a.level === l).length));
  }
  const count = (state: string) => String(parts.flatMap((p) => [p.A, p.B]).filter((a) => a.state === state).length);
  await expect.poll(() => page.locator('[data-testid=wall-unacked]').getAttribute('data-count')).toBe(count('active_unacknowledged'));
  expect(await page.locator('[data-testid=wall-acked]').getAttribute('data-count')).toBe(count('active_acknowledged'));
  expect(await page.locator('[data-testid=wall-to-close]').getAttribute('data-count')).toBe(count('cleared_acknowledged'));
  await expect.poll(() => attrs(page, '[data-testid=wall-enterprises] tr[data-enterprise]', 'data-enterprise')).toEqual(sorted(SEES[who]!));
}

/** '#/admin/devices': the devices of its enterprises, and the enterprise choice offers those only. */
async function checkDevices(page: Page, who: string) {
  await go(page, '#/admin/devices');
  await expect.poll(() => attrs(page, '[data-testid=device-table] tr[data-device]', 'data-device')).toEqual(sorted(SEES[who]!.flatMap((e) => [`${e}/gas-1`, `${e}/tank-1`])));
  if (who !== 'demo-chem') await expect.poll(() => attrs(page, '[data-testid=admin-devices] select[name=enterprise] option', 'value')).toEqual(sorted(['', ...SEES[who]!]));
}
const tabs = (page: Page) => page.locator('[data-testid=admin] [role=tab]').evaluateAll((els) => els.map((el) => el.getAttribute('data-testid')!.replace('admin-tab-', '')));

// The Latin a Chinese page may show: the demo's ids, user names and display names, the device ids, the language switch.
const DATA_TEXT = [...ENTERPRISES, ...DEMO_ACCOUNTS.flatMap((a) => [a.displayName, a.username]), 'demo', 'admin', 'Administrator', 'Demo supervisor', 'gas-1', 'tank-1', 'fengxian-duty', 'EN'];

describe.skipIf(!HAS_CHROMIUM)('four accounts, one console', () => {
  test('the city administrator: three enterprises, their alarms, search, export, wall; devices and the accounts within the city', { timeout: 30_000 }, async () => {
    const { context, page, errors } = await open('demo-city');
    await expect.poll(() => page.locator('[data-testid=jurisdiction]').textContent()).toBe('上海市市辖区');
    await checkAlarmList(page, 'demo-city');
    await checkSearchAndExport(page, 'demo-city');
    await checkWall(page, 'demo-city');
    await go(page, '#/admin');
    await expect.poll(() => tabs(page)).toEqual(['devices', 'sources', 'accounts', 'rules', 'maintenance', 'audit']);
    await checkDevices(page, 'demo-city');
    expect(await page.locator('[data-testid=register-device]').count()).toBe(1);
    // Accounts: those within the city (its regulators and its enterprises' users), never a platform-wide one.
    await go(page, '#/admin/accounts');
    await expect.poll(() => attrs(page, '[data-testid=account-table] tr[data-account]', 'data-account')).toEqual(['demo-chem', 'demo-city', 'demo-county', 'demo-park']);
    expect(await page.locator('tr[data-account=demo-county] [data-testid=account-jurisdiction]').textContent()).toBe('金山区');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('the county supervisor: Jinshan\'s two enterprises; maintenance of its devices, nothing of Fengxian', { timeout: 30_000 }, async () => {
    const { context, page, errors } = await open('demo-county');
    await checkAlarmList(page, 'demo-county');
    await checkSearchAndExport(page, 'demo-county');
    await checkWall(page, 'demo-county');
    await go(page, '#/admin');
    await expect.poll(() => tabs(page)).toEqual(['devices', 'sources', 'rules', 'maintenance', 'audit']);
    await checkDevices(page, 'demo-county');
    expect(await page.locator('[data-testid=register-device]').count()).toBe(0);
    // Maintenance: Fengxian's window is not listed; a window on a device of the town's gas station is started.
    await go(page, '#/admin/maintenance');
    await page.waitForSelector('[data-testid=no-windows]');
    await page.click('[data-testid=new-window]');
    await expect.poll(() => attrs(page, '[data-testid=window-form] select[name=enterprise] option', 'value')).toEqual(['demo-chem', 'demo-gas']);
    await page.selectOption('[data-testid=window-form] select[name=enterprise]', 'demo-gas');
    await expect.poll(() => attrs(page, '[data-testid=window-form] select[name=device] option', 'value')).toEqual(['gas-1', 'tank-1']);
    await page.selectOption('[data-testid=window-form] select[name=device]', 'tank-1');
    await page.fill('[data-testid=window-form] input[name=reason]', '液位计检修');
    await page.click('[data-testid=form-submit]');
    await expect.poll(() => page.locator('[data-testid=window-table] tbody tr').allTextContents()).toEqual([expect.stringContaining('demo-gas/tank-1')]);
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('the park supervisor: the park\'s one enterprise, everywhere', { timeout: 30_000 }, async () => {
    const { context, page, errors } = await open('demo-park');
    await checkAlarmList(page, 'demo-park');
    await checkSearchAndExport(page, 'demo-park');
    await checkWall(page, 'demo-park');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await go(page, '#/admin');
    await expect.poll(() => tabs(page)).toEqual(['devices', 'sources', 'rules', 'maintenance', 'audit']);
    await checkDevices(page, 'demo-park');
    await go(page, '#/admin/maintenance');
    await page.waitForSelector('[data-testid=window-table]');
    await expect.poll(() => page.locator('[data-testid=window-table] tbody tr').allTextContents()).toEqual([]);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('the enterprise user: its own enterprise; registers devices, no accounts', { timeout: 30_000 }, async () => {
    const { context, page, errors } = await open('demo-chem');
    await checkAlarmList(page, 'demo-chem');
    await checkSearchAndExport(page, 'demo-chem');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await checkWall(page, 'demo-chem');
    await go(page, '#/admin');
    await expect.poll(() => tabs(page)).toEqual(['devices', 'sources', 'rules', 'maintenance', 'audit']);
    await checkDevices(page, 'demo-chem');
    expect(await page.locator('[data-testid=register-device]').count()).toBe(1);
    expect(errors).toEqual([]);
    await context.close();
  });

  test('the county, page by page: no answer of the API names Fengxian\'s enterprise; its device\'s link says so in Chinese', { timeout: 30_000 }, async () => {
    const { context, page, errors } = await open('demo-county');
    // Every successful API answer the console receives (the live stream excepted: it never ends).
    const answers: string[] = [];
    // The requests in flight by identity, not a counter: one asked before these listeners existed (the
    // console polls) would otherwise end below zero (failed in CI: -1).
    const inFlight = new Set<unknown>();
    const api = (url: string) => url.includes('/api/v1/') && !url.includes('/api/v1/stream');
    page.on('request', (r) => void (api(r.url()) && inFlight.add(r)));
    page.on('requestfailed', (r) => void inFlight.delete(r));
    page.on('requestfinished', (r) => void inFlight.delete(r));
    page.on('response', async (r) => {
      if (api(r.url()) && r.ok()) answers.push(`${r.url()} ${await r.text().catch(() => '')}`);
    });
    const FENGXIAN = /demo-coat|南桥|奉贤|310120/;
    for (const hash of ['#/duty', '#/warnings', '#/resources', '#/dangers', '#/quality', '#/jurisdictions', '#/admin/sources', '#/admin/rules', '#/admin/audit', '#/admin/maintenance', '#/device/demo-chem/gas-1', '#/']) {
      await go(page, hash);
      // Settled: nothing asked of the API for a moment.
      await expect.poll(async () => (inFlight.size === 0 ? (await page.waitForTimeout(150), inFlight.size) : inFlight.size), { timeout: 5_000 }).toBe(0);
      expect(await page.locator('[role=alert]').allTextContents(), hash).toEqual([]);
      expect(FENGXIAN.exec(await page.locator('body').innerText())?.[0] ?? null, hash).toBeNull();
    }
    expect(answers.length).toBeGreaterThan(30);
    expect(answers.filter((a) => FENGXIAN.test(a))).toEqual([]);
    // A link to Fengxian's device (a stale bookmark): not found, said in the view's language.
    await go(page, '#/device/demo-coat/gas-1');
    await expect.poll(() => page.locator('.device .error').textContent()).toBe('没有这台设备（或不在您的辖区内）');
    expect(errors).toEqual([]);
    await context.close();
  });

  test('the city administrator places a new county account with the picker; it sees its county, is moved, signs in again and sees the other', { timeout: 30_000 }, async () => {
    const city = await open('demo-city');
    const page = city.page;
    await go(page, '#/admin/accounts');
    await page.click('[data-testid=new-account]');
    await page.fill('[data-testid=account-form] input[name=username]', 'fengxian-duty');
    await page.fill('[data-testid=account-form] input[name=displayName]', '奉贤区值班员');
    await page.selectOption('[data-testid=account-form] select[name=role]', 'supervisor');
    // Its own node and below; the whole platform is not offered to an administrator with a jurisdiction.
    expect(await page.locator('[data-testid=account-form] select[name=jurisdiction] option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(['310100', '310116', '310116103', 'jinshan-park', '310120', '310120101']);
    expect(await page.locator('[data-testid=account-form] select[name=jurisdiction]').inputValue()).toBe('310100');
    await page.selectOption('[data-testid=account-form] select[name=jurisdiction]', '310120');
    await page.fill('[data-testid=account-form] input[name=password]', 'fengxian-password-1');
    await page.click('[data-testid=form-submit]');
    const node = () => page.locator('tr[data-account=fengxian-duty] [data-testid=account-jurisdiction]').textContent();
    await expect.poll(node).toBe('奉贤区');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);

    // The new account signs in: Fengxian's enterprise and its alarms only, no enterprise to choose.
    const duty = await open('fengxian-duty', 'fengxian-password-1');
    await expect.poll(() => duty.page.locator('[data-testid=jurisdiction]').textContent()).toBe('奉贤区');
    const coat = seeded.get('demo-coat')!;
    await expect.poll(() => listed(duty.page)).toEqual(sorted([coat.A.id, coat.B.id]));
    expect(await enterpriseFilter(duty.page)).toEqual([]);

    // Moved to Jinshan by the city administrator: its sessions end with the change (accounts.update), and
    // signed in again it sees Jinshan's two enterprises.
    await page.click('tr[data-account=fengxian-duty] [data-testid=change-jurisdiction]');
    await page.selectOption('[data-testid=jurisdiction-form] select[name=jurisdiction]', '310116');
    await page.click('[data-testid=form-submit]');
    await expect.poll(node).toBe('金山区');
    await duty.page.reload();
    await duty.page.waitForSelector('[data-testid=login]');
    await duty.page.fill('input[name=username]', 'fengxian-duty');
    await duty.page.fill('input[name=password]', 'fengxian-password-1');
    await duty.page.click('button[type=submit]');
    await expect.poll(() => duty.page.locator('[data-testid=jurisdiction]').textContent()).toBe('金山区');
    await expect.poll(() => enterpriseFilter(duty.page)).toEqual(['', 'demo-chem', 'demo-gas']);
    await expect.poll(() => listed(duty.page)).toEqual(sorted(['demo-chem', 'demo-gas'].flatMap((e) => [seeded.get(e)!.A.id, seeded.get(e)!.B.id])));
    // The change is audited as the city administrator's.
    const audit = await h.api.app.inject({ method: 'GET', url: '/api/v1/audit?action=account.update', headers: await login(h, ADMIN.username, ADMIN.password) });
    expect(audit.json().some((e: { target: string; username: string }) => e.target === 'fengxian-duty' && e.username === 'demo-city')).toBe(true);
    expect([...city.errors, ...duty.errors]).toEqual([]);
    await duty.context.close();
    await city.context.close();
  });
});
