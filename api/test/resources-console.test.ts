// Emergency resources one by one in the console (issue 17) in headless Chromium, on the real API: a
// supervisor registers a warehouse with two supplies, finds it in the list (by kind and by name) and on
// its page, reaches it from the map, changes its supplies, is told next to the field what the API
// refused (a latitude out of range, a warehouse without supplies), and deletes it after confirming; an
// operator reads the register without a button that changes it. The list is checked in zh and en.
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { englishIn, HAS_CHROMIUM, launchBrowser, shot, consoleSignIn } from './browser.ts';
import { seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

let h: Harness;
let admin: Record<string, string>;
let browser: Browser;
let context: BrowserContext;

const SHELTER = { id: 'sh-school', kind: 'shelter', name: '金山中学应急避难场所', lat: 30.733, lon: 121.335, jurisdiction: '金山区应急管理局', capacity: 3000 };
// Names and ids the fixture and the test wrote, the coordinate systems the form's hint names, and the language switch:
// the only Latin a Chinese page may show.
const DATA_TEXT = ['Acme Chemicals', 'Bravo Petrochem', 'wh-test', 'sh-school', 'WGS', 'GPS', 'GCJ', 'BD', 'sup', 'EN'];

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role] of [['sup', 'supervisor'], ['op', 'operator']] as const) {
    const res = await h.api.app.inject({ method: 'POST', url: '/api/v1/accounts', headers: admin, payload: { username, password: `${username}-password-1`, role } });
    expect(res.statusCode).toBe(201);
  }
  expect((await h.api.app.inject({ method: 'POST', url: '/api/v1/resources', headers: admin, payload: SHELTER })).statusCode).toBe(201);
  if (!HAS_CHROMIUM) return;
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1500, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
});

async function signIn(page: Page, username: string) {
  await consoleSignIn(page, h.api.url, username, `${username}-password-1`);
  await page.waitForSelector('[data-testid=resources-link]');
}

const stored = async (id: string) => {
  const res = await h.api.app.inject({ method: 'GET', url: `/api/v1/resources/${id}`, headers: admin });
  return { status: res.statusCode, body: res.json() };
};
const FORM = '[data-testid=resource-form]';
const listIds = (page: Page) => page.locator('[data-testid=resource-list] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-resource')));
const errorFor = (page: Page, field: string) => page.locator(`${FORM} [data-error-for="${field}"]`);

describe.skipIf(!HAS_CHROMIUM)('emergency resources in Chromium', () => {
  test('a supervisor registers a warehouse, finds it, edits it, is shown what is wrong, and deletes it', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, 'sup');
    await page.click('[data-testid=resources-link]');
    await expect.poll(() => page.locator('[data-testid=resource-count]').textContent()).toBe('共 1 项');

    // Register: a warehouse with two supplies.
    await page.click('[data-testid=new-resource]');
    await page.selectOption(`${FORM} select[name=kind]`, 'warehouse');
    // A warehouse has supplies, not people: the form follows the kind.
    expect(await page.locator(`${FORM} input[name=people]`).count()).toBe(0);
    await page.fill(`${FORM} input[name=id]`, 'wh-test');
    await page.fill(`${FORM} input[name=name]`, '测试应急物资库');
    await page.fill(`${FORM} input[name=lat]`, '30.7400');
    await page.fill(`${FORM} input[name=lon]`, '121.2900');
    await page.fill(`${FORM} input[name=jurisdiction]`, '金山区应急管理局');
    await page.fill(`${FORM} input[name=contact]`, '赵磊');
    await page.fill(`${FORM} input[name=phone]`, '13800000004');
    await page.selectOption(`${FORM} select[name="items.0.kind"]`, 'gas_mask');
    await page.fill(`${FORM} input[name="items.0.quantity"]`, '200');
    await page.fill(`${FORM} input[name="items.0.unit"]`, '个');
    await page.click('[data-testid=add-item]');
    await page.selectOption(`${FORM} select[name="items.1.kind"]`, 'scba');
    await page.fill(`${FORM} input[name="items.1.quantity"]`, '30');
    await page.fill(`${FORM} input[name="items.1.unit"]`, '套');
    await page.click('[data-testid=save-resource]');

    // Its page, and what the API stored.
    await page.waitForSelector('[data-testid=resource-detail][data-resource="wh-test"]');
    expect(page.url()).toContain('#/resources/wh-test');
    expect(await page.locator('[data-testid=resource-name]').textContent()).toBe('测试应急物资库');
    expect(await page.locator('[data-testid=resource-items] tbody tr').allTextContents()).toEqual(['防毒面具200个', '正压式空气呼吸器30套']);
    const created = await stored('wh-test');
    expect(created.status).toBe(200);
    expect(created.body).toMatchObject({ kind: 'warehouse', lat: 30.74, lon: 121.29, enterprise: null, jurisdiction: '金山区应急管理局', phone: '13800000004', capacity: null, people: null });
    expect(created.body.items).toEqual([
      { kind: 'gas_mask', name: '', quantity: 200, unit: '个' },
      { kind: 'scba', name: '', quantity: 30, unit: '套' },
    ]);

    // In the list: by kind, and by name.
    await page.click('[data-testid=resource-detail] header a.button');
    await expect.poll(() => listIds(page)).toEqual(['wh-test', 'sh-school']);
    await page.selectOption('[data-testid=resource-filters] select[name=kind]', 'shelter');
    await expect.poll(() => listIds(page)).toEqual(['sh-school']);
    await page.selectOption('[data-testid=resource-filters] select[name=kind]', '');
    await page.fill('[data-testid=resource-filters] input[name=q]', '物资库');
    await expect.poll(() => listIds(page)).toEqual(['wh-test']);
    expect(await page.locator('[data-testid=resource-list] tr[data-resource="wh-test"]').textContent()).toContain('防毒面具 200 个、正压式空气呼吸器 30 套');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await shot(page, 'console-resources-zh');
    await page.click('button[data-lang=en]');
    await expect.poll(() => page.locator('[data-testid=resources] h2').textContent()).toBe('Emergency resources');
    expect(await page.locator('[data-testid=resource-count]').textContent()).toBe('1 resource');
    expect(await page.locator('[data-testid=resource-list] tr[data-resource="wh-test"]').textContent()).toContain('Gas mask 200 个, SCBA 30 套');
    await page.click('button[data-lang=zh]');

    // From the map: its marker's panel links to its page.
    await page.goto(`${h.api.url}/#/`);
    const marker = page.locator('[data-testid=geo-map] [data-resource="wh-test"]');
    await marker.waitFor({ timeout: 10_000 });
    await marker.click();
    await page.click('[data-testid=resource-panel] [data-testid=resource-page-link]');
    await page.waitForSelector('[data-testid=resource-detail][data-resource="wh-test"]');

    // Edit: a latitude out of range is refused and said next to the field; nothing is stored.
    await page.click('[data-testid=edit-resource]');
    expect(page.url()).toContain('#/resources/wh-test?edit');
    await page.fill(`${FORM} input[name="items.0.quantity"]`, '250');
    await page.fill(`${FORM} input[name=lat]`, '95');
    await page.click('[data-testid=save-resource]');
    await expect.poll(() => errorFor(page, 'lat').textContent()).toBe('纬度应为 -90 到 90 之间的十进制度数（经纬度是否填反了？）');
    expect(await errorFor(page, 'lat').isVisible()).toBe(true);
    expect(await page.getAttribute(`${FORM} input[name=lat]`, 'aria-invalid')).toBe('true');
    expect(await page.getAttribute(`${FORM} input[name=lat]`, 'aria-describedby')).toBe('res-err-lat');
    // The keyboard is taken to the field at fault.
    expect(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name)).toBe('lat');
    expect(await errorFor(page, 'lon').isVisible()).toBe(false);
    expect(await page.locator(`${FORM} [role=alert]`).textContent()).toBe('未保存：1 处需更正，见标出的字段');
    expect((await stored('wh-test')).body.items[0].quantity).toBe(200);
    expect(await englishIn(page, DATA_TEXT, page.locator(FORM))).toEqual([]);
    await shot(page, 'console-resource-form-zh');

    // A warehouse without supplies: the kind's own rule, said at the supplies.
    await page.fill(`${FORM} input[name=lat]`, '30.7410');
    await page.click(`${FORM} tr[data-item-row="1"] [data-testid=remove-item]`);
    await page.click(`${FORM} tr[data-item-row="0"] [data-testid=remove-item]`);
    await page.click('[data-testid=save-resource]');
    await expect.poll(() => errorFor(page, 'items').textContent()).toBe('请至少填写一项储备物资');
    expect(await errorFor(page, 'lat').isVisible()).toBe(false);

    // Right this time: gas masks 250 and absorbent instead of the breathing apparatus.
    await page.click('[data-testid=add-item]');
    await page.selectOption(`${FORM} select[name="items.0.kind"]`, 'gas_mask');
    await page.fill(`${FORM} input[name="items.0.quantity"]`, '250');
    await page.fill(`${FORM} input[name="items.0.unit"]`, '个');
    await page.click('[data-testid=add-item]');
    await page.selectOption(`${FORM} select[name="items.1.kind"]`, 'absorbent');
    await page.fill(`${FORM} input[name="items.1.quantity"]`, '2.5');
    await page.fill(`${FORM} input[name="items.1.unit"]`, '吨');
    await page.click('[data-testid=save-resource]');
    await page.waitForSelector(`${FORM}`, { state: 'detached' });
    expect(page.url()).toMatch(/#\/resources\/wh-test$/);
    expect(await page.locator('[data-testid=resource-items] tbody tr').allTextContents()).toEqual(['防毒面具250个', '吸附棉2.5吨']);
    const edited = (await stored('wh-test')).body;
    expect(edited.lat).toBe(30.741);
    expect(edited.items).toEqual([
      { kind: 'gas_mask', name: '', quantity: 250, unit: '个' },
      { kind: 'absorbent', name: '', quantity: 2.5, unit: '吨' },
    ]);

    // Delete: asked first (focus on Cancel, Escape keeps it), then gone.
    await page.click('[data-testid=delete-resource]');
    await page.waitForSelector('[data-testid=confirm-delete]');
    expect(await page.locator('[data-testid=confirm-delete]').textContent()).toContain('测试应急物资库');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('cancel-delete');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=confirm-delete]', { state: 'detached' });
    expect((await stored('wh-test')).status).toBe(200);
    await page.click('[data-testid=delete-resource]');
    await page.click('[data-testid=confirm-delete-button]');
    await page.waitForSelector('[data-testid=resource-list]');
    await expect.poll(() => listIds(page)).toEqual(['sh-school']);
    expect((await stored('wh-test')).status).toBe(404);
    // Every change is in the audit log, by the supervisor, with the refusal of the kind's rule.
    const audit = (await h.api.app.inject({ method: 'GET', url: '/api/v1/audit?username=sup', headers: admin })).json() as { action: string; status: number; target: string | null }[];
    const mine = audit.filter((e) => e.target === 'wh-test').map((e) => `${e.action} ${e.status}`).reverse();
    expect(mine).toEqual(['resource.create 201', 'resource.update 400', 'resource.update 200', 'resource.delete 200']);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test('an operator reads the register and a resource, with no button that changes them', async () => {
    const own = await browser.newContext({ viewport: { width: 1500, height: 900 }, locale: 'en-GB', timezoneId: 'Asia/Shanghai' });
    const page = await own.newPage();
    await signIn(page, 'op');
    await page.click('[data-testid=resources-link]');
    await expect.poll(() => listIds(page)).toContain('sh-school');
    expect(await page.locator('[data-testid=new-resource]').count()).toBe(0);
    await page.click('[data-testid=resource-list] tr[data-resource="sh-school"] a');
    await page.waitForSelector('[data-testid=resource-detail][data-resource="sh-school"]');
    expect(await page.locator('[data-testid=resource-fields]').textContent()).toContain('3000 persons');
    expect(await page.locator('[data-testid=edit-resource], [data-testid=delete-resource]').count()).toBe(0);
    // Nor through the address: the form is not offered.
    await page.goto(`${h.api.url}/#/resources/sh-school?edit`);
    await page.waitForSelector('[data-testid=resource-detail]');
    expect(await page.locator(FORM).count()).toBe(0);
    await page.goto(`${h.api.url}/#/resources?new=shelter`);
    await page.waitForSelector('[data-testid=resource-list] tbody tr');
    expect(await page.locator(FORM).count()).toBe(0);
    await own.close();
  }, 30_000);
});
