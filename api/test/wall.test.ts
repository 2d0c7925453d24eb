// The wall of the monitoring room and the device page's trend, in real headless Chromium against the
// real pipeline (broker, rules engine, ingest into InfluxDB, API) with a simulated gas detector.
// The wall: counts by level and state equal the alarms this test wrote to the store, a new alarm arrives
// without a reload, each hour's bar counts the alarms raised in it. The device page: the range picker
// changes the query, the chart draws the readings, the threshold bands and the alarm's active period.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { englishIn, HAS_CHROMIUM, launchPersistent, shot, consoleSignIn } from './browser.ts';
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

const HOUR = 3_600_000;

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
  await sources.put({ enterprise: 'acme', id: 'tankfarm', name: 'Tank farm', grade: 2, x: 160, y: 160 });
  await sources.put({ enterprise: 'bravo', id: 'lpg', name: 'LPG spheres', grade: 3, x: 720, y: 200 });
  // Reporting every second, but offline only after 30 s of silence: on a loaded machine the simulator may
  // start publishing seconds after rules began watching, and a blue offline alarm would count on the wall.
  const devices = [{ enterprise: 'acme', id: 'gas-1', class: 'gas_combustible' as const, hazardSource: 'tankfarm', intervalSeconds: 1, connection: { tolerance: 30 }, meta: { hazardSourceGrade: 2 } }];
  const creds = await r.addDevices(devices);
  db = await createTestDatabase('hw_wall');
  const config = loadConfig({
    env: {},
    overrides: {
      dataDir: broker.dataDir,
      mqtt: { url: broker.url },
      rules: { writeInflux: false, tickMs: 200, pollMs: 50 },
      ingest: { instance: 'wall-test', influx: { kind: 'v1', url: db.url, database: db.db }, batch: { flushMs: 200 } },
      api: { port: 0, demoLogin: true, adminPassword: 'admin-password-1' },
    },
  });
  const log = silentLogger();
  const rulesCreds = await r.setService('rules');
  rules = await startRules({ config: { ...config, mqtt: { ...config.mqtt, username: rulesCreds.username, password: rulesCreds.password } }, log, metrics: createMetricsRegistry(), registry: r });
  await rules.ready;
  const ingestCreds = await r.setService('ingest');
  ingest = await startIngest({ config: { ...config, mqtt: { ...config.mqtt, username: ingestCreds.username, password: ingestCreds.password } }, log, metrics: createMetricsRegistry(), registry: r });
  await ingest.ready;
  api = await startApi({ config, log, metrics: createMetricsRegistry(), registry: r });
  // Normal readings only: the chart has points, the rules engine raises nothing of its own.
  fleet = startFleet({
    url: broker.url,
    devices: devices.map((d) => ({ enterprise: d.enterprise, id: d.id, class: d.class, intervalSeconds: 1 })),
    credentials: new Map(creds.map((c) => [c.username, c])),
    start: Date.now(),
    speed: 1,
    progress: false,
    faults: [],
  });
  profile = mkdtempSync(join(tmpdir(), 'hazwatch-chromium-'));
  browser = await launchPersistent(profile, { width: 1920, height: 1080 });
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

// Names and ids the fixture wrote, the unit and the language switch: the only Latin text a Chinese page may show.
const DATA_TEXT = ['Acme Chemicals', 'Bravo Petrochem', 'Tank farm', 'LPG spheres', 'Demo supervisor', 'acme', 'bravo', 'gas-1', 'tankfarm', 'lel', '%LEL', 'HH', 'LL', 'EN'];

type Raise = Pick<RaiseInput, 'enterprise' | 'device' | 'deviceClass' | 'condition' | 'level' | 'message'> & Partial<RaiseInput>;
const raise = async (input: Raise) => (await rules.store.raise({ site: 'plant', hazardSource: null, metric: null, value: null, threshold: null, at: Date.now(), ...input }))!.alarm;

describe.skipIf(!HAS_CHROMIUM)('the wall and the device trend in Chromium', () => {
  test('the wall: counts by level and state, enterprises, worst sources, today per hour, live', async () => {
    const store = rules.store;
    const by = DEMO_LOGIN.username;
    const now = Date.now();
    const hourStart = Math.floor(now / HOUR) * HOUR;
    const midnight = new Date(now).setHours(0, 0, 0, 0);
    // An alarm of the hour before, when that is still today: closed, so it counts in the trend only.
    const earlier = hourStart - HOUR >= midnight ? hourStart - 20 * 60_000 : null;
    const tank = { enterprise: 'acme', deviceClass: 'vessel', hazardSource: 'tankfarm' };
    // Unacknowledged and active (red), acknowledged and active (orange), cleared before anyone signed
    // (yellow), cleared and signed, waiting to be closed (blue), and one closed.
    await raise({ ...tank, device: 'tank-1', condition: 'HW_ALM_LEVEL_HIGH', level: 1, message: 'Level above HH' });
    const temp = await raise({ ...tank, device: 'tank-2', condition: 'HW_ALM_TEMPERATURE_HIGH', level: 2, message: 'Temperature high' });
    await store.acknowledge(temp.id, by);
    const pressure = await raise({ enterprise: 'bravo', device: 'pump-3', deviceClass: 'fire_water', hazardSource: 'lpg', condition: 'HW_ALM_FIRE_WATER_PRESSURE_LOW', level: 3, message: 'Pressure low' });
    await store.clearAuto(pressure.id, 0.21, Date.now());
    const battery = await raise({ enterprise: 'bravo', device: 'smoke-5', deviceClass: 'smoke_alarm', condition: 'HW_ALM_LOW_BATTERY', level: 4, message: 'Low battery' });
    await store.acknowledge(battery.id, by);
    await store.clearAuto(battery.id, null, Date.now());
    const smoke = await raise({ enterprise: 'bravo', device: 'smoke-4', deviceClass: 'smoke_alarm', condition: 'HW_ALM_SMOKE', level: 1, message: 'Smoke', at: earlier ?? Date.now() });
    await store.acknowledge(smoke.id, by);
    await store.clearAuto(smoke.id, null, Date.now());
    await store.closeAlarm(smoke.id, by);
    let thisHour = earlier ? 4 : 5;

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await consoleSignIn(page, api.url, DEMO_LOGIN.username, DEMO_LOGIN.password);
    await page.click('[data-testid=wall-link]');
    expect(await page.locator('[data-testid=wall-link]').textContent()).toBe('大屏');
    const wall = page.locator('[data-testid=wall]');
    const count = (testid: string) => wall.locator(`[data-testid=${testid}]`).getAttribute('data-count');
    await expect.poll(() => count('wall-level-1'), { timeout: 15_000 }).toBe('1');
    // Needing attention (active, or not yet signed for): one per level 1-3; the blue one is handled.
    expect([await count('wall-level-2'), await count('wall-level-3'), await count('wall-level-4')]).toEqual(['1', '1', '0']);
    expect([await count('wall-unacked'), await count('wall-acked'), await count('wall-to-close')]).toEqual(['2', '1', '1']);
    // ISA-101: a zero is grey, a count in its level's colour.
    const bg = (testid: string) => wall.locator(`[data-testid=${testid}]`).evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await bg('wall-level-1')).toBe('rgb(211, 47, 47)');
    expect(await bg('wall-level-4')).toBe('rgba(0, 0, 0, 0)');
    // A row per enterprise with its worst level; the worst hazard source first.
    const ents = wall.locator('[data-testid=wall-enterprises] tbody tr');
    expect(await ents.evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-enterprise'), tr.getAttribute('data-worst')]))).toEqual([
      ['acme', '1'],
      ['bravo', '3'],
    ]);
    expect(await wall.locator('[data-testid=wall-enterprises] tr[data-enterprise=acme] td[data-level="2"]').textContent()).toBe('1');
    expect(await wall.locator('[data-testid=wall-sources] tr').evaluateAll((trs) => trs.map((tr) => [tr.getAttribute('data-source'), tr.getAttribute('data-worst')]))).toEqual([
      ['acme/tankfarm', '1'],
      ['bravo/lpg', '3'],
    ]);
    // Today per hour: each bar counts the alarms raised in its hour.
    const bar = (at: number) => wall.locator(`[data-testid=wall-trend] g[data-at="${at}"]`);
    await expect.poll(() => bar(hourStart).getAttribute('data-count')).toBe(String(thisHour));
    if (earlier) expect(await bar(hourStart - HOUR).getAttribute('data-count')).toBe('1');
    expect(await wall.locator('[data-testid=wall-trend] g[data-at]').count()).toBe(24);
    expect(await wall.locator('[data-testid=wall-trend] g[data-at]').first().getAttribute('data-hour')).toBe('0');
    expect(await wall.locator('[data-testid=wall-trend-total]').textContent()).toBe('今日共 5 条');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);

    // A new alarm arrives on the wall over the stream, without a reload.
    await page.evaluate(() => ((window as unknown as { __sameLoad: boolean }).__sameLoad = true));
    await raise({ ...tank, device: 'tank-3', condition: 'HW_ALM_PRESSURE_HIGH', level: 2, message: 'Pressure high' });
    thisHour++;
    await expect.poll(() => count('wall-level-2'), { timeout: 10_000 }).toBe('2');
    expect(await count('wall-unacked')).toBe('3');
    await expect.poll(() => bar(hourStart).getAttribute('data-count'), { timeout: 10_000 }).toBe(String(thisHour));
    expect(await wall.locator('[data-testid=wall-enterprises] tr[data-enterprise=acme] td[data-level="2"]').textContent()).toBe('2');
    expect(await page.evaluate(() => (window as unknown as { __sameLoad?: boolean }).__sameLoad)).toBe(true);
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await shot(page, 'console-wall-zh');
    await page.click('[data-lang=en]');
    await expect.poll(() => wall.locator('h2').textContent()).toBe('Monitoring wall');
    await shot(page, 'console-wall');
    await page.click('[data-lang=zh]');
    expect(errors).toEqual([]);
  }, 90_000);

  test('the device trend: range picker, readings, threshold bands, shaded alarm periods', async () => {
    // An alarm of the detector six to three minutes ago: its active period is shaded on the chart.
    const t0 = Date.now();
    const fault = await raise({ enterprise: 'acme', device: 'gas-1', deviceClass: 'gas_combustible', hazardSource: 'tankfarm', condition: 'HW_ALM_DEVICE_FAULT', level: 3, message: 'Device fault', at: t0 - 6 * 60_000 });
    await rules.store.clearAuto(fault.id, null, t0 - 3 * 60_000);

    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const queries: string[] = [];
    page.on('request', (r) => r.url().includes('/chart?') && queries.push(new URL(r.url()).search));
    await page.goto(`${api.url}/#/device/acme/gas-1`); // still signed in, in Chinese
    const chart = page.locator('[data-testid=trend-chart]');
    // Readings arrive every second; the last hour shows them once ingest has written a few.
    const points = async () => JSON.parse((await chart.getAttribute('data-points', { timeout: 1000 }).catch(() => null)) ?? '{}').lel ?? 0;
    await expect.poll(async () => (await chart.count()) ? points() : (await page.reload(), 0), { timeout: 30_000, interval: 2000 }).toBeGreaterThan(0);
    expect(await chart.getAttribute('data-minutes')).toBe('60');
    expect(queries[0]).toBe('?minutes=60');
    // The canvas holds the readings (uPlot's own data), one series per numeric channel.
    const drawn = await chart.evaluate((el) => {
      const u = (el.querySelector('.uplot')?.parentElement as unknown as { __uplot: { data: (number | null)[][]; series: { label: string; scale: string }[] } }).__uplot;
      return { series: u.series.slice(1).map((s) => s.scale), values: u.data[1].filter((v) => v !== null).length, canvas: !!el.querySelector('canvas') };
    });
    expect(drawn.series).toEqual(['lel']);
    expect(drawn.values).toBe(await points());
    expect(drawn.canvas).toBe(true);
    // Threshold bands: the %LEL rule's stages in force, each in its level.
    const bands = JSON.parse((await chart.getAttribute('data-bands'))!) as { metric: string; direction: string; value: number; level: number }[];
    const rule = (await page.evaluate(async () => (await fetch('/api/v1/enterprises/acme/devices/gas-1/thresholds')).json())) as { rules: { metric: string; stages: { level: number; raise: number | null }[] }[] };
    const expected = rule.rules.filter((r) => r.metric === 'lel').flatMap((r) => r.stages.filter((s) => s.raise !== null).map((s) => [s.raise, s.level]));
    expect(expected.length).toBeGreaterThan(0);
    for (const [value, level] of expected) expect(bands).toContainEqual({ metric: 'lel', direction: 'high', value, level });
    // The alarm's active period, shaded from raised to cleared.
    const periods = JSON.parse((await chart.getAttribute('data-periods'))!) as { id: string; from: number; to: number; level: number }[];
    expect(periods).toContainEqual({ id: fault.id, level: 3, from: t0 - 6 * 60_000, to: t0 - 3 * 60_000 });
    // …and painted: the shade over the period is lighter than the plot beside it. Compared by the median
    // of the plot's whole column at each time, so that a reading's line or a band crossing one sampled
    // pixel (where they cross depends on the readings) does not decide it.
    const shade = await chart.evaluate((el, [from, to, before]) => {
      const u = (el.querySelector('.uplot')?.parentElement as unknown as { __uplot: { valToPos: (v: number, s: string, c?: boolean) => number; bbox: { top: number; height: number }; ctx: CanvasRenderingContext2D } }).__uplot;
      const column = (t: number) => {
        const data = u.ctx.getImageData(Math.round(u.valToPos(t / 1000, 'x', true)), Math.round(u.bbox.top), 1, Math.round(u.bbox.height)).data;
        const median = (channel: number) => {
          const values = Array.from({ length: data.length / 4 }, (_, i) => data[i * 4 + channel]).sort((a, b) => a - b);
          return values[values.length >> 1];
        };
        return [median(0), median(1), median(2)];
      };
      return { inside: column((from + to) / 2), outside: column(before) };
    }, [t0 - 6 * 60_000, t0 - 3 * 60_000, t0 - 30 * 60_000]);
    expect(shade.inside[0]).toBeGreaterThan(shade.outside[0]);
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await shot(page, 'console-device-trend-zh', page.locator('.panel').filter({ has: chart }));

    // The range picker changes the query; the server answers from the readings or their aggregates.
    for (const minutes of [1440, 10080, 525600]) {
      await page.click(`[data-testid=range-picker] button[data-minutes="${minutes}"]`);
      await expect.poll(() => queries.at(-1)).toBe(`?minutes=${minutes}`);
      await expect.poll(() => page.locator(`[data-testid^=trend-][data-minutes="${minutes}"]`).count()).toBe(1);
      expect(await page.locator(`[data-testid=range-picker] button[data-minutes="${minutes}"]`).getAttribute('class')).toBe('on');
    }
    // 24 hours back still holds the readings and the alarm's period.
    await page.click('[data-testid=range-picker] button[data-minutes="1440"]');
    await expect.poll(() => chart.getAttribute('data-minutes')).toBe('1440');
    expect(await points()).toBeGreaterThan(0);
    expect(JSON.parse((await chart.getAttribute('data-periods'))!).map((p: { id: string }) => p.id)).toContain(fault.id);
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    expect(errors).toEqual([]);
  }, 90_000);
});
