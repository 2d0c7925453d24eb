// The one map on a geographic map (issue 17) in real headless Chromium: markers where their
// coordinates say, layers on and off, live and risk colours, a click opens what was clicked, the
// alarm detail lists the nearest emergency resources with their distances, a camera's snapshot and
// live video are linked, and 2,000 resources at province scale gather into a few dozen markers.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { englishIn, HAS_CHROMIUM, launchBrowser, shot, consoleSignIn } from './browser.ts';
import { distanceKm } from '../../registry/geo.ts';
import { DEMO_RESOURCES_CSV } from '../../resources/demo.ts';
import type { Alarm } from '../../contract/alarms.ts';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';


let h: Harness;
let browser: Browser;
let context: BrowserContext;
let profile: string;
let gasAlarm: Alarm;
let camAlarm: Alarm;
const SNAPSHOT = 'http://nvr.example.org/snap/cam-1/1796529600000.jpg';
const STREAM = 'http://nvr.example.org/live/cam-1.m3u8';
const TANKFARM = { lat: 30.752, lon: 121.246 };

beforeAll(async () => {
  h = await startHarness();
  await seedPlant(h);
  // A camera with its own position and live stream, and a detector placed on the map.
  await h.registry.addDevices([
    { enterprise: 'acme', id: 'cam-1', class: 'camera', name: 'Tank farm camera', hazardSource: 'tankfarm', meta: { lat: 30.7524, lon: 121.2448, streamUrl: STREAM } },
    { enterprise: 'bravo', id: 'gas-10', class: 'gas_combustible', hazardSource: 'lpg', meta: { lat: 30.7615, lon: 121.2702 } },
  ]);
  const admin = await login(h, ADMIN.username, ADMIN.password);
  const imported = await h.api.app.inject({ method: 'POST', url: '/api/v1/resources/import', headers: { ...admin, 'content-type': 'text/csv' }, payload: readFileSync(DEMO_RESOURCES_CSV) });
  expect(imported.json()).toMatchObject({ imported: 16 });
  gasAlarm = await raiseAlarm(h, 'acme', 'gas-1', 1);
  camAlarm = (await h.alarms.raise({ enterprise: 'acme', device: 'cam-1', deviceClass: 'camera', site: '', hazardSource: 'tankfarm', condition: 'HW_ALM_VIDEO_FIRE', level: 1, metric: null, value: null, threshold: null, message: 'Device reports: smoke or flame', snapshot: SNAPSHOT, at: h.clock.t }))!.alarm;
  profile = mkdtempSync(join(tmpdir(), 'hazwatch-chromium-'));
  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1600, height: 900 }, locale: 'zh-CN' });
}, 60_000);

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await h?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

// What the fixture and the resource register named, ids, codes and units: the only Latin a Chinese page may show.
const DATA_TEXT = ['Acme Chemicals', 'Bravo Petrochem', 'Tank farm camera', 'Tank farm T1', 'Reactor R2', 'LPG spheres', 'Administrator', 'acme', 'bravo', 'tankfarm', 'lpg', 'gas-10', 'gas-1', 'cam-1', '%LEL', 'EN'];


type MapView = { lat: number; lon: number; zoom: number };
const MAP = '[data-testid=geo-map]';
/** Moves the Leaflet map (no animation) and answers how long the redraw took, in ms. */
const setView = (page: Page, v: MapView) =>
  page.evaluate(({ lat, lon, zoom }) => {
    const map = (document.querySelector('[data-testid=geo-map]') as unknown as { hwMap: { setView(c: [number, number], z: number, o: object): void } }).hwMap;
    const t0 = performance.now();
    map.setView([lat, lon], zoom, { animate: false });
    return performance.now() - t0;
  }, v);
const zoomOf = (page: Page) => page.evaluate(() => (document.querySelector('[data-testid=geo-map]') as unknown as { hwMap: { getZoom(): number } }).hwMap.getZoom());

/** Where on the map a marker's centre is, and where its coordinates are in the map's projection. */
async function placement(page: Page, marker: Locator) {
  return marker.evaluate((el) => {
    const container = document.querySelector('[data-testid=geo-map]')!;
    const map = (container as unknown as { hwMap: { latLngToContainerPoint(ll: [number, number]): { x: number; y: number } } }).hwMap;
    const box = container.getBoundingClientRect();
    const r = el.getBoundingClientRect();
    const d = (el as HTMLElement).dataset;
    const want = map.latLngToContainerPoint([Number(d.lat), Number(d.lon)]);
    return { x: r.left + r.width / 2 - box.left, y: r.top + r.height / 2 - box.top, want, lat: Number(d.lat), lon: Number(d.lon) };
  });
}

async function signIn(page: Page) {
  await consoleSignIn(page, h.api.url, ADMIN.username, ADMIN.password);
}

describe.skipIf(!HAS_CHROMIUM)('the geographic map in Chromium', () => {
  test('markers at their coordinates, live and risk colours, layers on and off, a click opens what it is', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    // Nothing is fetched from anywhere but the API: no tiles without api.tileUrl.
    const elsewhere: string[] = [];
    page.on('request', (r) => !r.url().startsWith(h.api.url) && !r.url().startsWith('data:') && elsewhere.push(r.url()));
    await signIn(page);
    // The plant has coordinates: the map is the first view.
    const source = page.locator(`${MAP} [data-source="acme/tankfarm"]`);
    await source.waitFor({ timeout: 15_000 });
    expect(await page.locator('[data-testid=view-map]').getAttribute('class')).toBe('on');

    // Each marker sits where its coordinates are (Web Mercator, as Leaflet projects them).
    for (const sel of ['[data-source="acme/tankfarm"]', '[data-source="bravo/lpg"]', '[data-enterprise="acme"]', '[data-device="acme/cam-1"]']) {
      const p = await placement(page, page.locator(`${MAP} ${sel}`));
      expect(Math.abs(p.x - p.want.x), sel).toBeLessThan(1.5);
      expect(Math.abs(p.y - p.want.y), sel).toBeLessThan(1.5);
    }
    const at = await placement(page, source);
    expect(at.lat).toBeCloseTo(TANKFARM.lat, 9);
    expect(at.lon).toBeCloseTo(TANKFARM.lon, 9);
    // North is up, east is right: the LPG spheres lie north-east of the tank farm.
    const [tank, lpg] = [await placement(page, source), await placement(page, page.locator(`${MAP} [data-source="bravo/lpg"]`))];
    expect(lpg.x).toBeGreaterThan(tank.x);
    expect(lpg.y).toBeLessThan(tank.y);
    // No tiles: a latitude/longitude grid, labelled in the view's words.
    expect(await page.locator(`${MAP} .hw-grid-label`).first().textContent()).toMatch(/^(北纬|东经)\d+\.\d+°$/);

    // Live: the tank farm takes its level-1 alarm's colour, the LPG spheres are normal; risk: the assessed colours.
    await expect.poll(() => source.getAttribute('data-colour')).toBe('red');
    expect(await page.locator(`${MAP} [data-source="bravo/lpg"]`).getAttribute('data-colour')).toBe('normal');
    expect(await page.locator(`${MAP} [data-device="acme/cam-1"]`).getAttribute('data-colour')).toBe('red');
    await page.click('[data-testid=mode-risk]');
    await expect.poll(() => page.locator(`${MAP} [data-source="bravo/lpg"]`).getAttribute('data-colour')).toBe('orange');
    expect(await source.getAttribute('data-colour')).toBe('red');
    await page.click('[data-testid=mode-live]');
    expect(await englishIn(page, DATA_TEXT)).toEqual([]);
    await shot(page, 'console-map-zh');

    // Layers: hazard sources off and on again; a resource kind off and on, close enough to see each one.
    const toggle = (layer: string) => page.locator(`[data-testid=layers] [data-layer="${layer}"] input`).click();
    await toggle('sources');
    await expect.poll(() => page.locator(`${MAP} [data-source]`).count()).toBe(0);
    expect(await page.locator(`${MAP} [data-enterprise="acme"]`).count()).toBe(1);
    await toggle('sources');
    await expect.poll(() => page.locator(`${MAP} [data-source]`).count()).toBe(2);
    await setView(page, { lat: 30.76, lon: 121.27, zoom: 17 });
    const station = page.locator(`${MAP} [data-resource="fs-park"]`);
    await station.waitFor();
    expect(await station.getAttribute('data-kind')).toBe('fire_station');
    await toggle('fire_station');
    await expect.poll(() => station.count()).toBe(0);
    expect(await page.locator(`${MAP} [data-resource="veh-foam"]`).count()).toBe(1);
    await toggle('fire_station');
    await station.waitFor();
    // A click on a resource shows what it is and whom to call.
    await station.click();
    const panel = page.locator('[data-testid=resource-panel]');
    await expect.poll(() => panel.textContent()).toContain('化工区消防救援站');
    expect(await panel.textContent()).toContain('021-57900119');
    expect(await panel.textContent()).toContain('消防灭火、危化品');

    // A click on the hazard source opens it, as on the site plan.
    await setView(page, { ...TANKFARM, zoom: 16 });
    await source.click();
    const sourcePanel = page.locator('[data-testid=source-panel]');
    await expect.poll(() => sourcePanel.textContent()).toContain('Tank farm T1');
    await expect.poll(() => sourcePanel.locator('a[href="#/device/acme/gas-1"]').count()).toBe(1);
    // An enterprise: its panel, and the alarm list filtered to it.
    await setView(page, { lat: 30.76, lon: 121.27, zoom: 16 });
    await page.locator(`${MAP} [data-enterprise="bravo"]`).click();
    await expect.poll(() => page.locator('[data-testid=enterprise-panel]').textContent()).toContain('Bravo Petrochem');
    await expect.poll(() => page.locator('[data-testid=alarm-list] tr[data-alarm-id]').count()).toBe(0);
    // A device: its page, with its live video.
    await setView(page, { ...TANKFARM, zoom: 17 });
    await page.locator(`${MAP} [data-device="acme/cam-1"]`).click();
    await page.waitForSelector('[data-testid=device-page]');
    expect(page.url()).toContain('#/device/acme/cam-1');
    expect(await page.locator('[data-testid=device-video]').getAttribute('href')).toBe(STREAM);
    await page.goBack();
    await page.waitForSelector(`${MAP} [data-enterprise]`);
    // The site plan is still there, one click away.
    await page.click('[data-testid=view-plan]');
    await page.waitForSelector('[data-testid=map] [data-source="acme/tankfarm"]');
    await page.click('[data-testid=view-map]');
    await page.waitForSelector(`${MAP} [data-enterprise]`);

    // Back to every enterprise's alarms, and the English view.
    await page.locator('.filters select').selectOption('');
    await page.click('[data-lang=en]');
    await expect.poll(() => page.locator('[data-testid=layers] [data-layer="rescue_team"]').textContent()).toContain('Rescue team');
    await expect.poll(() => page.locator('[data-testid=alarm-list] tr[data-alarm-id]').count()).toBe(2);
    expect(await page.locator(`${MAP} .hw-grid-label`).first().textContent()).toMatch(/^\d+\.\d+°[NE]$/);
    await shot(page, 'console-map');
    await page.click('[data-lang=zh]');
    expect(elsewhere).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);

  test("the alarm detail lists the nearest resources with their distances; a camera's snapshot and live video are linked", async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${h.api.url}/`);
    const camRow = page.locator(`tr[data-alarm-id="${camAlarm.id}"]`);
    await camRow.waitFor({ timeout: 15_000 });
    // In the row: the snapshot of the event and the camera's live video (its registration's meta.streamUrl).
    await expect.poll(() => camRow.locator('[data-testid=live-video]').count(), { timeout: 15_000 }).toBe(1);
    expect(await camRow.locator('[data-testid=snapshot]').getAttribute('href')).toBe(SNAPSHOT);
    expect(await camRow.locator('[data-testid=snapshot]').textContent()).toContain('快照');
    expect(await camRow.locator('[data-testid=live-video]').getAttribute('href')).toBe(STREAM);
    expect(await camRow.locator('[data-testid=live-video]').textContent()).toContain('视频');
    expect(await camRow.locator('[data-testid=snapshot]').getAttribute('rel')).toBe('noopener noreferrer');
    // The gas detector has no camera: no links.
    expect(await page.locator(`tr[data-alarm-id="${gasAlarm.id}"] .media a`).count()).toBe(0);

    // The gas alarm's detail: from the tank farm, a hazmat team, fire stations, a warehouse with gas masks ...
    await page.locator(`tr[data-alarm-id="${gasAlarm.id}"] button[data-action=history]`).click();
    const nearest = page.locator('[data-testid=nearest]');
    await nearest.locator('td.km').first().waitFor();
    expect(await nearest.locator('h4').textContent()).toContain('按危险源坐标');
    const team = nearest.locator('tr[data-need="rescue_team"]').first();
    expect(await team.getAttribute('data-resource')).toBe('team-hazmat');
    const want = Math.round(distanceKm(TANKFARM, { lat: 30.7431, lon: 121.2395 }) * 1000) / 1000;
    expect(Number(await team.locator('td.km').getAttribute('data-km'))).toBe(want);
    expect(await team.locator('td.km').textContent()).toBe(`${want.toFixed(2)} 公里`);
    expect(await team.textContent()).toContain('张伟');
    // Nearest first within a need.
    const stations = await nearest.locator('tr[data-need="fire_station"] td.km').evaluateAll((tds) => tds.map((td) => Number(td.getAttribute('data-km'))));
    expect(stations.length).toBe(2);
    expect(stations[0]).toBeLessThan(stations[1]);
    const warehouse = nearest.locator('tr[data-need="warehouse"][data-resource="wh-park"]');
    expect(await warehouse.textContent()).toContain('防毒面具 200 个');
    // A gas leak asks for no shelter.
    expect(await nearest.locator('tr[data-need="shelter"]').count()).toBe(0);
    expect(await englishIn(page, DATA_TEXT, page.locator('.modal .box'))).toEqual([]);
    await shot(page, 'console-nearest-zh', page.locator('.modal .box'));
    await page.click('.modal', { position: { x: 5, y: 5 } });

    // The camera's fire alarm: placed at the camera itself, and a fire asks for shelters.
    await camRow.locator('button[data-action=history]').click();
    await expect.poll(() => nearest.locator('h4').textContent()).toContain('按设备坐标');
    expect(await nearest.locator('tr[data-need="shelter"]').count()).toBeGreaterThan(0);
    expect(await page.locator('.modal [data-testid=snapshot]').getAttribute('href')).toBe(SNAPSHOT);
    await page.click('.modal', { position: { x: 5, y: 5 } });
    await page.click('[data-lang=en]');
    await camRow.locator('button[data-action=history]').click();
    await expect.poll(() => nearest.locator('h4').textContent()).toContain("(at the device's coordinates)");
    expect(await nearest.locator('td.km').first().textContent()).toMatch(/^\d+\.\d+ km$/);
    expect(await camRow.locator('[data-testid=snapshot]').textContent()).toContain('Snapshot');
    await page.click('.modal', { position: { x: 5, y: 5 } });
    await page.click('[data-lang=zh]');
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  test('2,000 resources at province scale gather into a few dozen markers and stay responsive', async () => {
    // A province's register: 2,000 resources over about 400 × 400 km around Hangzhou Bay, imported as a CSV.
    let seed = 17;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const rows = ['编号,类型,名称,纬度,经度,所属辖区,联系电话,容量,物资名称,数量,单位'];
    for (let i = 0; i < 2000; i++) {
      const lat = (28.5 + rnd() * 3.5).toFixed(5);
      const lon = (118.5 + rnd() * 4).toFixed(5);
      rows.push(i % 3 === 0 ? `p-${i},避难场所,避难场所${i},${lat},${lon},省应急管理厅,,${100 + i},,,` : i % 3 === 1 ? `p-${i},消防站,消防站${i},${lat},${lon},省消防救援总队,119,,,,` : `p-${i},物资仓库,仓库${i},${lat},${lon},省应急管理厅,,,帐篷,${i},顶`);
    }
    const admin = await login(h, ADMIN.username, ADMIN.password);
    const started = Date.now();
    const res = await h.api.app.inject({ method: 'POST', url: '/api/v1/resources/import', headers: { ...admin, 'content-type': 'text/csv' }, payload: rows.join('\n') });
    expect(res.json()).toMatchObject({ imported: 2000, created: 2000 });
    expect(Date.now() - started).toBeLessThan(20_000);

    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${h.api.url}/`);
    await page.waitForSelector(`${MAP} [data-enterprise]`);
    const count = () => page.locator(`${MAP} .hw-mk`).count();
    const clustered = () => page.locator(`${MAP} .hw-cluster`).evaluateAll((els) => els.reduce((n, el) => n + Number((el as HTMLElement).dataset.cluster), 0));
    // The province in view: every point is there, gathered.
    const times: number[] = [];
    times.push(await setView(page, { lat: 30.2, lon: 120.5, zoom: 7 }));
    const atProvince = await count();
    expect(atProvince).toBeLessThan(100);
    const singles = await page.locator(`${MAP} .hw-resource`).count();
    expect((await clustered()) + singles).toBeGreaterThanOrEqual(2000);
    await shot(page, 'console-map-province', page.locator('.panel').filter({ has: page.locator(MAP) }));
    // Zooming in and out, each redraw (clustering and markers) well under a frame budget of a busy machine.
    for (const zoom of [8, 9, 10, 9, 8, 7, 6]) {
      times.push(await setView(page, { lat: 30.2, lon: 120.5, zoom }));
      expect(await count(), `zoom ${zoom}`).toBeLessThan(300);
    }
    expect(Math.max(...times)).toBeLessThan(1000);
    // A cluster clicked zooms in to where it splits.
    await setView(page, { lat: 30.2, lon: 120.5, zoom: 7 });
    await page.locator(`${MAP} .hw-cluster`).first().click();
    await expect.poll(() => zoomOf(page)).toBeGreaterThan(7);
    expect(errors).toEqual([]);
    await page.close();
  }, 90_000);
});
