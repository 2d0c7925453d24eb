// The console in real headless Chromium against the real pipeline: our broker, the rules engine,
// the API, and a simulated gas detector whose leak raises the alarm. The operator signs in, sees the
// alarm arrive live, acknowledges it, closes it once it has returned to normal, and watches the
// hazard source on the map turn from the alarm colour back to normal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, type Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { englishIn, HAS_CHROMIUM, launchPersistent, shot } from './browser.ts';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { openHazardSources } from '../../registry/hazard-sources.ts';
import { startIngest, type IngestService } from '../../ingest/service.ts';
import { startRules, type RulesService } from '../../rules/service.ts';
import { createTestDatabase } from '../../test/support/influx.ts';
import { startFleet, type Fleet } from '../../simulators/fleet.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { startApi, type ApiService, DEMO_LOGIN } from '../start.ts';
import type { RaiseInput } from '../../rules/store-types.ts';


let broker: TestBroker;
let rules: RulesService;
let ingest: IngestService;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let api: ApiService;
let fleet: Fleet;
let browser: BrowserContext;
let profile: string;

beforeAll(async () => {
  broker = await startTestBroker();
  const r = broker.registry;
  await r.addEnterprise('acme', 'Acme Chemicals');
  await r.addEnterprise('bravo', 'Bravo Petrochem');
  const sources = await openHazardSources(r.database);
  await sources.setPlace({ enterprise: 'acme', x: 40, y: 40, width: 440, height: 280, address: '' });
  await sources.setPlace({ enterprise: 'bravo', x: 530, y: 60, width: 420, height: 300, address: '' });
  await sources.put({ enterprise: 'acme', id: 'tankfarm', name: 'Tank farm', grade: 2, x: 160, y: 160 });
  await sources.put({ enterprise: 'bravo', id: 'lpg', name: 'LPG spheres', grade: 3, x: 720, y: 200 });
  // Reporting every second, but offline only after 30 s of silence: on a loaded machine the simulator may
  // start publishing seconds after rules began watching, and a blue offline alarm would colour the map.
  const connection = { tolerance: 30 };
  const devices = [
    { enterprise: 'acme', id: 'gas-1', class: 'gas_combustible' as const, hazardSource: 'tankfarm', intervalSeconds: 1, connection, meta: { hazardSourceGrade: 2 } },
    { enterprise: 'bravo', id: 'gas-9', class: 'gas_combustible' as const, hazardSource: 'lpg', intervalSeconds: 1, connection, meta: { hazardSourceGrade: 3 } },
  ];
  const creds = await r.addDevices(devices);

  db = await createTestDatabase('hw_console');
  // A device-scoped override, as an enterprise would write one: a shorter off-delay keeps the test short.
  const ruleFile = join(broker.dataDir, 'gas-1.yaml');
  writeFileSync(ruleFile, 'class: gas_combustible\nenterprise: acme\ndevice: gas-1\nrules:\n  - { id: lel_high, offDelaySeconds: 2 }\n');
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: broker.dataDir,
      mqtt: { url: broker.url },
      rules: { writeInflux: false, tickMs: 200, pollMs: 50, files: [ruleFile] },
      ingest: { instance: 'console-test', influx: { kind: 'v1', url: db.url, database: db.db }, batch: { flushMs: 200 } },
      api: { port: 0, demoLogin: true, demo: true, adminPassword: 'admin-password-1' },
    },
  });
  const log = silentLogger();
  const rulesCreds = await r.setService('rules');
  rules = await startRules({ config: { ...config, mqtt: { ...config.mqtt, username: rulesCreds.username, password: rulesCreds.password } }, log, metrics: createMetricsRegistry(), registry: r });
  await rules.ready;
  // Ingest stores the readings, for the device page's chart.
  const ingestCreds = await r.setService('ingest');
  ingest = await startIngest({ config: { ...config, mqtt: { ...config.mqtt, username: ingestCreds.username, password: ingestCreds.password } }, log, metrics: createMetricsRegistry(), registry: r });
  await ingest.ready;
  api = await startApi({ config, log, metrics: createMetricsRegistry(), registry: r });

  // The leak starts 12 s in (after the browser has signed in, even on a loaded machine), holds, and dies
  // away: the alarm is raised and later clears by itself.
  const start = Date.now();
  fleet = startFleet({
    url: broker.url,
    devices: devices.map((d) => ({ enterprise: d.enterprise, id: d.id, class: d.class, intervalSeconds: 1 })),
    credentials: new Map(creds.map((c) => [c.username, c])),
    start,
    speed: 1,
    progress: false,
    faults: [{ enterprise: 'acme', device: 'gas-1', at: start + 12_000, fault: { kind: 'gas_leak', peak: 40, rampSeconds: 2, holdSeconds: 8, decaySeconds: 2, delaySeconds: 0, factor: 1 } }],
  });

  profile = mkdtempSync(join(tmpdir(), 'hazwatch-chromium-'));
  browser = await launchPersistent(profile, { width: 1600, height: 900 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await fleet?.stop().catch(() => undefined);
  await api?.close();
  await rules?.close();
  await ingest?.close();
  await db?.drop();
  await broker?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

// Names, ids and notes that the fixture and the operators wrote, the metric codes, units, the ISA limit
// labels and the language switch: the only Latin text a Chinese page may show.
const DATA_TEXT = ['Acme Chemicals', 'Bravo Petrochem', 'Tank farm', 'LPG spheres', 'Demo supervisor', 'Closed the leaking flange valve, area ventilated', 'verified on site', 'demo', 'acme', 'bravo', 'gas-1', 'tank-1', 'tank-2', 'pump-3', 'smoke-4', 'smoke-5', 'tankfarm', 'lpg', 'lel', '%LEL', 'MPa', 'HH', 'LL', 'EN', 'ISA-18.2'];


describe.skipIf(!HAS_CHROMIUM)('monitoring-room console in Chromium', () => {
  test('sign in, see the simulator\'s alarm live, acknowledge, close, map colour follows', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${api.url}/`);
    // Chinese for a zh-CN browser.
    await expect.poll(() => page.locator('form[data-testid=login] button[type=submit]').textContent()).toBe('登录');
    await page.fill('input[name=username]', DEMO_LOGIN.username);
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    await page.waitForSelector('[role=alert]');
    await page.fill('input[name=password]', DEMO_LOGIN.password);
    await page.click('button[type=submit]');
    await page.waitForSelector('[data-testid=map]');
    // The console's own CJK font is served and renders its Chinese, whatever fonts the machine has.
    expect(await page.evaluate(async () => (await document.fonts.load('16px "Hazwatch Sans SC"', '危险源监测预警')).length)).toBeGreaterThan(0);
    expect(await page.evaluate(() => document.fonts.check('16px "Hazwatch Sans SC"', '可燃气体浓度高报限值'))).toBe(true);
    // Simulated devices (api.demo): every page says it is a demo.
    expect(await page.locator('[data-testid=demo]').textContent()).toBe('演示');

    const source = page.locator('[data-source="acme/tankfarm"]');
    await expect.poll(() => source.getAttribute('data-colour'), { timeout: 10_000 }).toBe('normal');

    // The leak reaches 40 %LEL: first stage, orange (level 2), pushed over the live stream.
    const row = page.locator('tr[data-device="acme/gas-1"]').first();
    await row.waitFor({ timeout: 30_000 });
    expect(await row.getAttribute('data-level')).toBe('2');
    expect(await row.getAttribute('data-state')).toBe('active_unacknowledged');
    expect(await row.getAttribute('class')).toContain('flash');
    // Present when the operator opened the console and not looked at yet: new, until the row is clicked.
    expect(await row.getAttribute('data-unseen')).toBe('true');
    expect(await row.locator('.tag-new').textContent()).toBe('新');
    await expect.poll(() => source.getAttribute('data-colour'), { timeout: 10_000 }).toBe('orange');
    expect(await page.locator('[data-testid=counts] [data-level="2"]').textContent()).toContain('1');
    await shot(page, 'console-alarm');
    await row.locator('td').first().click();
    await expect.poll(() => row.getAttribute('data-unseen')).toBe('false');
    expect(await row.locator('.tag-new').count()).toBe(0);
    expect(await row.getAttribute('class')).not.toContain('unseen');

    // The four-colour risk map shows the assessed risk instead (grade 2 → orange by default).
    await page.click('[data-testid=mode-risk]');
    await expect.poll(() => page.locator('[data-source="bravo/lpg"]').getAttribute('data-colour')).toBe('yellow');
    await page.click('[data-testid=mode-live]');

    const firstId = (await row.getAttribute('data-alarm-id'))!;
    const first = page.locator(`tr[data-alarm-id="${firstId}"]`);
    await first.locator('button[data-action=acknowledge]').click();
    await expect.poll(() => first.getAttribute('data-state'), { timeout: 10_000 }).toMatch(/_acknowledged$/);
    expect(await first.getAttribute('class')).not.toContain('flash');

    // The detector reports its own stage-1 alarm and the rules engine sees the %LEL reading cross
    // 25: sign for each as it comes, until the leak has died away and every one has cleared.
    const rows = page.locator('tr[data-device="acme/gas-1"]');
    const deadline = Date.now() + 45_000;
    for (;;) {
      const states = await rows.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-alarm-id')!, tr.getAttribute('data-state')!] as const));
      for (const [id, state] of states) {
        if (state.endsWith('_unacknowledged')) await page.locator(`tr[data-alarm-id="${id}"] button[data-action=acknowledge]`).click();
      }
      if (states.length > 0 && states.every(([, state]) => state === 'cleared_acknowledged')) break;
      if (Date.now() > deadline) throw new Error(`alarms did not clear: ${JSON.stringify(states)}`);
      await page.waitForTimeout(500);
    }
    const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-alarm-id')!));
    // Each detail line in Chinese, from the alarm's code and parameters (rules wrote the English one).
    const lines = () => page.locator('tr[data-device="acme/gas-1"] .msg').allTextContents();
    // One leak, one alarm: the detector's own stage is recorded on the %LEL alarm, not listed as a second one.
    expect(ids).toEqual([firstId]);
    expect(await lines()).not.toContain('设备上报：气体探测器报警');
    // Returned to normal and signed for: no active alarm is left, the source turns back to normal.
    await expect.poll(() => source.getAttribute('data-colour'), { timeout: 10_000 }).toBe('normal');

    await page.locator(`tr[data-alarm-id="${firstId}"] button[data-action=feedback]`).click();
    await page.selectOption('select[name=cause]', 'real_hazard');
    await page.fill('textarea[name=measures]', 'Closed the leaking flange valve, area ventilated');
    await page.click('[data-testid=action-form] button[type=submit]');
    await page.locator('[data-testid=action-form]').waitFor({ state: 'detached' });
    for (const id of ids) {
      await page.locator(`tr[data-alarm-id="${id}"] button[data-action=close]`).click();
      await page.fill('textarea[name=note]', 'verified on site');
      await page.click('[data-testid=action-form] button[type=submit]');
      await page.locator('[data-testid=action-form]').waitFor({ state: 'detached' });
    }
    await page.click('button:has-text("全部")');
    for (const id of ids) await expect.poll(() => page.locator(`tr[data-alarm-id="${id}"]`).getAttribute('data-state'), { timeout: 10_000 }).toBe('closed');
    await expect.poll(() => source.getAttribute('data-colour'), { timeout: 10_000 }).toBe('normal');

    // The full history, and the English console.
    await page.locator(`tr[data-alarm-id="${firstId}"] button[data-action=history]`).click();
    const history = await page.locator('[data-testid=history]').textContent();
    for (const step of ['产生', '签收', '反馈', '自动恢复', '关闭']) expect(history).toContain(step);
    // The detector's own first stage, recorded on the %LEL alarm, in words (its code is English).
    expect(history).toContain('设备报警印证');
    expect(history).toContain('设备自身上报一级报警，对应二级 橙色');
    // The Chinese view has no English word of its own: what is left is what people typed or named.
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await page.click('.modal', { position: { x: 5, y: 5 } });
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await page.click('button:has-text("EN")');
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('Hazard-source monitoring');

    // The device page: live values, with the chart area and the alarm.
    await page.goto(`${api.url}/#/device/acme/gas-1`);
    await page.waitForSelector('[data-testid=device-page] tr[data-metric=lel]');
    await expect.poll(async () => (await page.locator('tr[data-metric=lel] .big').textContent())?.trim().startsWith('—')).toBe(false);
    // The last hour, from InfluxDB, with the leak in it (the trend itself: api/test/wall.test.ts).
    const trend = page.locator('[data-testid=trend-chart]');
    await trend.waitFor({ timeout: 15_000 });
    await expect.poll(async () => JSON.parse((await trend.getAttribute('data-points')) ?? '{}').lel ?? 0, { timeout: 15_000 }).toBeGreaterThan(0);
    expect(await trend.getAttribute('data-minutes')).toBe('60');
    expect(JSON.parse((await trend.getAttribute('data-periods'))!).length).toBeGreaterThan(0);
    await shot(page, 'console-device');
    await page.click('button:has-text("中")');
    await expect.poll(() => page.locator('h1').first().textContent()).toBe('危险源监测预警');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await shot(page, 'console-device-zh');
    expect(errors).toEqual([]);
  }, 120_000);

  test('colour for what needs attention (ISA-101), new or escalated until seen, consequences beneath their cause', async () => {
    // Alarms in every state, written to the store as the rules engine would (devices it does not
    // evaluate, so it leaves them be): an HH level with the tripped interlock grouped under it, an
    // acknowledged one, one cleared before anyone signed, one cleared and signed, one closed.
    const store = rules.store;
    const by = DEMO_LOGIN.username;
    type Raise = Pick<RaiseInput, 'enterprise' | 'device' | 'deviceClass' | 'condition' | 'level' | 'message'> & Partial<RaiseInput>;
    const raise = async (input: Raise) => (await store.raise({ site: 'plant', hazardSource: null, metric: null, value: null, threshold: null, at: Date.now(), ...input }))!.alarm;
    const tank = { enterprise: 'acme', deviceClass: 'vessel', hazardSource: 'tankfarm' };
    const hh = await raise({ ...tank, device: 'tank-1', condition: 'HW_ALM_LEVEL_HIGH', level: 1, metric: 'level', value: 9.6, threshold: 9.5, message: 'Level 9.6 m above HH 9.5 m' });
    const trip = await raise({ ...tank, device: 'tank-1', condition: 'HW_ALM_INTERLOCK_TRIP', level: 2, message: 'Device reports: interlock tripped', parentId: hh.id });
    await store.corroborate(hh.id, { rule: 'vessel_interlock', condition: 'HW_ALM_INTERLOCK_TRIP', event: 'interlock_trip', level: 1, at: Date.now() });
    const temp = await raise({ ...tank, device: 'tank-2', condition: 'HW_ALM_TEMPERATURE_HIGH', level: 2, metric: 'temperature', value: 61.2, threshold: 60, message: 'Temperature 61.2 °C above 60 °C' });
    await store.acknowledge(temp.id, by);
    const pressure = await raise({ enterprise: 'bravo', device: 'pump-3', deviceClass: 'fire_water', hazardSource: 'lpg', condition: 'HW_ALM_FIRE_WATER_PRESSURE_LOW', level: 3, metric: 'pressure', value: 0.12, threshold: 0.15, message: 'Pressure 0.12 MPa below 0.15 MPa' });
    await store.clearAuto(pressure.id, 0.21, Date.now());
    const smoke = await raise({ enterprise: 'bravo', device: 'smoke-4', deviceClass: 'smoke_alarm', condition: 'HW_ALM_SMOKE', level: 1, message: 'Device reports: smoke' });
    await store.acknowledge(smoke.id, by);
    await store.clearAuto(smoke.id, null, Date.now());
    const battery = await raise({ enterprise: 'bravo', device: 'smoke-5', deviceClass: 'smoke_alarm', condition: 'HW_ALM_LOW_BATTERY', level: 4, message: 'Device reports: low battery' });
    await store.acknowledge(battery.id, by);
    await store.clearAuto(battery.id, null, Date.now());
    await store.closeAlarm(battery.id, by);
    const open = [hh, trip, temp, pressure, smoke];

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${api.url}/`); // still signed in, in Chinese (the first test's choice)
    const tr = (id: string) => page.locator(`tr[data-alarm-id="${id}"]`);
    await tr(trip.id).waitFor({ timeout: 15_000 });
    const panel = page.locator('.panel').filter({ has: page.locator('[data-testid=alarm-list]') });

    // One cause, one alarm: the interlock is a sub-row directly beneath the HH alarm, not a row of its own.
    const order = await page.locator('[data-testid=alarm-list] tr[data-alarm-id]').evaluateAll((trs) => trs.map((t) => t.getAttribute('data-alarm-id')));
    expect(order.filter((id) => id === trip.id)).toHaveLength(1);
    expect(order.indexOf(trip.id)).toBe(order.indexOf(hh.id) + 1);
    expect(await tr(trip.id).getAttribute('class')).toContain('consequence');
    expect(await tr(trip.id).getAttribute('data-parent-id')).toBe(hh.id);
    expect(await tr(trip.id).locator('[data-testid=caused-by]').textContent()).toBe('起因：液位高报');
    expect(await tr(hh.id).getAttribute('class')).not.toContain('consequence');
    // What needs attention above what is handled: the cleared and signed level-1 smoke alarm below the rest.
    expect(order.indexOf(smoke.id)).toBe(order.length - 1);
    // The cause flashes; the consequence, signed with it, does not call on its own.
    expect(await tr(hh.id).getAttribute('class')).toContain('flash');
    expect(await tr(trip.id).getAttribute('class')).not.toContain('flash');

    // Colour for what needs attention, as the browser paints it.
    const css = (loc: Locator, prop: string) => loc.evaluate((el, p) => getComputedStyle(el).getPropertyValue(p), prop);
    const TRANSPARENT = 'rgba(0, 0, 0, 0)';
    // Acknowledged and active: a neutral row; the level's orange only on its badge.
    expect(await tr(temp.id).getAttribute('data-state')).toBe('active_acknowledged');
    expect(await css(tr(temp.id), 'background-color')).toBe(TRANSPARENT);
    for (const i of [0, 2, 3]) expect(await css(tr(temp.id).locator('td').nth(i), 'background-color')).toBe(TRANSPARENT);
    expect(await css(tr(temp.id).locator('.lvl'), 'background-color')).toBe('rgb(245, 124, 0)');
    expect(await tr(temp.id).getAttribute('class')).not.toContain('flash');
    // Active and unacknowledged: red across the row, flashing; without motion as strong, but still.
    const cell = tr(hh.id).locator('td').nth(2);
    expect(await css(cell, 'animation-name')).toBe('flash');
    expect(await css(cell, 'background-color')).toMatch(/^rgba\(211, 47, 47, 0\.\d+\)$/);
    await page.emulateMedia({ reducedMotion: 'reduce' });
    expect(await css(cell, 'animation-name')).toBe('none');
    expect(await css(cell, 'background-color')).toBe('rgba(211, 47, 47, 0.55)');
    expect(await css(tr(trip.id).locator('td').nth(2), 'background-color')).toBe(TRANSPARENT);
    // Cleared: faded; the one still waiting for a signature outlined; closed faded most.
    const opacity = async (id: string) => Number(await css(tr(id), 'opacity'));
    expect(await opacity(hh.id)).toBe(1);
    expect(await opacity(pressure.id)).toBeLessThan(1);
    expect(await css(tr(pressure.id), 'outline-style')).toBe('dashed');
    expect(await opacity(smoke.id)).toBeLessThan(await opacity(pressure.id));
    expect(await css(tr(smoke.id), 'outline-style')).toBe('none');

    // Never looked at in this browser: every one is new, until "all seen".
    for (const a of open) expect(await tr(a.id).getAttribute('data-unseen')).toBe('true');
    await page.click('[data-testid=all-seen]');
    for (const a of open) await expect.poll(() => tr(a.id).getAttribute('data-unseen')).toBe('false');
    expect(await page.locator('.tag-new').count()).toBe(0);
    expect(await page.locator('[data-testid=all-seen]').isDisabled()).toBe(true);
    // Escalated since it was seen: new again. It stays signed for, so its row stays neutral: the tag is what tells.
    await store.changeLevel(temp.id, { level: 1, value: 72.5, threshold: 70, message: 'Temperature 72.5 °C above 70 °C', at: Date.now() });
    await expect.poll(() => tr(temp.id).getAttribute('data-unseen'), { timeout: 10_000 }).toBe('true');
    expect(await tr(temp.id).getAttribute('data-state')).toBe('active_acknowledged');
    expect(await tr(temp.id).locator('.tag-new').textContent()).toBe('新');
    expect(await css(tr(temp.id), 'background-color')).toBe(TRANSPARENT);
    expect(await css(tr(temp.id).locator('.lvl'), 'background-color')).toBe('rgb(211, 47, 47)');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await shot(page, 'console-alarms-zh', panel);
    await page.click('[data-lang=en]');
    await expect.poll(() => tr(trip.id).locator('[data-testid=caused-by]').textContent()).toBe('Caused by: Vessel level high (H/HH)');
    expect(await tr(temp.id).locator('.tag-new').textContent()).toBe('NEW');
    await shot(page, 'console-alarms', panel);
    await page.click('[data-lang=zh]');
    await page.emulateMedia({ reducedMotion: 'no-preference' });

    // Clicking the row is looking at it; the browser remembers across a reload.
    await tr(temp.id).locator('td').first().click();
    await expect.poll(() => tr(temp.id).getAttribute('data-unseen')).toBe('false');
    await page.reload();
    await tr(trip.id).waitFor({ timeout: 15_000 });
    for (const a of open) expect(await tr(a.id).getAttribute('data-unseen')).toBe('false');

    // Signing for the cause signs for its consequence (the server does it; the stream brings it).
    await tr(hh.id).locator('button[data-action=acknowledge]').click();
    await expect.poll(() => tr(hh.id).getAttribute('data-state'), { timeout: 10_000 }).toBe('active_acknowledged');
    await expect.poll(() => tr(trip.id).getAttribute('data-state'), { timeout: 10_000 }).toBe('active_acknowledged');
    expect(await tr(hh.id).getAttribute('class')).not.toContain('flash');
    expect(await css(tr(hh.id).locator('td').nth(2), 'background-color')).toBe(TRANSPARENT);

    // The history in words: the device's own stage on the alarm, the cause a consequence was put under.
    const history = page.locator('[data-testid=history]');
    const closeDetail = () => page.click('.modal', { position: { x: 5, y: 5 } });
    await tr(hh.id).locator('button[data-action=history]').click();
    await expect.poll(() => history.textContent()).toContain('设备报警印证');
    expect(await history.textContent()).toContain('设备自身上报联锁动作，对应一级 红色');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await shot(page, 'console-history-zh', page.locator('.modal .box'));
    await closeDetail();
    await tr(trip.id).locator('button[data-action=history]').click();
    await expect.poll(() => history.textContent()).toContain('归入起因报警');
    for (const words of ['起因：液位高报', '随起因报警签收']) expect(await history.textContent()).toContain(words);
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await closeDetail();
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await page.click('[data-lang=en]');
    await tr(hh.id).locator('button[data-action=history]').click();
    await expect.poll(() => history.textContent()).toContain('Device reported Interlock trip (interlock_trip), Level 1 red');
    await closeDetail();
    await page.click('[data-lang=zh]');

    // The closed one only under "all", faded most.
    await page.click('.filters button:has-text("全部")');
    await tr(battery.id).waitFor();
    expect(await opacity(battery.id)).toBeLessThan(await opacity(smoke.id));
    expect(await tr(battery.id).getAttribute('data-unseen')).toBe('false');
    expect(errors).toEqual([]);
  }, 90_000);

  test('alarm quality: the ISA-18.2 figures beside their benchmarks, the monthly report, the platform\'s processes', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${api.url}/`); // still signed in, in Chinese
    await page.click('[data-testid=quality-link]');
    const figures = page.locator('[data-testid=figures]');
    await figures.waitFor({ timeout: 15_000 });
    // The earlier tests of this file raised alarms: they are counted here.
    expect(Number(await figures.locator('[data-figure=raised] td.num').textContent())).toBeGreaterThan(0);
    expect(await figures.locator('[data-figure=flood] td').first().textContent()).toBe('报警泛滥时间占比');
    expect(await page.locator('[data-testid=response] tr').count()).toBe(5);
    expect(await page.locator('[data-testid=monthly-report]').getAttribute('href')).toBe('/api/v1/alarm-quality/report?lang=zh');
    await page.locator('[data-testid=platform]').waitFor();
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await shot(page, 'console-quality-zh');
    // The printable report opens in the signed-in session.
    const report = await page.evaluate(async () => (await fetch('/api/v1/alarm-quality/report?lang=zh')).text());
    expect(report).toContain('报警质量月报');
    await page.click('[data-lang=en]');
    await expect.poll(() => page.locator('[data-testid=quality] h2').textContent()).toBe('Alarm quality and platform state');
    await page.click('[data-lang=zh]');
    expect(errors).toEqual([]);
  }, 60_000);
});
