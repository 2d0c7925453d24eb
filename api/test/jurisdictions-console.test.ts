// Jurisdictions in the console (issue 15) in headless Chromium, on the real API: a county supervisor
// sees its node in the top bar and only its enterprises in the enterprise filter; a city administrator
// opens the tree, is told next to the field why a city cannot sit under its county, adds a town under
// the county, and moves an enterprise into it — which the county account then sees.
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { HAS_CHROMIUM, launchBrowser, consoleSignIn } from './browser.ts';
import { seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

let h: Harness;
let admin: Record<string, string>;
let browser: Browser;
let context: BrowserContext;
const PASSWORD = 'scope-password-1';

const post = async (method: string, url: string, payload: unknown) => {
  const res = await h.api.app.inject({ method: method as 'POST', url, headers: admin, payload: payload as object });
  expect(res.statusCode, res.body).toBeLessThan(300);
};

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  admin = await login(h, ADMIN.username, ADMIN.password);
  await post('POST', '/api/v1/jurisdictions', { id: '310100', name: '上海市市辖区', kind: 'city', code: '310100' });
  await post('POST', '/api/v1/jurisdictions', { id: '310116', name: '金山区', kind: 'county', parent: '310100', code: '310116' });
  await post('PUT', '/api/v1/enterprises/acme/jurisdiction', { jurisdiction: '310116' });
  await post('PUT', '/api/v1/enterprises/bravo/jurisdiction', { jurisdiction: '310100' });
  await post('POST', '/api/v1/accounts', { username: 'county', password: PASSWORD, role: 'supervisor', jurisdiction: '310116' });
  await post('POST', '/api/v1/accounts', { username: 'city-admin', password: PASSWORD, role: 'administrator', jurisdiction: '310100' });
  if (!HAS_CHROMIUM) return;
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1500, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function signIn(page: Page, username: string) {
  await consoleSignIn(page, h.api.url, username, PASSWORD);
  await page.waitForSelector('[data-testid=jurisdiction]');
}

describe.skipIf(!HAS_CHROMIUM)('jurisdictions in Chromium', () => {
  test('the county sees its node and its enterprises; the city administrator keeps the tree below it', { timeout: 30_000 }, async () => {
    const errors: string[] = [];
    const county = await context.newPage();
    county.on('pageerror', (e) => errors.push(e.message));
    await signIn(county, 'county');
    await expect.poll(() => county.locator('[data-testid=jurisdiction]').textContent()).toBe('金山区');
    expect(await county.locator('[data-testid=jurisdiction]').getAttribute('title')).toBe('辖区：上海市市辖区 › 金山区');
    // Supervisors read the tree but get no link to keep it.
    expect(await county.locator('[data-testid=jurisdictions-link]').count()).toBe(0);
    // The map's table lists its one enterprise; the alarm list has no enterprise filter for one.
    await expect.poll(() => county.locator('body').textContent()).toContain('Acme Chemicals');
    expect(await county.locator('body').textContent()).not.toContain('Bravo');
    const options = () => county.locator('select[aria-label="企业"] option').evaluateAll((os) => os.map((o) => o.getAttribute('value')));
    expect(await options()).toEqual([]);

    // Its own browser context: the county's session cookie stays with the county's page.
    const other = await browser.newContext({ viewport: { width: 1500, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
    const page = await other.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, 'city-admin');
    await page.click('[data-testid=jurisdictions-link]');
    const tree = page.locator('[data-testid=jurisdiction-tree]');
    await expect.poll(() => tree.locator('li[data-node]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-node')))).toEqual(['310100', '310116']);
    expect(await tree.locator('li[data-node="310116"] [data-enterprise]').evaluateAll((cs) => cs.map((c) => c.getAttribute('data-enterprise')))).toEqual(['acme']);

    // A city under the county: refused, said next to the parent.
    await page.fill('#jur-name', '错误的市');
    await page.fill('#jur-id', 'wrong-city');
    await page.selectOption('#jur-kind', 'city');
    await page.selectOption('#jur-parent', '310116');
    await page.click('[data-testid=jurisdiction-save]');
    await expect.poll(() => page.locator('[data-testid=add-error-parent]').textContent()).toContain('city');

    // A town under the county, with its code: added, in the tree at once.
    await page.fill('#jur-name', '朱泾镇');
    await page.fill('#jur-id', '310116102');
    await page.selectOption('#jur-kind', 'town');
    await page.fill('#jur-code', '310116102');
    await page.click('[data-testid=jurisdiction-save]');
    await expect.poll(() => page.locator('[data-testid=jurisdiction-done]').textContent()).toBe('已新增 朱泾镇');
    await expect.poll(() => tree.locator('li[data-node]').evaluateAll((lis) => lis.map((li) => li.getAttribute('data-node')))).toEqual(['310100', '310116', '310116102']);

    // Bravo moves from the city into the new town: the county account sees it from now on.
    await page.selectOption('#jur-move-enterprise', 'bravo');
    await page.selectOption('#jur-move-node', '310116102');
    await page.click('[data-testid=jurisdiction-move-save]');
    await expect.poll(() => tree.locator('li[data-node="310116102"] [data-enterprise]').count()).toBe(1);
    // Directly under the platform is out of the city administrator's reach: refused next to the field.
    await page.selectOption('#jur-move-node', '');
    await page.click('[data-testid=jurisdiction-move-save]');
    await expect.poll(() => page.locator('[data-testid=move-error-jurisdiction]').count()).toBe(1);
    // The county's console, reloaded: the enterprise filter now offers both.
    await county.reload();
    await expect.poll(options, { timeout: 10_000 }).toEqual(['', 'acme', 'bravo']);
    expect(errors).toEqual([]);
    await other.close();
  });
});
