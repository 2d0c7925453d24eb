// The duty page '#/duty' in Chromium (issue 16): who is on duty now with names and phones, the week's
// roster, adding a shift by keyboard and form (an overlap refused with the server's reason), the
// handover signed out by one account and in by another, the kept record; Chinese without English, and
// the same screen in English.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { englishIn, HAS_CHROMIUM, launchBrowser, shot, consoleSignIn } from './browser.ts';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

const HOUR = 3_600_000;
let h: Harness;
let browser: Browser;
let profile: string;
/** The whole hour before now: shifts start on whole hours, as rosters do. */
let hour0: number;

const inject = (method: string, url: string, headers: Record<string, string>, payload?: unknown) =>
  h.api.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  const admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise, displayName] of [['sup', 'supervisor', null, '张主任'], ['op', 'operator', null, '李值班'], ['acme-user', 'enterprise', 'acme', '刘洋']] as const) {
    expect((await inject('POST', '/api/v1/accounts', admin, { username, password: `${username}-password-1`, role, enterprise, displayName })).statusCode).toBe(201);
  }
  const sup = await login(h, 'sup', 'sup-password-1');
  const ok = async (method: string, url: string, body: unknown) => {
    const res = await inject(method, url, sup, body);
    expect(res.statusCode, `${url} ${res.body}`).toBeLessThan(300);
    return res.json();
  };
  await ok('POST', '/api/v1/duty/units', { id: 'park', name: '金山化工园区', kind: 'park' });
  await ok('POST', '/api/v1/duty/units', { id: 'acme-unit', name: '甲化工中控室', kind: 'enterprise', parent: 'park', enterprise: 'acme' });
  await ok('POST', '/api/v1/duty/people', { id: 'park-zhao', unit: 'park', name: '赵磊', title: '值班员', phone: '13800002001', kinds: ['duty_officer'], username: 'sup' });
  await ok('POST', '/api/v1/duty/people', { id: 'park-sun', unit: 'park', name: '孙丽', title: '值班员', phone: '13800002002', kinds: ['duty_officer'] });
  await ok('POST', '/api/v1/duty/people', { id: 'park-he', unit: 'park', name: '何建军', title: '副主任', phone: '13800002101', email: 'he@park.example.org', kinds: ['leader'] });
  await ok('POST', '/api/v1/duty/people', { id: 'acme-liu', unit: 'acme-unit', name: '刘洋', phone: '13800003001', kinds: ['duty_officer'], username: 'acme-user' });
  hour0 = Math.floor(Date.now() / HOUR) * HOUR;
  h.clock.t = Date.now();
  await ok('POST', '/api/v1/duty/shifts', { unit: 'park', startsAt: hour0 - 2 * HOUR, endsAt: hour0 + 10 * HOUR, officers: ['park-zhao'], leader: 'park-he', note: '白班' });
  await ok('POST', '/api/v1/duty/shifts', { unit: 'acme-unit', startsAt: hour0 - HOUR, endsAt: hour0 + 11 * HOUR, officers: ['acme-liu'] });
  await raiseAlarm(h, 'acme', 'gas-1', 2);
  if (!HAS_CHROMIUM) return;
  profile = mkdtempSync(join(tmpdir(), 'hazwatch-chromium-'));
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function openDuty(username: string, password: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  await consoleSignIn(page, h.api.url, username, password);
  await page.click('[data-testid=duty-link]');
  await page.waitForSelector('[data-testid=duty-now] tbody tr');
  return page;
}

const chooseUnit = async (page: Page, unit: string) => {
  await page.selectOption('[data-testid=duty-unit]', unit);
  await page.waitForSelector('[data-testid=duty-people] tbody tr');
};

// Names and ids the test wrote, the demo-free top bar's language switch: the only Latin a Chinese page may show.
const DATA_TEXT = ['he@park.example.org', 'acme-user', 'acme', 'gas-1', 'sup', 'op', 'EN'];

describe.skipIf(!HAS_CHROMIUM)('the duty page in Chromium', () => {
  test('shows who is on duty, adds a shift by keyboard and form, and hands over between two accounts', async () => {
    const page = await openDuty('sup', 'sup-password-1');
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const duty = page.locator('[data-testid=duty]');
    // On duty now, per unit: the officer and the leader with their phones.
    await expect.poll(() => page.locator('[data-testid=duty-now] tr[data-unit=park]').innerText()).toContain('赵磊 13800002001');
    expect(await page.locator('[data-testid=duty-now] tr[data-unit=park]').innerText()).toContain('何建军 13800002101');
    expect(await page.locator('[data-testid=duty-now] tr[data-unit=acme-unit]').innerText()).toContain('刘洋 13800003001');
    expect(await page.locator('[data-testid=duty-now] tr[data-unit=park] a[href="tel:13800002001"]').count()).toBe(1);

    await chooseUnit(page, 'park');
    expect(await page.locator('[data-testid=duty-week] tbody tr[data-shift]').count()).toBe(1);
    expect(await page.locator('[data-testid=duty-people] tbody tr').count()).toBe(3);
    expect(await page.locator('[data-testid=duty-people] tr[data-person=park-he]').innerText()).toContain('带班领导');
    await expect.poll(() => page.locator('[data-testid=open-items]').innerText()).toContain('可燃气体浓度超限 · gas-1');
    expect(await englishIn(page, DATA_TEXT, duty)).toEqual([]);
    await shot(page, 'console-duty');

    // A shift by keyboard: the button takes Enter, the dialog takes the focus, Escape closes it.
    await page.focus('[data-testid=add-shift]');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-testid=shift-dialog]');
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('startsAt');
    await page.keyboard.press('Escape');
    expect(await page.locator('[data-testid=shift-dialog]').count()).toBe(0);

    // The new shift follows the day shift: 12 hours by default, the night officer and the leader.
    await page.click('[data-testid=add-shift]');
    const dialog = page.locator('[data-testid=shift-dialog]');
    const local = (ms: number) => new Date(ms + 8 * HOUR).toISOString().slice(0, 16);
    expect(await dialog.locator('input[name=startsAt]').inputValue()).toBe(local(hour0 + 10 * HOUR));
    expect(await dialog.locator('input[name=endsAt]').inputValue()).toBe(local(hour0 + 22 * HOUR));
    await dialog.locator('input[name=officer][value=park-sun]').check();
    await dialog.locator('select[name=leader]').selectOption('park-he');
    await dialog.locator('input[name=note]').fill('夜班');
    await dialog.locator('button[type=submit]').click();
    await expect.poll(() => page.locator('[data-testid=duty-week] tbody tr[data-shift]').count()).toBe(2);
    const night = page.locator('[data-testid=duty-week] tbody tr[data-shift]').nth(1);
    expect(await night.innerText()).toContain('孙丽');
    expect(await night.innerText()).toContain('夜班');
    const stored = (await inject('GET', '/api/v1/duty/shifts?unit=park', await login(h, 'op', 'op-password-1'))).json();
    expect(stored[1]).toMatchObject({ startsAt: hour0 + 10 * HOUR, endsAt: hour0 + 22 * HOUR, officers: ['park-sun'], leader: 'park-he', note: '夜班' });

    // An overlapping one is refused with the server's reason, and nothing is added.
    await page.click('[data-testid=add-shift]');
    await dialog.locator('input[name=startsAt]').fill(local(hour0 + 20 * HOUR));
    await dialog.locator('input[name=endsAt]').fill(local(hour0 + 30 * HOUR));
    await dialog.locator('input[name=officer][value=park-zhao]').check();
    await dialog.locator('button[type=submit]').click();
    await expect.poll(() => dialog.locator('[role=alert]').innerText()).toContain('overlaps shift');
    await dialog.locator('button', { hasText: '取消' }).click();
    expect(await page.locator('[data-testid=duty-week] tbody tr[data-shift]').count()).toBe(2);

    // Sign out: the open items as they are now, the note; the same account cannot sign in.
    await page.fill('[data-testid=sign-out-form] textarea[name=note]', '2号罐区液位持续关注');
    await page.click('[data-testid=sign-out]');
    const record = page.locator('[data-testid=handover-record]');
    await record.waitFor();
    await expect.poll(() => record.innerText()).toContain('可燃气体浓度超限 · gas-1');
    expect(await record.innerText()).toContain('2号罐区液位持续关注');
    expect(await record.locator('[data-testid=same-account]').innerText()).toContain('交班人不能自己接班');
    expect(await record.locator('[data-testid=sign-in]').count()).toBe(0);
    await page.keyboard.press('Escape');
    await expect.poll(() => page.locator('[data-testid=handovers] tr[data-state=awaiting_incoming]').count()).toBe(1);

    // The incoming officer, another account in another browser, reviews and signs in.
    const other = await openDuty('op', 'op-password-1');
    await chooseUnit(other, 'park');
    await other.click('[data-testid=handovers] tr[data-state=awaiting_incoming] [data-testid=view-handover]');
    const theirs = other.locator('[data-testid=handover-record]');
    await expect.poll(() => theirs.innerText()).toContain('张主任');
    await theirs.locator('textarea[name=note]').fill('已接班，继续关注');
    await theirs.locator('[data-testid=sign-in]').click();
    await expect.poll(() => theirs.locator('[data-testid=kept]').count()).toBe(1);
    const text = await theirs.innerText();
    expect(text).toContain('李值班');
    expect(text).toContain('已接班，继续关注');
    expect(text).toContain('双方已签字，记录已存档，不可更改');
    expect(await englishIn(other, DATA_TEXT, theirs)).toEqual([]);
    await shot(other, 'console-duty-handover', theirs);

    // The record as the first account sees it now; then the same screen in English.
    await page.reload();
    await page.waitForSelector('[data-testid=handovers] tr[data-state=signed]');
    await page.click('[data-testid=handovers] tr[data-state=signed] [data-testid=view-handover]');
    await expect.poll(() => record.locator('[data-testid=kept]').count()).toBe(1);
    expect(await record.locator('[data-side=incoming]').innerText()).toContain('李值班');
    await page.keyboard.press('Escape');
    await page.click('button[data-lang=en]');
    await expect.poll(() => page.locator('[data-testid=duty] h2').innerText()).toBe('Duty roster');
    expect(await page.locator('[data-testid=duty-now] thead').innerText()).toContain('Leader on call');
    expect(await page.locator('[data-testid=duty-people] tr[data-person=park-he]').innerText()).toContain('Leader on call');
    expect(await page.locator('[data-testid=handovers] tbody').innerText()).toContain('1 item');
    expect(errors).toEqual([]);
    await page.click('button[data-lang=zh]');
    await other.context().close();
    await page.context().close();
  }, 60_000);

  test("an enterprise user sees and keeps only its own unit, and hands over only its enterprise's work", async () => {
    const page = await openDuty('acme-user', 'acme-user-password-1');
    expect(await page.locator('[data-testid=duty-now] tbody tr').count()).toBe(1);
    expect(await page.locator('[data-testid=duty-unit] option').allInnerTexts()).toEqual(['甲化工中控室 · 企业']);
    await page.waitForSelector('[data-testid=duty-people] tbody tr');
    expect(await page.locator('[data-testid=add-shift]').count()).toBe(1);
    await page.click('[data-testid=sign-out]');
    const record = page.locator('[data-testid=handover-record]');
    await expect.poll(() => record.locator('[data-item]').count()).toBeGreaterThan(0);
    const enterprises = await record.locator('[data-item] td:nth-child(3)').allInnerTexts();
    expect(new Set(enterprises)).toEqual(new Set(['acme']));
    await page.context().close();
  }, 30_000);
});
