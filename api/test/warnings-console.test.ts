// The warning pages in Chromium (issue 16): an operator drafts a warning from an alarm's detail in one
// click and submits it (Chinese); a supervisor, another account, approves it (English); the message
// table fills with what the fake SMS gateway and robot took, the gateway's delivery reports mark
// messages delivered or failed, an update and the all-clear go to the same people; the enterprise
// concerned reads it, without a button. A warning by hand through the form: its drafter may not
// approve it, and the page says why.
import { type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { openRoster } from '../../registry/roster.ts';
import { seedDemoRoster } from '../../registry/roster-demo.ts';
import { startHttpSink, type HttpSink } from '../../test/support/http-sink.ts';
import { englishIn, HAS_CHROMIUM, launchBrowser, shot, consoleSignIn } from './browser.ts';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

const REPORT_TOKEN = 'report-token-0123456789';
let h: Harness;
let sms: HttpSink;
let robot: HttpSink;
let smsIds = 0;
let browser: Browser;
let sup: Record<string, string>;

const inject = async (method: string, url: string, headers: Record<string, string>, payload?: unknown) => {
  const res = await h.api.app.inject({ method: method as 'GET', url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.json() };
};

beforeAll(async () => {
  sms = await startHttpSink(() => ({ body: { id: `sms-${++smsIds}` } }));
  robot = await startHttpSink();
  h = await startHarness({
    config: {
      dispatch: {
        channels: [
          { name: 'sms', type: 'sms', gateway: { provider: 'generic', url: `${sms.url}/send` } },
          { name: 'duty-group', type: 'wecom', url: `${robot.url}/wecom` },
        ],
        reportToken: REPORT_TOKEN,
        pollMs: 50,
      },
      warnings: {
        audiences: [
          { id: 'duty_officers', zh: '值班人员', en: 'People on duty', onDuty: true, regulators: true, channels: ['sms', 'duty-group'] },
          { id: 'safety_officers', zh: '企业安全管理人员', en: 'Safety officers', kinds: ['safety_officer', 'principal'], regulators: false, channels: ['sms'] },
        ],
      },
    },
  });
  await seedPlant(h);
  const roster = await openRoster(`${h.dir}/roster.db`);
  await seedDemoRoster(roster, { now: Date.now(), enterprise: { id: 'acme', name: 'Acme Chemicals' } });
  await roster.close();
  const admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [['op', 'operator', null], ['sup', 'supervisor', null], ['acme-user', 'enterprise', 'acme']] as const) {
    expect((await inject('POST', '/api/v1/accounts', admin, { username, password: `${username}-password-1`, role, enterprise })).status).toBe(201);
  }
  sup = await login(h, 'sup', 'sup-password-1');
  if (!HAS_CHROMIUM) return;
  browser = await launchBrowser();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await h?.close();
  await sms?.close();
  await robot?.close();
});

const errors: string[] = [];
const APPROVAL_NOTE = 'Checked with the enterprise';
/** A page of its own browser context (its own session cookie) in that language, signed in. */
async function signIn(lang: 'zh' | 'en', username: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1500, height: 1000 }, locale: lang === 'zh' ? 'zh-CN' : 'en-GB', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.on('pageerror', (e) => errors.push(e.message));
  await consoleSignIn(page, h.api.url, username, `${username}-password-1`);
  await page.waitForSelector('[data-testid=warnings-link]');
  return page;
}
const detail = (page: Page) => page.locator('[data-testid=warning-detail]');
const state = (page: Page) => detail(page).getAttribute('data-state');
const buttons = (page: Page) => page.locator('[data-testid=warning-actions] button').evaluateAll((bs) => bs.map((b) => `${b.getAttribute('data-action')}${(b as HTMLButtonElement).disabled ? ':disabled' : ''}`));
const rowStates = (page: Page, revision: number) => page.locator(`[data-testid=warning-messages] tr[data-revision="${revision}"]`).evaluateAll((rs) => rs.map((r) => r.getAttribute('data-state')));
async function act(page: Page, action: string, fields: Record<string, string> = {}) {
  await page.click(`[data-testid=warning-actions] button[data-action=${action}]`);
  for (const [name, value] of Object.entries(fields)) await page.fill(`[data-testid=warning-action] [name=${name}]`, value);
  await page.click('[data-testid=warning-action] button[type=submit]');
  await page.waitForSelector('[data-testid=warning-action]', { state: 'detached' });
}
/** Latin the Chinese pages may show: what the test and the fixture wrote, and the warning's English text. */
const dataText = (w: any) => ['Acme Chemicals', 'gas-1', 'LEL', 'op', 'sup', 'acme-user', 'sms', 'duty-group', 'EN', APPROVAL_NOTE, w.id, w.textEn, ...w.recipients.map((r: any) => r.email ?? '')].filter(Boolean);

describe.skipIf(!HAS_CHROMIUM)('warnings in Chromium', () => {
  test('from an alarm to the all-clear: drafted and submitted by an operator (zh), approved by a supervisor (en), sent with receipts, read by the enterprise', async () => {
    const alarm = await raiseAlarm(h, 'acme', 'gas-1', 1);

    // The operator: the alarm's detail, one click, the draft prefilled from the alarm and its template.
    const op = await signIn('zh', 'op');
    await op.click(`[data-alarm-id="${alarm.id}"] button[data-action=history]`);
    await op.click('[data-testid=publish-warning]');
    await op.waitForSelector('[data-testid=warning-detail][data-state=draft]');
    const id = (await detail(op).getAttribute('data-warning-id'))!;
    expect(op.url()).toContain(`#/warnings/${id}`);
    expect(await op.locator('[data-testid=warning-title]').textContent()).toBe('Acme Chemicals气体泄漏红色预警');
    expect(await op.locator('[data-testid=warning-text]').textContent()).toMatch(/^【红色预警】.*gas-1/);
    expect(await op.locator('[data-testid=warning-text-en]').textContent()).toMatch(/^\[Red warning\]/);
    expect(await detail(op).locator('header .chip').getAttribute('data-level')).toBe('1');
    expect(await op.locator('[data-testid=warning-alarm]').textContent()).toContain('可燃气体浓度超限 · gas-1');
    expect(await buttons(op)).toEqual(['edit', 'submit', 'withdraw']);
    const draft = (await inject('GET', `/api/v1/warnings/${id}`, sup)).body;
    expect(await englishIn(op, dataText(draft))).toEqual([]);

    // Submitted: a red warning waits for a supervisor; the operator sees approval offered to others, and why.
    await act(op, 'submit');
    await expect.poll(() => state(op)).toBe('pending_approval');
    expect(await buttons(op)).toEqual(['approve:disabled', 'withdraw']);
    expect(await op.locator('[data-testid=warning-why]').textContent()).toBe('审批须由主管或管理员进行');
    expect(await op.locator('[data-testid=no-messages]').textContent()).toBe('审批通过后开始发送');

    // The supervisor, in English: the top bar counts it, the list shows it, approval publishes it.
    const boss = await signIn('en', 'sup');
    await expect.poll(() => boss.locator('[data-testid=warnings-pending]').textContent()).toBe('1');
    await boss.click('[data-testid=warnings-link]');
    const row = boss.locator(`[data-testid=warning-list] tr[data-warning-id="${id}"]`);
    await expect.poll(() => row.getAttribute('data-state')).toBe('pending_approval');
    expect(await row.textContent()).toContain('Awaiting approval');
    expect(await row.locator('.chip').textContent()).toBe('Red');
    await row.locator('a').click();
    await boss.waitForSelector('[data-testid=warning-detail]');
    expect(await buttons(boss)).toEqual(['approve', 'reject', 'withdraw']);
    await act(boss, 'approve', { note: APPROVAL_NOTE });
    await expect.poll(() => state(boss)).toBe('published');

    // Every person on duty and every safety officer by SMS, the duty group once by the robot: the table
    // fills as the dispatcher sends, without a reload.
    await expect.poll(() => rowStates(boss, 1).then((s) => s.length > 0 && !s.includes('queued')), { timeout: 10_000 }).toBe(true);
    const w = (await inject('GET', `/api/v1/warnings/${id}`, sup)).body;
    const smsRows = w.deliveries.filter((d: any) => d.channel === 'sms');
    expect(smsRows.length).toBe(w.recipients.length);
    expect(w.recipients.map((r: any) => r.id)).toEqual(expect.arrayContaining(['ent-guo', 'ent-yang']));
    expect(await rowStates(boss, 1)).toEqual(w.deliveries.map((d: any) => d.state));
    expect(await boss.locator('[data-testid=warning-messages] tr[data-channel=sms]').first().textContent()).toMatch(/Sent.*gateway accepted \(id sms-\d+\)/);
    const group = boss.locator('[data-testid=warning-messages] tr[data-channel=duty-group]');
    expect(await group.count()).toBe(1);
    expect(await group.textContent()).toMatch(/Group.*WeCom.*Delivered.*robot accepted/);
    expect(robot.requests.filter((r) => r.path === '/wecom' && r.text.includes('气体泄漏')).length).toBeGreaterThan(0);
    expect(await boss.locator('[data-testid=warning-recipients] tr[data-recipient]').count()).toBe(w.recipients.length);
    expect(await detail(boss).locator('tr', { hasText: 'Approved by' }).textContent()).toContain('sup');

    // The gateway's delivery reports: one delivered, one failed with its reason; the page follows.
    const [a, b] = smsRows;
    const report = await h.api.app.inject({ method: 'POST', url: '/api/v1/dispatch/reports/sms', headers: { authorization: `Bearer ${REPORT_TOKEN}` }, payload: [{ ref: String(a.id), status: 'delivered' }, { ref: String(b.id), status: 'failed', error: '用户关机' }] });
    expect(report.statusCode).toBe(200);
    await expect.poll(() => boss.locator(`tr[data-delivery="${b.id}"]`).getAttribute('data-state'), { timeout: 8000 }).toBe('failed');
    expect(await boss.locator(`tr[data-delivery="${b.id}"]`).textContent()).toContain('delivery report: 用户关机');
    expect(await boss.locator(`tr[data-delivery="${a.id}"]`).getAttribute('data-state')).toBe('delivered');
    const progress = detail(boss).locator('[data-testid=progress]');
    expect(await progress.getAttribute('data-delivered')).toBe('2');
    expect(await progress.getAttribute('data-failed')).toBe('1');
    expect(await progress.getAttribute('data-sent')).toBe(String(smsRows.length - 2));
    expect(await progress.textContent()).toContain(`2 delivered · ${smsRows.length - 2} sent · 1 failed, of ${smsRows.length + 1}`);
    await shot(boss, 'console-warning');

    // An update, then the all-clear, to the same people.
    await act(boss, 'update', { text: '泄漏点已封堵，继续监测。' });
    await expect.poll(() => detail(boss).getAttribute('data-revisions')).toBe('2');
    await act(boss, 'all_clear', { note: '现场检测正常。' });
    await expect.poll(() => state(boss)).toBe('all_clear');
    expect(await detail(boss).getAttribute('data-revisions')).toBe('3');
    await expect.poll(() => rowStates(boss, 3).then((s) => s.length === smsRows.length + 1 && !s.includes('queued')), { timeout: 10_000 }).toBe(true);
    expect(await buttons(boss)).toEqual([]);
    expect(await boss.locator('[data-testid=warning-history] tr').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-action-done')))).toEqual(['drafted', 'submitted', 'approved', 'published', 'updated', 'all_clear']);
    const texts = sms.requests.map((r) => r.body.text as string);
    expect(texts.filter((t) => t.startsWith('【预警解除】') && t.includes('现场检测正常'))).toHaveLength(smsRows.length);


    // The enterprise concerned reads it (list and page), with no button to press.
    const done = (await inject('GET', `/api/v1/warnings/${id}`, sup)).body;
    const acme = await signIn('zh', 'acme-user');
    await acme.click('[data-testid=warnings-link]');
    const mine = acme.locator(`[data-testid=warning-list] tr[data-warning-id="${id}"]`);
    await expect.poll(() => mine.getAttribute('data-state')).toBe('all_clear');
    expect(await mine.textContent()).toContain('已解除');
    expect(await acme.locator('[data-testid=new-warning]').count()).toBe(0);
    expect(await englishIn(acme, dataText(done))).toEqual([]);
    await mine.locator('a').click();
    await acme.waitForSelector('[data-testid=warning-detail]');
    expect(await buttons(acme)).toEqual([]);
    expect(await acme.locator('[data-testid=read-only]').count()).toBe(1);
    expect(await acme.locator('[data-testid=warning-messages] tr[data-delivery]').count()).toBe(done.deliveries.length);

    // The operator's page follows on its own; in Chinese, the messages and receipts are in Chinese.
    await expect.poll(() => state(op), { timeout: 10_000 }).toBe('all_clear');
    expect(await op.locator(`tr[data-delivery="${b.id}"]`).textContent()).toContain('送达回执：用户关机');
    expect(await op.locator('[data-testid=warning-messages] tr[data-channel=duty-group]').first().textContent()).toContain('机器人已接收');
    await shot(op, 'console-warning-zh');
    expect(await englishIn(op, dataText(done))).toEqual([]);

    expect(errors).toEqual([]);
  });

  test('a warning by hand: the form with its template, an edit, and no approval by its own drafter', async () => {
    const page = await signIn('en', 'sup');
    await page.click('[data-testid=warnings-link]');
    await page.click('[data-testid=new-warning]');
    const form = page.locator('[data-testid=warning-form]');
    // The level is the first field and has the focus: the form is filled from the keyboard.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('level');
    await expect.poll(() => form.locator('[name=text]').inputValue()).toBe('【黄色预警】');
    await form.locator('[name=level]').selectOption('2');
    expect(await form.locator('[name=text]').inputValue()).toBe('【橙色预警】');
    expect(await form.locator('[name=textEn]').inputValue()).toBe('[Orange warning] ');
    await form.locator('[name=text]').fill('【橙色预警】罐区应急演练，请勿惊慌。');
    await form.locator('[name=title]').fill('Tank farm drill');
    await form.locator('[data-testid=warning-enterprises] input[value=acme]').check();
    expect(await form.locator('[data-testid=warning-audiences] input:checked').evaluateAll((i) => i.map((x) => (x as HTMLInputElement).value))).toEqual(['duty_officers', 'safety_officers']);
    await form.locator('button[type=submit]').click();
    await page.waitForSelector('[data-testid=warning-detail][data-state=draft]');
    expect(await page.locator('[data-testid=warning-title]').textContent()).toBe('Tank farm drill');
    expect(await detail(page).locator('tr', { hasText: 'Enterprises concerned' }).textContent()).toContain('Acme Chemicals');

    await page.click('[data-testid=warning-actions] button[data-action=edit]');
    await page.fill('[data-testid=warning-form] [name=title]', 'Tank farm drill at 15:00');
    await page.click('[data-testid=warning-form] button[type=submit]');
    await expect.poll(() => page.locator('[data-testid=warning-title]').textContent()).toBe('Tank farm drill at 15:00');
    await act(page, 'submit');
    await expect.poll(() => state(page)).toBe('pending_approval');
    expect(await buttons(page)).toEqual(['approve:disabled', 'reject', 'withdraw']);
    expect(await page.locator('[data-testid=warning-why]').textContent()).toContain('another supervisor must approve it');
    // Rejected with its reason (required: Escape first closes the form unsent), back to the drafter's hands.
    await page.click('[data-testid=warning-actions] button[data-action=reject]');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('note');
    await page.keyboard.press('Escape');
    await page.waitForSelector('[data-testid=warning-action]', { state: 'detached' });
    await act(page, 'reject', { note: 'Say where to gather' });
    await expect.poll(() => state(page)).toBe('rejected');
    expect(await buttons(page)).toEqual(['edit', 'submit', 'withdraw']);
    expect(await page.locator('[data-testid=warning-history] tr[data-action-done=rejected]').textContent()).toContain('Say where to gather');
    await act(page, 'withdraw');
    await expect.poll(() => state(page)).toBe('withdrawn');

    // The list filtered by state.
    await detail(page).locator('header a.button').click();
    await page.selectOption('[data-testid=warning-filters] select[name=state]', 'withdrawn');
    await expect.poll(() => page.locator('[data-testid=warning-list] tbody tr').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-state')))).toEqual(['withdrawn']);
    await page.selectOption('[data-testid=warning-filters] select[name=state]', '');
    await expect.poll(() => page.locator('[data-testid=warning-list] tbody tr').count()).toBe(2);
    await shot(page, 'console-warnings');
    expect(errors).toEqual([]);
  });
});
