// The first run, as a new user makes it (issue 21): `hazwatch start --demo` with nothing configured,
// for SOAK_MINUTES (default 60). Out of the box it must store every device's readings (curves on the
// device page within a minute), keep the demo running with no offline alarm that its scenario does
// not expect, and show the Chinese console without English words of its own.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, test } from 'vitest';
import { alarmDetail } from '../../api/console/i18n.js';
import { reachedBy, type Alarm as ContractAlarm, type AlarmHistoryEntry } from '../../contract/alarms.ts';
import { freePort, waitFor } from '../support/net.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'hazwatch.js');
const MINUTES = Number(process.env.SOAK_MINUTES ?? 60);
const CHROMIUM = '/usr/bin/chromium';
const OFFLINE = 'HW_ALM_DEVICE_OFFLINE';

let child: ChildProcess | undefined;
afterAll(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
});

interface Alarm { id: string; enterprise: string; device: string; condition: string; level: number; raisedAt: number; message: string; metric: string | null; value: number | boolean | null; threshold: number | null; deviceClass: string }

/** Latin words left once the names people gave (enterprises, devices, sources), metric codes, units and the language switch are taken out. */
function englishWords(text: string, names: string[]): string[] {
  for (const d of [...names, 'EN', 'DEMO'].sort((a, b) => b.length - a.length)) text = text.replaceAll(d, ' ');
  return [...new Set(text.match(/[A-Za-z]{2,}/g) ?? [])];
}

describe('hazwatch start --demo, as a new user runs it', () => {
  test(`stores every device within a minute, runs ${MINUTES} min without an unexpected offline alarm, Chinese view without English`, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hw-soak-'));
    const mqttPort = await freePort();
    const apiPort = await freePort();
    // Nothing answers at this URL, so `ingest.influx.kind auto` (the default) runs influxd itself, as on a fresh machine.
    const nobody = await freePort();
    child = spawn(process.execPath, [BIN, 'start', '--demo', '--port', String(mqttPort), '--api-port', String(apiPort), '--data-dir', dataDir], {
      env: { ...process.env, HAZWATCH_LOG_LEVEL: 'warn', HAZWATCH_BROKER_WS_PORT: 'false', HAZWATCH_BROKER_TLS_PORT: 'false', HAZWATCH_INGEST_INFLUX_URL: `http://127.0.0.1:${nobody}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (out += d));
    await waitFor(() => out.includes('Press Ctrl-C to stop.'), 90_000);
    const ready = Date.now();
    expect(out).toMatch(/run by hazwatch/);

    const api = `http://127.0.0.1:${apiPort}`;
    const session = await (await fetch(`${api}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'demo', password: 'hazwatch-demo' }) })).json();
    const auth = { authorization: `Bearer ${session.token}` };
    const get = async (path: string) => {
      const res = await fetch(`${api}${path}`, { headers: auth });
      expect(res.status, path).toBe(200);
      return res.json();
    };

    // Curves for every device within a minute: the device page's chart has points for it.
    const enterprises: { id: string; name: string }[] = await get('/api/v1/enterprises');
    const devices: { id: string; enterprise: string; name?: string; class: string; hazardSource?: string | null }[] = [];
    for (const e of enterprises) devices.push(...(await get(`/api/v1/enterprises/${e.id}/devices`)));
    expect(devices.length).toBeGreaterThan(5);
    const withCurve = new Set<string>();
    await waitFor(async () => {
      for (const d of devices) {
        if (withCurve.has(d.id)) continue;
        const chart = await get(`/api/v1/enterprises/${d.enterprise}/devices/${d.id}/chart?minutes=5&bucketSeconds=5`);
        if (chart.series.some((s: { points: [number, number | null][] }) => s.points.some((p) => p[1] !== null))) withCurve.add(d.id);
      }
      return withCurve.size === devices.length;
    }, 60_000, 2000).catch(() => undefined);
    expect(devices.map((d) => d.id).filter((id) => !withCurve.has(id))).toEqual([]);
    expect(Date.now() - ready).toBeLessThan(75_000);

    // The console page, in Chromium, in Chinese: no English word once the names people gave are set aside.
    const catalog = await get('/api/v1/catalog');
    const sources = (await Promise.all(enterprises.map((e) => get(`/api/v1/enterprises/${e.id}/hazard-sources`)))).flat().flatMap((s: { id: string; name: string }) => [s.id, s.name]);
    // The signed-in account's own name is typed by people too.
    const names = [...Object.values(session.user as Record<string, unknown>).filter((v): v is string => typeof v === 'string'), ...enterprises.flatMap((e) => [e.id, e.name]), ...devices.flatMap((d) => [d.id, d.name ?? '']), ...sources, ...Object.values(catalog.deviceClasses).flatMap((c: any) => Object.entries(c.metrics ?? {}).flatMap(([k, m]: [string, any]) => [k, m.unit ?? '']))].filter(Boolean);
    const chineseConsole = async () => {
      if (!existsSync(CHROMIUM)) return;
      const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      try {
        const page = await browser.newPage({ locale: 'zh-CN' });
        await page.goto(api);
        await page.fill('input[name=username]', 'demo');
        await page.fill('input[name=password]', 'hazwatch-demo');
        await page.click('button[type=submit]');
        await page.waitForSelector('[data-testid=map]');
        await page.waitForSelector('tr[data-alarm-id]', { timeout: 60_000 });
        expect(englishWords(await page.evaluate(() => document.body.innerText), names)).toEqual([]);
      } finally {
        await browser.close();
      }
    };
    await chineseConsole();
    console.log('soak: every device has a curve; the Chinese console has no English');

    // The hour: offline alarms only where the scenario says so.
    const expected = JSON.parse(readFileSync(join(dataDir, 'expected-alarms-demo.json'), 'utf8'));
    const offlineExpected = new Set<string>(expected.alarms.filter((a: { condition: string }) => a.condition === OFFLINE).map((a: { device: string }) => a.device));
    const end = ready + MINUTES * 60_000;
    const seen = new Map<string, Alarm>();
    const poll = async () => {
      const body = await get('/api/v1/alarms?limit=1000');
      for (const a of (body.alarms ?? body.items ?? body) as Alarm[]) seen.set(a.id, a);
      return [...seen.values()].filter((a) => a.condition === OFFLINE && !offlineExpected.has(a.device));
    };
    while (Date.now() < end) {
      expect((await poll()).map((a) => `${a.device} at ${new Date(a.raisedAt).toISOString()}`)).toEqual([]);
      expect(child.exitCode).toBeNull();
      await new Promise((r) => setTimeout(r, Math.min(30_000, Math.max(0, end - Date.now()))));
    }
    expect(await poll()).toEqual([]);
    // The demo kept running: readings are still arriving now.
    const latest = await get('/api/v1/latest');
    const fresh = latest.filter((l: { lastSeen: number | null }) => l.lastSeen !== null && Date.now() - l.lastSeen < 60_000);
    expect(fresh.length).toBeGreaterThan(devices.length / 2);
    // Past one whole demo (10 min), every alarm its scenario expects has been raised.
    if (MINUTES > 11) {
      // A device's own stage recorded on an alarm (one cause, one alarm) counts as its condition reached.
      const raised = new Set<string>();
      for (const a of seen.values()) {
        const { history } = await get(`/api/v1/alarms/${a.id}`);
        for (const change of history as AlarmHistoryEntry[]) {
          const r = reachedBy({ alarm: a as unknown as ContractAlarm, change });
          if (r) raised.add(`${a.device} ${r.condition}`);
        }
      }
      expect(expected.alarms.map((a: { device: string; condition: string }) => `${a.device} ${a.condition}`).filter((k: string) => !raised.has(k))).toEqual([]);
    } else expect(seen.size).toBeGreaterThan(0);

    // Every alarm of the hour reads in Chinese with no English of its own.
    const lines = [...seen.values()].map((a) => `${catalog.conditions[a.condition]?.zh} ${alarmDetail(a, catalog, 'zh')}`);
    expect(lines.flatMap((l) => englishWords(l, names))).toEqual([]);

    await chineseConsole();
    console.log(`soak: ${MINUTES} min, ${seen.size} alarms, ${fresh.length}/${devices.length} devices heard in the last minute`);

    child.kill('SIGINT');
    expect(await new Promise((r) => child!.on('exit', r))).toBe(0);
  });
});
