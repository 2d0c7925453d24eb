// The management screens (issue 15) in headless Chromium, on the real API with a rules directory: an
// administrator registers a device (credentials shown once, copied), gives it a new password (the old
// one stops verifying at once), moves it, sets a vessel's limits (a wrong order refused) beside the
// thresholds in force and the standard's defaults, revokes it after a confirmation; a supervisor
// overrides a gas detector's thresholds, refused first by the `rules --check` check, then saved and in
// force; an administrator grades a hazard source, manages an account, starts and ends maintenance, and
// searches the audit trail page by page with its export; an enterprise user sees its own part only.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { englishIn, HAS_CHROMIUM, launchBrowser, shot, consoleSignIn } from './browser.ts';
import { seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

let h: Harness;
let rulesDir: string;
let admin: Record<string, string>;
let browser: Browser;

// What the fixture and the test wrote, units, limit labels and the standard's name: the Latin a Chinese page may show.
const DATA_TEXT = ['Acme Chemicals', 'Bravo Petrochem', 'Tank farm T1', 'Reactor R2', 'LPG spheres', 'Gas detector 1', 'LPG detector', 'Reactor 2', 'Tank 1', 'tank-1', 'gas-1', 'gas-2', 'gas-9', 'reactor-1', 'acme', 'bravo', 'LEL', 'MPa', 'GB/T', 'HH', 'LL', 'EN'];
const PASSWORD = (u: string) => `${u}-password-1`;

beforeAll(async () => {
  rulesDir = mkdtempSync(join(tmpdir(), 'hazwatch-admin-rules-'));
  h = await startHarness({ config: { rules: { files: [rulesDir] } } });
  await seedPlant(h);
  admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [['sup', 'supervisor', null], ['chem', 'enterprise', 'acme']] as const) {
    expect((await h.api.app.inject({ method: 'POST', url: '/api/v1/accounts', headers: admin, payload: { username, password: PASSWORD(username), role, enterprise } })).statusCode).toBe(201);
  }
  // Enough audit entries of one kind for two pages: the enterprise's account checking rule files (cheap, audited).
  const chem = await login(h, 'chem', PASSWORD('chem'));
  for (let i = 0; i < 55; i++) await h.api.app.inject({ method: 'POST', url: '/api/v1/rules/check', headers: chem, payload: { enterprise: 'acme', text: `enterprise: acme # ${i}\n` } });
  if (HAS_CHROMIUM) browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  rmSync(rulesDir, { recursive: true, force: true });
});

async function open(locale: 'zh-CN' | 'en-GB', username: string, password = PASSWORD(username)): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1500, height: 950 }, locale, timezoneId: 'Asia/Shanghai' });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: h.api.url });
  context.setDefaultTimeout(10_000);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await consoleSignIn(page, h.api.url, username, password);
  await page.waitForSelector('[data-testid=admin-link]');
  return { context, page, errors };
}

const row = (page: Page, device: string) => page.locator(`[data-testid=device-table] tr[data-device="${device}"]`);
const deviceIds = (page: Page) => page.locator('[data-testid=device-table] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-device')));
const stages = (page: Page, rule: string) =>
  page.locator(`[data-testid=threshold-rules] tr[data-rule="${rule}"]`).evaluateAll((rows) =>
    rows.map((r) => [r.getAttribute('data-level'), r.querySelector('[data-testid=in-force]')!.textContent!.trim(), r.querySelector('[data-testid=default]')!.textContent!.trim()]),
  );

describe.skipIf(!HAS_CHROMIUM)('management screens in Chromium', () => {
  test('devices: register with the credentials shown once, new password, move, limits beside the defaults, revoke', async () => {
    const { context, page, errors } = await open('zh-CN', ADMIN.username, ADMIN.password);
    await page.click('[data-testid=admin-link]');
    await expect.poll(() => deviceIds(page)).toEqual(['acme/gas-1', 'acme/reactor-1', 'acme/tank-1', 'bravo/gas-9']);
    expect(await englishIn(page, DATA_TEXT, page.locator('[data-testid=admin]'))).toEqual([]);

    // Register: the credentials once, with the warning, copied to the clipboard.
    await page.click('[data-testid=register-device]');
    const form = page.locator('[data-testid=register-form]');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('enterprise');
    await form.locator('select[name=enterprise]').selectOption('acme');
    await form.locator('input[name=id]').fill('gas-2');
    await form.locator('select[name=class]').selectOption('gas_combustible');
    await form.locator('input[name=name]').fill('二号可燃气体探测器');
    await form.locator('select[name=hazardSource]').selectOption('reactor');
    await page.click('[data-testid=form-submit]');
    await page.waitForSelector('[data-testid=credentials]');
    expect(await page.locator('[data-testid=credentials-warning]').textContent()).toContain('密码只显示这一次');
    const first = (await page.locator('[data-testid=cred-password]').textContent())!;
    expect(await page.locator('[data-testid=cred-username]').textContent()).toBe('acme/gas-2');
    expect(await h.registry.verify('acme/gas-2', first)).toBe('ok');
    await page.click('[data-testid=copy-password]');
    await expect.poll(() => page.locator('[data-testid=copy-password]').textContent()).toBe('已复制');
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(first);
    expect(await englishIn(page, [...DATA_TEXT, first], page.locator('[data-testid=credentials]'))).toEqual([]);
    await shot(page, 'console-admin-credentials-zh');
    await page.click('[data-testid=credentials-close]');
    await expect.poll(() => row(page, 'acme/gas-2').locator('[data-testid=device-source]').textContent()).toBe('Reactor R2');
    // Shown once: nothing on the page holds it any more.
    expect(await page.content()).not.toContain(first);

    // A new password: asked first; the old one stops verifying at once.
    await row(page, 'acme/gas-2').locator('[data-testid=device-rotate]').click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('confirm-cancel');
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector('[data-testid=credentials]');
    expect(await page.locator('[data-testid=credentials-warning]').textContent()).toContain('旧密码已立即失效');
    const second = (await page.locator('[data-testid=cred-password]').textContent())!;
    expect(second).not.toBe(first);
    expect(await h.registry.verify('acme/gas-2', first)).toBe('bad');
    expect(await h.registry.verify('acme/gas-2', second)).toBe('ok');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=credentials]', { state: 'detached' });

    // Move to the tank farm: the grade of its new source follows it (the rules engine reads it).
    await row(page, 'acme/gas-2').locator('[data-testid=device-move]').click();
    await page.locator('[data-testid=move-form] select[name=hazardSource]').selectOption('tankfarm');
    await page.click('[data-testid=form-submit]');
    await expect.poll(() => row(page, 'acme/gas-2').locator('[data-testid=device-source]').textContent()).toBe('Tank farm T1');
    expect(h.registry.device('acme', 'gas-2')).toMatchObject({ hazardSource: 'tankfarm', meta: { hazardSourceGrade: 1 } });

    // A vessel's limits beside the thresholds in force: a wrong order is refused, a right one in force at once.
    await row(page, 'acme/tank-1').locator('[data-testid=device-limits]').click();
    const panel = page.locator('[data-testid=limits-panel]');
    await expect.poll(() => panel.locator('input[name="level.H"]').inputValue()).toBe('8');
    await expect.poll(() => stages(page, 'level_high')).toEqual([['3', '8 设备限值 H', '8 设备限值 H'], ['2', '9 设备限值 HH', '9 设备限值 HH']]);
    await panel.locator('input[name="level.H"]').fill('9.5');
    await page.click('[data-testid=save-limits]');
    await expect.poll(() => panel.locator('[data-testid=limits-error]').textContent()).toContain('HH (9) must be ≥ H (9.5)');
    expect((h.registry.device('acme', 'tank-1')!.meta.limits as { level: { H: number } }).level.H).toBe(8);
    await panel.locator('input[name="level.H"]').fill('8.5');
    await page.click('[data-testid=save-limits]');
    await panel.locator('[data-testid=limits-saved]').waitFor();
    expect(h.registry.device('acme', 'tank-1')!.meta.limits).toEqual({ level: { HH: 9, H: 8.5, L: 1, LL: 0.5 } });
    await expect.poll(() => stages(page, 'level_high')).toEqual([['3', '8.5 设备限值 H', '8.5 设备限值 H'], ['2', '9 设备限值 HH', '9 设备限值 HH']]);
    // The basis is the rule file's own words (the standard, the process design): data, as written.
    const basis = await panel.locator('[data-testid=basis]').allTextContents();
    expect(await englishIn(page, [...DATA_TEXT, ...basis], panel)).toEqual([]);

    // A gas detector: the standard's stages and where they come from.
    await row(page, 'acme/gas-1').locator('[data-testid=device-limits]').click();
    await expect.poll(() => stages(page, 'lel_high')).toEqual([['2', '25', '25'], ['1', '50', '50']]);
    expect(await panel.locator('tr[data-rule=lel_high] [data-testid=basis]').first().textContent()).toContain('GB/T 50493-2019 5.5.2');
    await shot(page, 'console-admin-devices-zh');

    // Revoke: Escape keeps it; confirmed, it is revoked and its buttons go.
    await row(page, 'acme/gas-2').locator('[data-testid=device-revoke]').click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('confirm-cancel');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=confirm]', { state: 'detached' });
    expect(h.registry.device('acme', 'gas-2')!.revokedAt).toBeNull();
    await row(page, 'acme/gas-2').locator('[data-testid=device-revoke]').click();
    await page.click('[data-testid=confirm-ok]');
    await expect.poll(() => row(page, 'acme/gas-2').locator('[data-testid=device-state]').textContent()).toBe('已注销');
    expect(h.registry.device('acme', 'gas-2')!.revokedAt).not.toBeNull();
    expect(await h.registry.verify('acme/gas-2', second)).toBe('revoked');
    expect(await row(page, 'acme/gas-2').locator('[data-testid=device-rotate]').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test("rules: a supervisor overrides a detector's thresholds, refused by the check first, then saved and in force", async () => {
    const { context, page, errors } = await open('en-GB', 'sup');
    await page.goto(`${h.api.url}/#/admin/devices`);
    await row(page, 'acme/gas-1').locator('[data-testid=device-limits]').click();
    // A supervisor sets limits (threshold.write) but does not provision devices (device.write).
    expect(await page.locator('[data-testid=register-device]').count()).toBe(0);
    await page.click('[data-testid=override-device]');
    await page.waitForSelector('[data-testid=admin-rules]');
    expect(await page.locator('[data-testid=override-name]').textContent()).toBe('device@acme@gas-1.yaml');
    await expect.poll(() => page.locator('[data-testid=override-text]').inputValue()).toContain('#   - id: lel_high');
    expect(await page.locator('[data-testid=override-text]').inputValue()).toMatch(/^enterprise: acme\ndevice: gas-1\nrules: \[\]\n/);
    // The template passes as it stands.
    await page.click('[data-testid=check-override]');
    await expect.poll(() => page.locator('[data-testid=check-result]').getAttribute('data-ok')).toBe('true');
    expect(await page.locator('[data-testid=check-result]').textContent()).toContain('rules ok:');

    const good = 'enterprise: acme\ndevice: gas-1\nrules:\n  - id: lel_high\n    stages:\n      - { level: 2, raise: 20 }\n      - { level: 1, raise: 40 }\n';
    await page.fill('[data-testid=override-text]', good.replace('- id: lel_high', '- id: lel_high\n    metric: ppm'));
    await page.click('[data-testid=check-override]');
    await expect.poll(() => page.locator('[data-testid=check-result]').getAttribute('data-ok')).toBe('false');
    expect(await page.locator('[data-testid=check-result]').textContent()).toContain('rule lel_high: metric ppm is not a metric of gas_combustible');
    // Saving it anyway is refused by the server with the same words; nothing is written.
    await page.click('[data-testid=save-override]');
    await expect.poll(() => page.locator('[data-testid=check-result]').textContent()).toContain('metric ppm is not a metric');
    expect(existsSync(join(rulesDir, 'device@acme@gas-1.yaml'))).toBe(false);

    await page.fill('[data-testid=override-text]', good);
    await page.click('[data-testid=check-override]');
    await expect.poll(() => page.locator('[data-testid=check-result]').getAttribute('data-ok')).toBe('true');
    await page.click('[data-testid=save-override]');
    await expect.poll(() => page.locator('[data-testid=check-result]').textContent()).toContain('Saved');
    expect(readFileSync(join(rulesDir, 'device@acme@gas-1.yaml'), 'utf8')).toBe(good);
    await page.locator('[data-testid=override-table] tr[data-file="device@acme@gas-1.yaml"]').waitFor();
    await shot(page, 'console-admin-rules');

    // In force for the device, beside the standard's default.
    await page.click('[data-testid=admin-tab-devices]');
    await row(page, 'acme/gas-1').locator('[data-testid=device-limits]').click();
    await expect.poll(() => stages(page, 'lel_high')).toEqual([['2', '20', '25'], ['1', '40', '50']]);
    expect(await page.locator('[data-testid=threshold-rules] tr[data-rule=lel_high] td.changed').count()).toBe(2);
    // The supervisor has no accounts tab.
    expect(await page.locator('[data-testid=admin-tab-accounts]').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test('hazard sources, accounts, maintenance and the audit trail', async () => {
    const { context, page, errors } = await open('en-GB', ADMIN.username, ADMIN.password);
    // A hazard source regraded: the colour follows the grade; placed on the map.
    await page.goto(`${h.api.url}/#/admin/sources`);
    const reactor = page.locator('[data-testid=source-table] tr[data-source="acme/reactor"]');
    await reactor.locator('[data-testid=edit-source]').click();
    const sf = page.locator('[data-testid=source-form]');
    await sf.locator('select[name=grade]').selectOption('2');
    await sf.locator('input[name=lat]').fill('30.7512');
    await sf.locator('input[name=lon]').fill('121.2488');
    await page.click('[data-testid=form-submit]');
    await expect.poll(() => reactor.locator('[data-testid=grade]').textContent()).toBe('Grade 2');
    expect(await reactor.locator('[data-testid=risk]').textContent()).toBe('Orange');
    const stored = (await h.api.app.inject({ method: 'GET', url: '/api/v1/enterprises/acme/hazard-sources/reactor', headers: admin })).json();
    expect(stored).toMatchObject({ grade: 2, riskColour: 'orange', lat: 30.7512, lon: 121.2488 });

    // An account: created for an enterprise, disabled (it cannot sign in), enabled, its password reset.
    await page.click('[data-testid=admin-tab-accounts]');
    await page.click('[data-testid=new-account]');
    const af = page.locator('[data-testid=account-form]');
    await af.locator('input[name=username]').fill('acme-officer');
    await af.locator('input[name=displayName]').fill('Acme safety officer');
    await af.locator('select[name=role]').selectOption('enterprise');
    await af.locator('select[name=enterprise]').selectOption('acme');
    await af.locator('input[name=password]').fill('short');
    await page.click('[data-testid=form-submit]');
    await expect.poll(() => af.locator('[data-testid=form-error]').textContent()).toContain('at least 10 characters');
    await af.locator('input[name=password]').fill('officer-password-1');
    await page.click('[data-testid=form-submit]');
    const officer = page.locator('[data-testid=account-table] tr[data-account="acme-officer"]');
    await expect.poll(() => officer.textContent()).toContain('Enterprise user');
    expect(await officer.textContent()).toContain('Acme Chemicals');
    await officer.locator('[data-testid=toggle-account]').click();
    await expect.poll(() => officer.locator('[data-testid=account-state]').textContent()).toBe('Disabled');
    const signIn = (password: string) => h.api.app.inject({ method: 'POST', url: '/api/v1/session', payload: { username: 'acme-officer', password } }).then((r) => r.statusCode);
    expect(await signIn('officer-password-1')).toBe(401);
    await officer.locator('[data-testid=toggle-account]').click();
    await expect.poll(() => officer.locator('[data-testid=account-state]').textContent()).toBe('Active');
    await officer.locator('[data-testid=reset-password]').click();
    await page.locator('[data-testid=reset-form] input[name=password]').fill('officer-password-2');
    await page.click('[data-testid=form-submit]');
    await expect.poll(() => page.locator('[data-testid=account-notice]').textContent()).toContain('The password of acme-officer was reset');
    expect(await signIn('officer-password-1')).toBe(401);
    expect(await signIn('officer-password-2')).toBe(200);

    // Maintenance: started for a device, listed as active, ended early.
    await page.click('[data-testid=admin-tab-maintenance]');
    await page.waitForSelector('[data-testid=no-windows]');
    await page.click('[data-testid=new-window]');
    const wf = page.locator('[data-testid=window-form]');
    await wf.locator('select[name=device]').selectOption('gas-1');
    await wf.locator('input[name=reason]').fill('calibration with test gas');
    await wf.locator('input[name=minutes]').fill('90');
    await page.click('[data-testid=form-submit]');
    const win = page.locator('[data-testid=window-table] tbody tr');
    await expect.poll(() => win.getAttribute('data-state')).toBe('active');
    expect(await win.textContent()).toContain('Whole device');
    const [w] = await h.alarms.maintenance({ enterprise: 'acme', device: 'gas-1' });
    expect(w).toMatchObject({ reason: 'calibration with test gas', condition: null, by: 'admin', endedAt: null, until: w.from + 90 * 60_000 });
    await win.locator('[data-testid=end-window]').click();
    await page.click('[data-testid=confirm-ok]');
    await page.waitForSelector('[data-testid=no-windows]');
    await page.uncheck('input[name=active]');
    await expect.poll(() => win.getAttribute('data-state')).toBe('ended');
    expect((await h.alarms.maintenance({ enterprise: 'acme', device: 'gas-1' }))[0].endedBy).toBe('admin');

    // The audit trail: by action, by user page by page, and its export with the same filter.
    await page.click('[data-testid=admin-tab-audit]');
    const actions = () => page.locator('[data-testid=audit-table] tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-action')));
    await page.fill('[data-testid=audit-filters] input[name=action]', 'account.update');
    await page.click('[data-testid=audit-apply]');
    await expect.poll(() => actions()).toEqual(['account.update', 'account.update', 'account.update']);
    expect(await page.locator('[data-testid=audit-table] tbody tr').first().textContent()).toContain('acme-officer');
    await page.fill('[data-testid=audit-filters] input[name=action]', 'rules.check');
    await page.fill('[data-testid=audit-filters] input[name=username]', 'chem');
    await page.click('[data-testid=audit-apply]');
    await expect.poll(() => page.locator('[data-testid=audit-shown]').textContent()).toBe('50 shown');
    const newest = await page.locator('[data-testid=audit-table] tbody tr').first().getAttribute('data-seq');
    await page.click('[data-testid=audit-older]');
    await expect.poll(() => page.locator('[data-testid=audit-shown]').textContent()).toBe('5 shown');
    expect(Number(await page.locator('[data-testid=audit-table] tbody tr').first().getAttribute('data-seq'))).toBeLessThan(Number(newest));
    expect(await page.locator('[data-testid=audit-older]').isDisabled()).toBe(true);
    await page.click('[data-testid=audit-newest]');
    await expect.poll(() => page.locator('[data-testid=audit-shown]').textContent()).toBe('50 shown');
    const href = (await page.getAttribute('[data-testid=audit-export-csv]', 'href'))!;
    expect(href).toContain('username=chem');
    expect(href).toContain('action=rules.check');
    const csv = await page.evaluate(async (u) => (await fetch(u)).text(), href);
    expect(csv.trim().split(/\r\n/)).toHaveLength(56);
    await shot(page, 'console-admin-audit');
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);

  test('an enterprise user manages its own devices and maintenance, reads its rules and audit, and nothing else', async () => {
    const { context, page, errors } = await open('zh-CN', 'chem');
    await page.goto(`${h.api.url}/#/admin/accounts`);
    // No accounts tab: the address falls back to the devices.
    await page.waitForSelector('[data-testid=admin-devices]');
    expect(await page.locator('[data-testid=admin] nav a').evaluateAll((l) => l.map((a) => a.getAttribute('data-testid')))).toEqual(['admin-tab-devices', 'admin-tab-sources', 'admin-tab-rules', 'admin-tab-maintenance', 'admin-tab-audit']);
    await expect.poll(() => deviceIds(page)).toEqual(['acme/gas-1', 'acme/gas-2', 'acme/reactor-1', 'acme/tank-1']);
    // Its own enterprise only, fixed in the form.
    await page.click('[data-testid=register-device]');
    expect(await page.locator('[data-testid=register-form] input[name=enterprise]').inputValue()).toBe('acme');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('enterprise');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=register-form]', { state: 'detached' });
    // Limits are the monitoring room's: shown, not editable.
    await row(page, 'acme/tank-1').locator('[data-testid=device-limits]').click();
    await expect.poll(() => page.locator('[data-testid=limits-panel] input[name="level.HH"]').isDisabled()).toBe(true);
    expect(await page.locator('[data-testid=save-limits]').count()).toBe(0);

    await page.click('[data-testid=admin-tab-sources]');
    await page.waitForSelector('[data-testid=source-table] tbody tr');
    expect(await page.locator('[data-testid=source-table] tbody tr').evaluateAll((r) => r.map((x) => x.getAttribute('data-source')))).toEqual(['acme/reactor', 'acme/tankfarm']);
    expect(await page.locator('[data-testid=edit-source], [data-testid=new-source]').count()).toBe(0);

    await page.click('[data-testid=admin-tab-rules]');
    await page.waitForSelector('[data-testid=rules-read-only]');
    await expect.poll(() => page.locator('[data-testid=override-table] tbody tr').evaluateAll((r) => r.map((x) => x.getAttribute('data-file')))).toEqual(['device@acme@gas-1.yaml']);
    expect(await page.locator('[data-testid=save-override]').count()).toBe(0);

    await page.click('[data-testid=admin-tab-audit]');
    await page.waitForSelector('[data-testid=audit-table] tbody tr');
    const enterprises = await page.locator('[data-testid=audit-table] tbody tr td:nth-child(3)').allTextContents();
    expect(new Set(enterprises)).toEqual(new Set(['acme']));
    expect(await page.locator('[data-testid=audit-filters] select[name=enterprise]').count()).toBe(0);
    expect(errors).toEqual([]);
    await context.close();
  }, 60_000);
});
