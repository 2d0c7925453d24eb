// The alarm-search page '#/search' in Chromium (issue 15): the filter form, paging with the total,
// exports of the current filter downloaded and read back, the enterprise boundary, no English in the
// Chinese view.
import ExcelJS from 'exceljs';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Papa from 'papaparse';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { englishIn, HAS_CHROMIUM, launchBrowser, consoleSignIn } from './browser.ts';
import { seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

const HOUR = 3_600_000;
// 2026-03-01 00:00 in Shanghai.
const T0 = Date.UTC(2026, 2, 1) - 8 * HOUR;

let h: Harness;
let browser: Browser;
let context: BrowserContext;
let profile: string;

/** Raises, and clears again, `n` alarms of a device an hour apart from `start`. */
async function alarms(enterprise: string, device: string, n: number, start: number, level: 1 | 2 | 3, condition: 'HW_ALM_GAS_LEL_HIGH' | 'HW_ALM_LEVEL_HIGH') {
  const d = h.registry.device(enterprise, device)!;
  for (let i = 0; i < n; i++) {
    const at = start + i * HOUR;
    h.clock.t = at;
    const a = (await h.alarms.raise({ enterprise, device, deviceClass: d.class, site: d.site, hazardSource: d.hazardSource, condition, level, metric: null, value: null, threshold: null, message: 'test alarm', at }))!;
    h.clock.t = at + 60_000;
    await h.alarms.clearAuto(a.alarm.id, null, at + 60_000);
  }
}

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  const admin = await login(h, ADMIN.username, ADMIN.password);
  expect((await h.api.app.inject({ method: 'POST', url: '/api/v1/accounts', headers: admin, payload: { username: 'acme-user', password: 'acme-user-password-1', role: 'enterprise', enterprise: 'acme' } })).statusCode).toBe(201);
  await alarms('acme', 'gas-1', 25, T0, 2, 'HW_ALM_GAS_LEL_HIGH');
  await alarms('acme', 'tank-1', 5, T0 + 30 * HOUR, 3, 'HW_ALM_LEVEL_HIGH');
  await alarms('bravo', 'gas-9', 3, T0 + 40 * HOUR, 1, 'HW_ALM_GAS_LEL_HIGH');
  h.clock.t = Date.now();
  if (!HAS_CHROMIUM) return;
  profile = mkdtempSync(join(tmpdir(), 'hazwatch-chromium-'));
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1600, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function signIn(page: Page, username: string, password: string) {
  await consoleSignIn(page, h.api.url, username, password);
  await page.click('[data-testid=search-link]');
  await page.waitForSelector('[data-testid=search-results] tbody tr');
}

const total = (page: Page) => page.locator('[data-testid=search-total]').textContent();
const rows = (page: Page) => page.locator('[data-testid=search-results] tbody tr').count();

async function download(page: Page, testid: string): Promise<{ name: string; body: Buffer }> {
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click(`[data-testid=${testid}]`)]);
  return { name: dl.suggestedFilename(), body: readFileSync((await dl.path())!) };
}

// Names and ids the fixture wrote, and the language switch: the only Latin text a Chinese page may show.
const DATA_TEXT = ['Administrator', 'Acme Chemicals', 'Bravo Petrochem', 'test alarm', 'admin', 'acme-user', 'acme', 'bravo', 'gas-1', 'gas-9', 'tank-1', 'EN'];

describe.skipIf(!HAS_CHROMIUM)('alarm search in Chromium', () => {
  test('filters, pages, and downloads CSV and Excel of the current filter', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page, ADMIN.username, ADMIN.password);
    await expect.poll(() => total(page)).toBe('第 1–20 条，共 33 条');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    // Newest first: bravo's three, then acme's tank.
    expect(await page.locator('[data-testid=search-results] tbody tr').first().textContent()).toContain('gas-9');

    await page.click('[data-testid=next]');
    await expect.poll(() => total(page)).toBe('第 21–33 条，共 33 条');
    expect(await rows(page)).toBe(13);
    expect(await page.locator('[data-testid=next]').isDisabled()).toBe(true);
    await page.click('[data-testid=prev]');
    await expect.poll(() => total(page)).toBe('第 1–20 条，共 33 条');

    // acme's gas detectors, from 05:00 to 15:00 on 1 March (local time): alarms of hours 5..14.
    await page.selectOption('select[name=enterprise]', 'acme');
    await page.selectOption('select[name=deviceClass]', 'gas_combustible');
    await page.selectOption('select[name=condition]', 'HW_ALM_GAS_LEL_HIGH');
    await page.selectOption('select[name=level]', '2');
    await page.selectOption('select[name=state]', 'cleared_unacknowledged');
    await page.fill('input[name=from]', '2026-03-01T05:00');
    await page.fill('input[name=to]', '2026-03-01T15:00');
    await page.click('[data-testid=search-form] button[type=submit]');
    await expect.poll(() => total(page)).toBe('第 1–10 条，共 10 条');
    expect(await page.locator('[data-testid=next]').isDisabled()).toBe(true);

    const csv = await download(page, 'export-csv');
    expect(csv.name).toMatch(/^alarms-\d{8}-\d{4}\.csv$/);
    expect(csv.body.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    const parsed = Papa.parse<string[]>(csv.body.toString('utf8').slice(1), { skipEmptyLines: true }).data;
    expect(parsed[0]!.slice(0, 3)).toEqual(['报警编号', '产生时间', '级别']);
    expect(parsed.slice(1).map((r) => r[1])).toEqual(Array.from({ length: 10 }, (_, i) => `2026-03-01 ${String(14 - i).padStart(2, '0')}:00:00`));
    expect(new Set(parsed.slice(1).map((r) => r[6]))).toEqual(new Set(['gas-1']));

    const xlsx = await download(page, 'export-xlsx');
    expect(xlsx.name).toMatch(/\.xlsx$/);
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.body as unknown as ArrayBuffer);
    expect(book.worksheets.map((s) => s.name)).toEqual(['报警', '处置记录']);
    expect(book.worksheets[0]!.rowCount).toBe(11);
    expect(book.worksheets[1]!.rowCount).toBe(21);

    const history = await download(page, 'export-history');
    expect(history.name).toMatch(/^alarm-history-/);
    expect(Papa.parse<string[]>(history.body.toString('utf8').slice(1), { skipEmptyLines: true }).data).toHaveLength(21);

    // Free text on the device id; reset brings everything back.
    await page.click('[data-testid=search-form] button[type=button]');
    await expect.poll(() => total(page)).toBe('第 1–20 条，共 33 条');
    await page.fill('input[name=q]', 'TANK');
    await page.click('[data-testid=search-form] button[type=submit]');
    await expect.poll(() => total(page)).toBe('第 1–5 条，共 5 条');

    await page.click('button[data-lang=en]');
    await expect.poll(() => page.locator('[data-testid=search] h2').textContent()).toBe('Alarm search');
    expect(await page.locator('[data-testid=export-csv]').getAttribute('href')).toContain('lang=en');
    expect(errors).toEqual([]);
    await page.click('button[data-lang=zh]');
    await page.close();
  }, 120_000);

  test('an enterprise user searches and exports only its own alarms, without an enterprise choice', async () => {
    const own = await browser.newContext({ viewport: { width: 1600, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai', acceptDownloads: true });
    const page = await own.newPage();
    await signIn(page, 'acme-user', 'acme-user-password-1');
    await expect.poll(() => total(page)).toBe('第 1–20 条，共 30 条');
    expect(await page.locator('select[name=enterprise]').count()).toBe(0);
    const csv = await download(page, 'export-csv');
    const parsed = Papa.parse<string[]>(csv.body.toString('utf8').slice(1), { skipEmptyLines: true }).data;
    expect(parsed).toHaveLength(31);
    expect(new Set(parsed.slice(1).map((r) => r[5]))).toEqual(new Set(['acme']));
    await own.close();
  }, 60_000);
});
