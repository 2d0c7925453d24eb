// The hidden-danger pages in Chromium (issue 16): an enterprise user opens a danger from an alarm's
// detail (one click, prefilled), uploads a photo and marks it rectified, in Chinese; a supervisor, in
// English, fails the recheck (a new deadline), the enterprise proves it again, the supervisor passes
// it and closes it; an overdue danger shows on the map and in the top bar, and a click opens it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { englishIn, HAS_CHROMIUM, launchBrowser, shot } from './browser.ts';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64');
// What the fixture and the test wrote, the unit of the alarm's reading (%LEL, in the description taken
// from the alarm) and the language switch: the only Latin a Chinese page may show.
const DATA_TEXT = ['acme-user', 'acme', 'gas-1', 'tankfarm', 'photo.png', 'after.png', 'LEL', 'EN'];

let h: Harness;
let browser: Browser;
let zh: BrowserContext;
let en: BrowserContext;
let profile: string;

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  const admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [['sup', 'supervisor', null], ['acme-user', 'enterprise', 'acme']] as const) {
    const res = await h.api.app.inject({ method: 'POST', url: '/api/v1/accounts', headers: admin, payload: { username, password: `${username}-password-1`, role, enterprise } });
    expect(res.statusCode).toBe(201);
  }
  if (!HAS_CHROMIUM) return;
  profile = mkdtempSync(join(tmpdir(), 'hazwatch-chromium-'));
  browser = await launchBrowser();
  zh = await browser.newContext({ viewport: { width: 1500, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  en = await browser.newContext({ viewport: { width: 1500, height: 900 }, locale: 'en-GB', timezoneId: 'Asia/Shanghai' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function signIn(page: Page, username: string) {
  await page.goto(`${h.api.url}/`);
  // A context signed in before (the session cookie) goes straight to the console.
  await page.waitForSelector('input[name=username], [data-testid=dangers-link]');
  if (await page.locator('[data-testid=dangers-link]').count()) return;
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', `${username}-password-1`);
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=dangers-link]');
}

const state = (page: Page) => page.locator('[data-testid=danger-detail]').getAttribute('data-state');
const historyActions = (page: Page) => page.locator('[data-testid=danger-history] tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action-done')));
async function act(page: Page, action: string, note?: string) {
  await page.click(`[data-testid=danger-detail] header button[data-action=${action}]`);
  if (note !== undefined) await page.fill('[data-testid=danger-action] textarea[name=note]', note);
  await page.click('[data-testid=danger-action] button[type=submit]');
  await page.waitForSelector('[data-testid=danger-action]', { state: 'detached' });
}
async function uploadPhoto(page: Page, name: string) {
  const before = await page.locator('[data-testid=evidence]').count();
  await page.setInputFiles('[data-testid=evidence-file]', { name, mimeType: 'image/png', buffer: PNG });
  await expect.poll(() => page.locator('[data-testid=evidence]').count()).toBe(before + 1);
}

describe.skipIf(!HAS_CHROMIUM)('hidden dangers in Chromium', () => {
  test('from an alarm to closure: opened and rectified by the enterprise (zh), rechecked failed then passed and closed by a supervisor (en)', async () => {
    const errors: string[] = [];
    const alarm = await raiseAlarm(h, 'acme', 'gas-1', 2);
    const acme = await zh.newPage();
    acme.on('pageerror', (e) => errors.push(e.message));
    await signIn(acme, 'acme-user');

    // The alarm's detail: one click opens the form, prefilled from the alarm.
    await acme.click(`[data-alarm-id="${alarm.id}"] button[data-action=history]`);
    await acme.click('[data-testid=open-danger]');
    await expect.poll(() => acme.inputValue('[data-testid=danger-form] input[name=title]')).toBe('可燃气体浓度超限 · gas-1');
    expect(acme.url()).toContain(`#/dangers?alarm=${alarm.id}`);
    expect(await acme.inputValue('[data-testid=danger-form] select[name=grade]')).toBe('major');
    expect(await acme.inputValue('[data-testid=danger-form] select[name=hazardSource]')).toBe('tankfarm');
    expect(await acme.locator('[data-testid=from-alarm]').textContent()).toContain('gas-1');
    await acme.fill('[data-testid=danger-form] input[name=responsible]', '张工');
    await acme.fill('[data-testid=danger-form] input[name=phone]', '13800000000');
    await acme.click('[data-testid=danger-form] button[type=submit]');
    await acme.waitForSelector('[data-testid=danger-detail]');
    const id = (await acme.locator('[data-testid=danger-detail]').getAttribute('data-danger-id'))!;
    expect(await state(acme)).toBe('open');
    expect(await acme.locator('[data-testid=danger-detail] header').textContent()).toContain('重大隐患');
    expect(await acme.locator('[data-testid=danger-detail] header').textContent()).toContain('整改中');
    // The enterprise may mark it rectified, not recheck it.
    expect(await acme.locator('header button[data-action]').evaluateAll((b) => b.map((x) => x.getAttribute('data-action')))).toEqual(['rectify']);

    // Not rectified without evidence: the server says why, in the page.
    await acme.click('header button[data-action=rectify]');
    await acme.click('[data-testid=danger-action] button[type=submit]');
    await expect.poll(() => acme.locator('[data-testid=danger-action] [role=alert]').count()).toBe(1);
    await acme.click('[data-testid=danger-action] button[type=button]');

    await uploadPhoto(acme, 'photo.png');
    // The thumbnail is the photo itself, served by the API.
    await expect.poll(() => acme.locator('[data-testid=evidence] img').evaluate((img) => (img as HTMLImageElement).naturalWidth)).toBe(1);
    expect(await acme.locator('[data-testid=evidence]').getAttribute('href')).toMatch(new RegExp(`/api/v1/dangers/${id}/evidence/\\d+$`));
    await act(acme, 'rectify', '已清理遮挡物');
    await expect.poll(() => state(acme)).toBe('rectified');
    expect(await acme.locator('[data-testid=danger-detail] header').textContent()).toContain('待复查');
    expect(await historyActions(acme)).toEqual(['opened', 'evidence_added', 'rectified']);
    await shot(acme, 'console-danger-zh');
    expect(await englishIn(acme, DATA_TEXT)).toEqual([]);

    // The supervisor, in English: the list, then the recheck fails with a new deadline.
    const sup = await en.newPage();
    sup.on('pageerror', (e) => errors.push(e.message));
    await signIn(sup, 'sup');
    await sup.click('[data-testid=dangers-link]');
    const row = sup.locator(`[data-testid=danger-list] tr[data-danger-id="${id}"]`);
    await expect.poll(() => row.textContent()).toContain('Awaiting recheck');
    expect(await row.textContent()).toContain('Major');
    await shot(sup, 'console-dangers');
    await row.locator('a').click();
    await sup.waitForSelector('[data-testid=danger-detail]');
    expect(await sup.locator('header button[data-action]').evaluateAll((b) => b.map((x) => x.getAttribute('data-action')))).toEqual(['pass', 'fail']);
    await sup.click('header button[data-action=fail]');
    expect(await sup.inputValue('[data-testid=danger-action] input[name=deadline]')).not.toBe('');
    await sup.fill('[data-testid=danger-action] textarea[name=note]', 'Still covered');
    await sup.click('[data-testid=danger-action] button[type=submit]');
    await expect.poll(() => state(sup)).toBe('open');
    expect(await sup.locator('[data-testid=danger-history]').textContent()).toContain('Recheck failed');
    expect(await sup.locator('[data-testid=danger-history]').textContent()).toContain('Still covered');

    // The enterprise proves it again.
    await acme.reload();
    await acme.waitForSelector('[data-testid=danger-detail]');
    expect(await state(acme)).toBe('open');
    await uploadPhoto(acme, 'after.png');
    await act(acme, 'rectify', '已移除');
    await expect.poll(() => state(acme)).toBe('rectified');

    // Passed, then closed.
    await sup.reload();
    await sup.waitForSelector('[data-testid=danger-detail] header button[data-action=pass]');
    await act(sup, 'pass', 'Checked on site');
    await expect.poll(() => state(sup)).toBe('rechecked');
    expect(await sup.locator('header').last().textContent()).toContain('Recheck passed');
    await act(sup, 'close', '');
    await expect.poll(() => state(sup)).toBe('closed');
    expect(await sup.locator('header button[data-action]').count()).toBe(0);
    expect(await historyActions(sup)).toEqual(['opened', 'evidence_added', 'rectified', 'recheck_failed', 'evidence_added', 'rectified', 'recheck_passed', 'closed']);
    expect(await sup.locator('[data-testid=evidence]').count()).toBe(2);

    // Closed, it is no longer the enterprise's to change.
    await acme.reload();
    await expect.poll(() => state(acme)).toBe('closed');
    expect(await acme.locator('[data-testid=evidence-file]').count()).toBe(0);
    expect(await acme.locator('[data-testid=danger-detail] header').textContent()).toContain('已闭环');
    expect(errors).toEqual([]);
  });

  test('an overdue danger: badge in the top bar, filter in the list, a marker on the map that opens it', async () => {
    const sup = await login(h, 'sup', 'sup-password-1');
    const res = await h.api.app.inject({
      method: 'POST',
      url: '/api/v1/dangers',
      headers: sup,
      payload: { enterprise: 'bravo', hazardSource: 'lpg', title: 'LPG spheres: relief valve blocked', grade: 'general', responsible: { name: 'Wang' }, deadline: h.clock.t + 60_000 },
    });
    expect(res.statusCode).toBe(201);
    const id = res.json().danger.id as string;
    h.clock.t += 2 * 60_000;

    const page = await en.newPage();
    await signIn(page, 'sup');
    await expect.poll(() => page.locator('[data-testid=dangers-overdue]').textContent()).toBe('1');
    await page.click('[data-testid=view-map]');
    const marker = page.locator(`[data-danger="${id}"]`);
    await expect.poll(() => marker.count()).toBe(1);
    // At the hazard source's coordinates, red-orange for a general danger.
    expect(Number(await marker.getAttribute('data-lat'))).toBeCloseTo(30.761, 6);
    expect(Number(await marker.getAttribute('data-lon'))).toBeCloseTo(121.269, 6);
    expect(await marker.getAttribute('data-colour')).toBe('orange');
    await page.locator('[data-testid=layers] [data-layer="dangers"] input').click();
    await expect.poll(() => marker.count()).toBe(0);
    await page.locator('[data-testid=layers] [data-layer="dangers"] input').click();
    await marker.click();
    await page.waitForSelector(`[data-testid=danger-detail][data-danger-id="${id}"]`);
    expect(await page.locator('[data-testid=overdue]').textContent()).toContain('Overdue');

    // The list's filter: overdue only.
    await page.goto(`${h.api.url}/#/dangers`);
    await page.check('[data-testid=danger-filters] input[name=overdue]');
    await expect.poll(() => page.locator('[data-testid=danger-list] tbody tr').count()).toBe(1);
    expect(await page.locator('[data-testid=danger-list] tbody tr').getAttribute('data-overdue')).toBe('true');
  });
});
