// The hazard-source page (issue 15) in real headless Chromium against the real API and a real InfluxDB:
// readings of a tank farm's two devices are written to the test database as ingest writes them
// (ingest/points.ts, docs/storage.md); the page shows the source, its open alarm, one chart per device
// with those readings, threshold bands and the alarm's period, one range picker that changes every chart;
// links from the alarm detail, the site plan and the device page reach it; another enterprise's account
// is told there is no such source. One screen is checked in Chinese and in English.
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { consoleSignIn, englishIn, HAS_CHROMIUM, launchBrowser, shot } from './browser.ts';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';
import { line } from '../../ingest/points.ts';
import { createTestDatabase, influxUrl } from '../../test/support/influx.ts';
import type { Alarm } from '../../contract/alarms.ts';

const MINUTE = 60_000;
// The machine runs other suites beside this one: a page may take seconds to answer.
const SLOW = { timeout: 10_000 };
let h: Harness;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let browser: Browser;
let context: BrowserContext;
let alarm: Alarm;

// Names and ids the fixture wrote, units, the limits' names and the language switch: the only Latin a Chinese page may show.
const DATA_TEXT = ['Acme Chemicals', 'Tank farm T1', 'Tank 1', 'Gas detector 1', 'tankfarm', 'tank-1', 'gas-1', 'acme', 'op', '%LEL', 'MPa', 'm3/h', 'HH', 'LL', 'EN'];
const PASSWORD = (u: string) => `${u}-password-1`;

beforeAll(async () => {
  db = await createTestDatabase('hw_source');
  h = await startHarness({ config: { ingest: { influx: { kind: 'v1', url: db.url, database: db.db } } } });
  await seedPlant(h);
  // Half an hour of readings, one every 15 s (each of the hour's 30 s buckets holds some): the tank's
  // level and temperature, the detector's %LEL.
  const t = h.clock.t;
  const lines: string[] = [];
  for (let i = 1; i <= 120; i++) {
    lines.push(line('vessel', { enterprise: 'acme', device: 'tank-1' }, { level: 5 + i / 40, temperature: 20 + Math.sin(i / 10) }, t - i * 15_000));
    lines.push(line('gas_combustible', { enterprise: 'acme', device: 'gas-1' }, { lel: 3 + 2 * Math.sin(i / 7) }, t - i * 15_000));
  }
  const w = await fetch(`${influxUrl()}/write?db=${db.db}&precision=ms`, { method: 'POST', body: lines.join('\n') });
  expect(w.status).toBe(204);
  // The detector's open alarm, raised ten minutes ago: the source's open alarm and a shaded period.
  h.clock.t = t - 10 * MINUTE;
  alarm = await raiseAlarm(h, 'acme', 'gas-1', 2);
  h.clock.t = t;
  const admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [['op', 'operator', null], ['bravo-user', 'enterprise', 'bravo']] as const) {
    expect((await h.api.app.inject({ method: 'POST', url: '/api/v1/accounts', headers: admin, payload: { username, password: PASSWORD(username), role, enterprise } })).statusCode).toBe(201);
  }
  if (!HAS_CHROMIUM) return;
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1500, height: 1000 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  // A step that hangs fails by name within the test's time (a CI run once timed out on the whole test, step unknown).
  context.setDefaultTimeout(15_000);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await db?.drop();
});

async function signIn(page: Page, username: string) {
  await consoleSignIn(page, h.api.url, username, PASSWORD(username));
  await page.waitForSelector('[data-testid=alarm-list]');
}

const card = (page: Page, device: string) => page.locator(`[data-testid=source-device][data-device="${device}"]`);
const chartOf = (page: Page, device: string) => card(page, device).locator('[data-testid=trend-chart]');
const attr = async (page: Page, device: string, name: string) => JSON.parse((await chartOf(page, device).getAttribute(`data-${name}`)) ?? 'null');

describe.skipIf(!HAS_CHROMIUM)('the hazard-source page in Chromium', () => {
  test('from the alarm detail to the source: its alarm, two devices charted, one range for both; zh and en', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const queries: string[] = [];
    page.on('request', (r) => r.url().includes('/chart?') && queries.push(new URL(r.url()).pathname.split('/')[6] + new URL(r.url()).search));
    await signIn(page, 'op');

    // The alarm's detail names its hazard source; the link opens the source's page.
    await page.click(`[data-alarm-id="${alarm.id}"] [data-action=history]`);
    await page.click('[data-testid=alarm-source-link]');
    await expect.poll(() => page.evaluate(() => location.hash), SLOW).toBe('#/source/acme/tankfarm');
    const src = page.locator('[data-testid=source-page]');
    await expect.poll(() => page.locator('[data-testid=source-name]').textContent(), SLOW).toBe('Tank farm T1');
    expect(await src.locator('[data-testid=source-grade]').textContent()).toBe('一级危险源');
    expect(await src.locator('[data-testid=source-risk]').getAttribute('data-colour')).toBe('red');
    expect(await src.locator('[data-testid=source-risk]').textContent()).toBe('重大风险');
    expect(await src.textContent()).toContain('Acme Chemicals');
    // Its open alarm, in the console's alarm list (with its actions).
    await expect.poll(() => src.locator('[data-testid=source-alarms] tr[data-alarm-id]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-alarm-id'))), SLOW).toEqual([alarm.id]);
    expect(await src.locator('[data-testid=source-open-count]').textContent()).toBe('1');

    // Two devices, each charted from InfluxDB over the last hour, with its state and a link to its page.
    await expect.poll(() => page.locator('[data-testid=source-device]').evaluateAll((cards) => cards.map((c) => c.getAttribute('data-device')).sort()), SLOW).toEqual(['gas-1', 'tank-1']);
    await expect.poll(async () => (await chartOf(page, 'tank-1').count()) && (await attr(page, 'tank-1', 'points')).level, SLOW).toBeGreaterThanOrEqual(25);
    await expect.poll(async () => (await chartOf(page, 'gas-1').count()) && (await attr(page, 'gas-1', 'points')).lel, SLOW).toBeGreaterThanOrEqual(25);
    expect(Object.keys(await attr(page, 'tank-1', 'points')).sort()).toEqual(['level', 'temperature']);
    // The canvas holds what the API answered: uPlot's own series, one per channel.
    const drawn = await chartOf(page, 'tank-1').evaluate((el) => (el.querySelector('.uplot')?.parentElement as unknown as { __uplot: { series: { scale: string }[] } }).__uplot.series.slice(1).map((s) => s.scale));
    expect(drawn.sort()).toEqual(['level', 'temperature']);
    // The tank's own limits are bands; the detector's alarm is its shaded period, raised ten minutes ago and still active.
    expect(await attr(page, 'tank-1', 'bands')).toEqual(expect.arrayContaining([{ metric: 'level', direction: 'high', value: 9, level: 2 }, { metric: 'level', direction: 'low', value: 0.5, level: 2 }]));
    const periods = (await attr(page, 'gas-1', 'periods')) as { id: string; from: number; to: number }[];
    expect(periods.map((p) => [p.id, p.from])).toEqual([[alarm.id, alarm.raisedAt]]);
    expect(await attr(page, 'tank-1', 'periods')).toEqual([]);
    // Each device's state as the API says it (a device not yet due counts as online), in the view's words.
    const states = (await page.evaluate(async () => (await fetch('/api/v1/devices?enterprise=acme&hazardSource=tankfarm')).json())) as { id: string; online: boolean }[];
    expect(states.map((d) => d.id).sort()).toEqual(['gas-1', 'tank-1']);
    for (const d of states) {
      const badge = card(page, d.id).locator('[data-testid=source-device-online]');
      expect(await badge.getAttribute('data-online')).toBe(String(d.online));
      expect(await badge.textContent()).toBe(d.online ? '在线' : '离线');
    }
    expect(await card(page, 'gas-1').locator('[data-testid=source-device-link]').getAttribute('href')).toBe('#/device/acme/gas-1');
    expect(queries.filter((q) => q.endsWith('?minutes=60')).sort()).toEqual(['gas-1?minutes=60', 'tank-1?minutes=60']);
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await shot(page, 'console-source-zh');

    // One range picker: 24 hours changes both charts' queries and both charts.
    await page.click('[data-testid=range-picker] button[data-minutes="1440"]');
    await expect.poll(() => page.locator('[data-testid=trend-chart][data-minutes="1440"]').count(), SLOW).toBe(2);
    await expect.poll(() => queries.filter((q) => q.endsWith('?minutes=1440')).sort(), SLOW).toEqual(['gas-1?minutes=1440', 'tank-1?minutes=1440']);
    expect((await attr(page, 'gas-1', 'points')).lel).toBeGreaterThan(0);
    expect((await attr(page, 'tank-1', 'points')).level).toBeGreaterThan(0);
    expect(Number(await chartOf(page, 'tank-1').getAttribute('data-to')) - Number(await chartOf(page, 'tank-1').getAttribute('data-from'))).toBe(1440 * MINUTE);

    // The same page in English.
    await page.click('[data-lang=en]');
    await expect.poll(() => src.locator('[data-testid=source-grade]').textContent()).toBe('Grade 1 source');
    expect(await src.locator('[data-testid=source-risk]').textContent()).toBe('Major risk');
    expect(await src.textContent()).toContain('Open alarms');
    expect(await src.textContent()).toContain('Trends of its devices');
    // Back to the last hour: both charts again.
    await page.click('[data-testid=range-picker] button[data-minutes="60"]');
    await expect.poll(() => page.locator('[data-testid=trend-chart][data-minutes="60"]').count(), SLOW).toBe(2);
    await shot(page, 'console-source-en');
    await page.click('[data-lang=zh]');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test('the site plan and the device page link to it; another enterprise is told there is no such source', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${h.api.url}/#/`);
    await page.waitForSelector('[data-testid=alarm-list]');
    // The site plan: the source's panel opens its page.
    await page.click('[data-testid=view-plan]');
    await page.click('g[data-source="acme/tankfarm"]');
    await page.click('[data-testid=source-panel] [data-testid=source-page-link]');
    await expect.poll(() => page.locator('[data-testid=source-name]').textContent(), SLOW).toBe('Tank farm T1');
    // From the source to a device, and from the device back to its source.
    await card(page, 'tank-1').locator('[data-testid=source-device-link]').click();
    await page.waitForSelector('[data-testid=device-page]');
    await page.click('[data-testid=device-source-link]');
    await expect.poll(() => page.evaluate(() => location.hash), SLOW).toBe('#/source/acme/tankfarm');
    await page.waitForSelector('[data-testid=source-device]');
    expect(errors).toEqual([]);
    await page.close();

    // An account of another enterprise: the same address says "no such source" and shows nothing of it.
    const other = await browser.newContext({ viewport: { width: 1200, height: 800 }, locale: 'zh-CN' });
    other.setDefaultTimeout(15_000);
    const p2 = await other.newPage();
    await signIn(p2, 'bravo-user');
    await p2.goto(`${h.api.url}/#/source/acme/tankfarm`);
    await expect.poll(() => p2.locator('[data-testid=source-missing]').textContent(), SLOW).toBe('没有这个危险源（或不在您的辖区内）');
    expect(await p2.locator('[data-testid=source-device]').count()).toBe(0);
    // (The API refuses another enterprise's address with 403, an unknown source with 404: the page says the same for both.)
    expect(await p2.evaluate(async () => (await fetch('/api/v1/enterprises/acme/hazard-sources/tankfarm')).status)).toBe(403);
    await p2.goto(`${h.api.url}/#/source/bravo/no-such`);
    await expect.poll(() => p2.locator('[data-testid=source-missing]').textContent(), SLOW).toBe('没有这个危险源（或不在您的辖区内）');
    expect(await p2.textContent('body')).not.toContain('Tank farm T1');
    // Its own source opens.
    await p2.goto(`${h.api.url}/#/source/bravo/lpg`);
    await expect.poll(() => p2.locator('[data-testid=source-name]').textContent(), SLOW).toBe('LPG spheres');
    await other.close();
  }, 60_000);
});
