// Device commands on the console's device page (issue 15) in headless Chromium, on the real broker and
// API with a simulated fire-water panel answering: an operator, by keyboard only, opens the pump test
// run, is asked first (Escape sends nothing), sends it with its length, and sees it done with its steps;
// a command the API refuses is said in the dialog; a vessel offers no command and says why; zh and en.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startFleet, type Fleet } from '../../simulators/fleet.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { startApi, type ApiService } from '../start.ts';
import { englishIn, HAS_CHROMIUM, launchPersistent, shot } from './browser.ts';

let broker: TestBroker;
let api: ApiService;
let fleet: Fleet;
let browser: BrowserContext;
let profile: string;
let admin: Record<string, string>;

const commands = async (device: string) =>
  (await api.app.inject({ method: 'GET', url: `/api/v1/devices/acme/${device}/commands`, headers: admin })).json().commands as { id: string; name: string; status: string; args: Record<string, unknown> }[];

beforeAll(async () => {
  broker = await startTestBroker();
  const r = broker.registry;
  await r.addEnterprise('acme', 'Acme Chemicals');
  const devices = [
    { enterprise: 'acme', id: 'fw-1', class: 'fire_water' as const, intervalSeconds: 1 },
    { enterprise: 'acme', id: 'sa-1', class: 'smoke_alarm' as const, intervalSeconds: 1 },
  ];
  const creds = await r.addDevices(devices);
  await r.addDevice({ enterprise: 'acme', id: 'tank-1', class: 'vessel' });
  const config = loadConfig({ env: {}, overrides: { dataDir: broker.dataDir, mqtt: { url: broker.url }, api: { port: 0, adminPassword: 'admin-password-1' } } });
  api = await startApi({ config, log: silentLogger(), metrics: createMetricsRegistry(), registry: r });
  // sa-1 hears commands and never answers: its first one keeps the next waiting.
  fleet = startFleet({ url: broker.url, devices, credentials: new Map(creds.map((c) => [c.username, c])), start: Date.now(), progress: false, faults: [], commands: { workMs: 300, answer: (d) => (d.id === 'sa-1' ? 'ignore' : 'model') } });
  const res = await api.app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'admin', password: 'admin-password-1' } });
  admin = { authorization: `Bearer ${res.json().token}` };
  expect((await api.app.inject({ method: 'POST', url: '/api/v1/accounts', headers: admin, payload: { username: 'op', password: 'op-password-1', role: 'operator' } })).statusCode).toBe(201);
  await waitFor(async () => {
    // Heard from, not only judged online (a device never heard is online until it is due).
    const list = (await api.app.inject({ method: 'GET', url: '/api/v1/devices?enterprise=acme', headers: admin })).json() as { id: string; presence: { lastHeardAt: number | null } }[];
    return list.filter((d) => d.presence.lastHeardAt !== null).length === 2;
  }, 20_000);
  if (!HAS_CHROMIUM) return;
  profile = mkdtempSync(join(tmpdir(), 'hazwatch-chromium-'));
  browser = await launchPersistent(profile, { width: 1500, height: 1000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop().catch(() => undefined);
  await api?.close();
  await broker?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function signIn(page: Page) {
  await page.goto(`${api.url}/`);
  // One browser profile for the file: the second page finds the session of the first.
  await page.waitForSelector('input[name=username], [data-testid=resources-link]');
  if ((await page.locator('input[name=username]').count()) === 0) return;
  await page.fill('input[name=username]', 'op');
  await page.fill('input[name=password]', 'op-password-1');
  await page.click('button[type=submit]');
  await page.waitForSelector('[data-testid=resources-link]');
}

describe.skipIf(!HAS_CHROMIUM)('device commands in Chromium', () => {
  test('an operator starts a pump test run from the device page by keyboard, confirms it and sees it done', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await signIn(page);
    await page.goto(`${api.url}/#/device/acme/fw-1`);
    const panel = page.locator('[data-testid=device-commands]');
    await panel.locator('[data-testid=command-pump_test_start]').waitFor();
    expect(await panel.locator('button').allTextContents()).toEqual(['启动消防泵试运行', '停止消防泵试运行']);

    // Escape: nothing is sent, and the focus is back on the button.
    await panel.locator('[data-testid=command-pump_test_start]').focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('[data-testid=command-confirm]');
    await dialog.waitFor();
    // Cancel has the focus first: a stray Enter sends nothing.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('取消');
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe('command-pump_test_start');
    expect(await commands('fw-1')).toEqual([]);

    // Again, with a 5-minute run: Tab to the length, type it, Tab to Send, Enter.
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain('acme / fw-1');
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('取消');
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.type('5');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid)).toBe('command-send');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });
    const row = panel.locator('[data-testid=command-history] tbody tr').first();
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 10_000 }).toBe('done');
    expect(await row.textContent()).toContain('已完成');
    expect(await row.textContent()).toContain('试运行时长（分钟） 5');
    expect(await row.textContent()).toMatch(/已发送 [\d:]+ → 已接受 [\d:]+ → 已完成 [\d:]+/);
    const [sent] = await commands('fw-1');
    expect(sent).toMatchObject({ name: 'pump_test_start', status: 'done', args: { minutes: 5 } });
    // Only data (ids, the account, the device's own words) is Latin on the Chinese panel.
    expect(await englishIn(page, ['fw-1', 'acme', 'op', 'main pump test run started for 5 min', 'min'], panel)).toEqual([]);
    await shot(page, 'console-device-commands', panel);

    // The same panel in English.
    await page.click('button[data-lang=en]');
    await expect.poll(() => row.textContent()).toContain('done');
    expect(await panel.locator('button').first().textContent()).toBe('Start a fire pump test run');
    await page.click('button[data-lang=zh]');
    expect(errors).toEqual([]);
    await page.close();
  });

  test('a refusal is said in the dialog; a vessel takes no command and says why', async () => {
    const page = await browser.newPage();
    await signIn(page);
    await page.goto(`${api.url}/#/device/acme/sa-1`);
    const panel = page.locator('[data-testid=device-commands]');
    // The first silence waits for an answer that never comes; the second is refused: busy.
    for (let i = 0; i < 2; i++) {
      await panel.locator('[data-testid=command-silence]').click();
      await page.locator('[data-testid=command-send]').click();
    }
    await expect.poll(() => page.locator('[data-testid=command-error]').textContent()).toBe('此设备上一条命令尚在等待答复 (HW_ERR_COMMAND_BUSY)');
    await page.keyboard.press('Escape');
    expect((await commands('sa-1')).map((c) => c.status)).toEqual(['sent']);
    await expect.poll(() => panel.locator('[data-testid=command-history] tbody tr').first().getAttribute('data-status')).toBe('sent');

    await page.goto(`${api.url}/#/device/acme/tank-1`);
    await page.locator('[data-testid=commands-none]').waitFor();
    expect(await page.locator('[data-testid=device-commands] button').count()).toBe(0);
    expect(await page.locator('[data-testid=commands-none]').textContent()).toContain('安全仪表系统');
    await page.close();
  });
});
