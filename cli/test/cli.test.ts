// The command line as an operator uses it: real child processes, real ports, real signals.
import { spawn, type ChildProcess } from 'node:child_process';
import { getPriority } from 'node:os';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/support/influx.ts';
import { freePort, waitFor } from '../../test/support/net.ts';

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'hazwatch.js');
const children: ChildProcess[] = [];

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, HAZWATCH_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const output = { out: '', err: '' };
  child.stdout!.on('data', (d) => (output.out += d));
  child.stderr!.on('data', (d) => (output.err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output, exited };
}

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
});

describe('hazwatch command line', () => {
  it('refuses a wrong setting, naming it and where it came from', async () => {
    const bad = run(['broker', '--port', 'abc', '--data-dir', mkdtempSync(join(tmpdir(), 'hw-cli-'))]);
    expect(await bad.exited).toBe(2);
    expect(bad.output.err).toMatch(/HW_ERR_CONFIG/);
    expect(bad.output.err).toMatch(/broker\.port/);

    const env = run(['config'], { HAZWATCH_BROKER_MAX_CONNECTIONS: 'many' });
    expect(await env.exited).toBe(2);
    expect(env.output.err).toMatch(/broker\.maxConnections.*HAZWATCH_BROKER_MAX_CONNECTIONS/);

    const typo = run(['config'], { HAZWATCH_BROKR_PORT: '1' });
    expect(await typo.exited).toBe(2);
    expect(typo.output.err).toMatch(/unknown environment variable HAZWATCH_BROKR_PORT/);

    const unknown = run(['fly']);
    expect(await unknown.exited).toBe(2);
    expect(unknown.output.err).toMatch(/unknown command "fly"/);
  });

  it('serves /healthz and /metrics beside a long-running command at the CPU priority configured, and stops cleanly on SIGTERM', async () => {
    const ops = await freePort();
    const mqttPort = await freePort();
    const broker = run(['broker', '--port', String(mqttPort), '--ws-port', 'false', '--data-dir', mkdtempSync(join(tmpdir(), 'hw-cli-'))], {
      HAZWATCH_OPS_PORT: String(ops),
      // Lower than this test's own: a process may always lower its CPU priority.
      HAZWATCH_NICE: String(Math.min(19, getPriority() + 3)),
    });
    await waitFor(async () => (await fetch(`http://127.0.0.1:${ops}/healthz`).catch(() => undefined))?.status === 200, 30_000);
    expect(getPriority(broker.child.pid!)).toBe(Math.min(19, getPriority() + 3));
    const metrics = await (await fetch(`http://127.0.0.1:${ops}/metrics`)).text();
    expect(metrics).toMatch(/hazwatch_broker_clients_connected/);
    broker.child.kill('SIGTERM');
    expect(await broker.exited).toBe(0);
  });

  it('ingest.shareGroup on its own broker: start runs, its broker serving the shared subscription', async () => {
    const start = run(['start', '--port', String(await freePort()), '--api-port', String(await freePort()), '--data-dir', mkdtempSync(join(tmpdir(), 'hw-share-'))], {
      HAZWATCH_BROKER_WS_PORT: 'false',
      HAZWATCH_BROKER_TLS_PORT: 'false',
      HAZWATCH_INGEST_INFLUX_KIND: 'none',
      HAZWATCH_INGEST_SHARE_GROUP: 'ingest',
    });
    await waitFor(() => start.output.out.includes('Press Ctrl-C to stop.') || start.child.exitCode !== null, 60_000);
    expect(start.output.err).not.toMatch(/HW_ERR_SHARED_SUBSCRIPTION/);
    expect(start.child.exitCode).toBeNull();
    start.child.kill('SIGTERM');
    expect(await start.exited).toBe(0);
  });

  it('device add prints credentials once, list shows the device, revoke marks it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-cli-'));
    const add = run(['device', 'add', 'acme/gas-01', '--class', 'gas_combustible', '--site', 'north', '--json', '--data-dir', dir]);
    expect(await add.exited).toBe(0);
    const creds = JSON.parse(add.output.out);
    expect(creds).toMatchObject({ username: 'acme/gas-01', clientId: 'acme/gas-01' });
    expect(creds.password).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const list = run(['device', 'list', '--data-dir', dir]);
    expect(await list.exited).toBe(0);
    expect(list.output.out).toMatch(/acme\/gas-01\s+gas_combustible\s+north\s+active\s+always\/5s\s+-\s+-\s+never heard/);
    expect(list.output.out).not.toContain(creds.password);
    // What the device promised and the meta rules need, declared at registration and changed later.
    const smoke = run(['device', 'add', 'acme/smk-01', '--class', 'smoke_alarm', '--connection', 'intermittent', '--interval', '3600', '--tolerance', '2', '--data-dir', dir]);
    expect(await smoke.exited).toBe(0);
    const set = run(['device', 'set', 'acme/gas-01', '--interval', '10', '--grace', '60', '--meta', 'limits.lel.H=20', '--meta', 'note=north wall', '--data-dir', dir]);
    expect(await set.exited).toBe(0);
    const bad = run(['device', 'set', 'acme/gas-01', '--connection', 'sometimes', '--data-dir', dir]);
    expect(await bad.exited).not.toBe(0);
    expect(bad.output.err).toMatch(/--connection must be one of always, intermittent/);
    const json = run(['device', 'list', '--json', '--data-dir', dir]);
    expect(await json.exited).toBe(0);
    const listed = JSON.parse(json.output.out);
    expect(listed.find((d: { id: string }) => d.id === 'smk-01')).toMatchObject({ intervalSeconds: 3600, connection: { mode: 'intermittent', tolerance: 2 } });
    expect(listed.find((d: { id: string }) => d.id === 'gas-01')).toMatchObject({ intervalSeconds: 10, connection: { graceSeconds: 60 }, meta: { limits: { lel: { H: 20 } }, note: 'north wall' } });
    const revoke = run(['device', 'revoke', 'acme/gas-01', '--data-dir', dir]);
    expect(await revoke.exited).toBe(0);
    const after = run(['device', 'list', '--data-dir', dir]);
    await after.exited;
    expect(after.output.out).toMatch(/acme\/gas-01.*revoked/);
  });

  it('start --scenario repeats the scenario until stopped: its end never looks like a plant going offline', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hw-loop-'));
    const scenario = join(dataDir, 'calm.yaml');
    writeFileSync(scenario, [
      'name: calm',
      'description: a quiet plant, twelve seconds at a time',
      'enterprise: calm-chem',
      'seed: 7',
      'duration: 12s',
      'devices:',
      '  - { id: lel-1, class: gas_combustible }',
      '  - { id: o2-1, class: oxygen }',
      '  - { id: smk-1, class: smoke_alarm }',
      '',
    ].join('\n'));
    const apiPort = await freePort();
    const start = run(['start', '--scenario', scenario, '--port', String(await freePort()), '--api-port', String(apiPort), '--data-dir', dataDir], {
      HAZWATCH_LOG_LEVEL: 'info',
      HAZWATCH_BROKER_WS_PORT: 'false',
      HAZWATCH_BROKER_TLS_PORT: 'false',
      HAZWATCH_INGEST_INFLUX_KIND: 'none',
      HAZWATCH_API_ADMIN_PASSWORD: 'admin-password-1',
    });
    await waitFor(() => start.output.out.includes('Press Ctrl-C to stop.'), 60_000);
    expect(start.output.out).toMatch(/simulators +3 devices, scenario .*calm\.yaml, repeated until stopped/);
    // Past the end of the first run plus the detectors' 30 s grace: had it not started again, they would be offline.
    await waitFor(() => (start.output.out.match(/starting it again/g) ?? []).length >= 4, 120_000, 500);
    await new Promise((r) => setTimeout(r, 5000));
    const api = `http://127.0.0.1:${apiPort}`;
    const session = await (await fetch(`${api}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'admin-password-1' }) })).json();
    expect(session.demo).toBe(true);
    const auth = { authorization: `Bearer ${session.token}` };
    const alarms = await (await fetch(`${api}/api/v1/alarms?limit=1000`, { headers: auth })).json();
    const list: { condition: string; device: string }[] = alarms.alarms ?? alarms.items ?? alarms;
    expect(list.filter((a) => a.condition === 'HW_ALM_DEVICE_OFFLINE')).toEqual([]);
    const devices: { id: string; online: boolean }[] = await (await fetch(`${api}/api/v1/devices?enterprise=calm-chem`, { headers: auth })).json();
    expect(devices.map((d) => [d.id, d.online]).sort()).toEqual([['lel-1', true], ['o2-1', true], ['smk-1', true]]);
    start.child.kill('SIGTERM');
    expect(await start.exited).toBe(0);
  });

  it('start stores readings out of the box: it runs the influxd it finds, restarts it when it dies, and stops it at exit', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'hw-auto-'));
    const scenario = join(dataDir, 'calm.yaml');
    writeFileSync(scenario, 'name: calm\ndescription: quiet\nenterprise: calm-chem\nseed: 7\nduration: 10m\ndevices:\n  - { id: lel-1, class: gas_combustible }\n');
    const apiPort = await freePort();
    const start = run(['start', '--scenario', scenario, '--port', String(await freePort()), '--api-port', String(apiPort), '--data-dir', dataDir], {
      HAZWATCH_LOG_LEVEL: 'info',
      HAZWATCH_BROKER_WS_PORT: 'false',
      HAZWATCH_BROKER_TLS_PORT: 'false',
      // Nothing answers there, so `auto` runs influxd itself (on a machine whose own InfluxDB is on 8086 too).
      HAZWATCH_INGEST_INFLUX_URL: `http://127.0.0.1:${await freePort()}`,
      HAZWATCH_API_ADMIN_PASSWORD: 'admin-password-1',
    });
    await waitFor(() => start.output.out.includes('Press Ctrl-C to stop.'), 60_000);
    expect(start.output.out).toContain(`(run by hazwatch, data in ${join(dataDir, 'influxdb')})`);
    const pidOf = (msg: string) => {
      const line = start.output.out.split('\n').filter((l) => l.includes(msg)).at(-1);
      return line ? (JSON.parse(line).pid as number) : undefined;
    };
    const pid = pidOf('influxd started for this platform')!;
    expect(pid).toBeGreaterThan(0);
    const api = `http://127.0.0.1:${apiPort}`;
    const session = await (await fetch(`${api}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'admin-password-1' }) })).json();
    const auth = { authorization: `Bearer ${session.token}` };
    // The device page's curve: read back by the API from the database ingest wrote to.
    const points = async () => {
      const chart = await (await fetch(`${api}/api/v1/enterprises/calm-chem/devices/lel-1/chart?minutes=10&bucketSeconds=1`, { headers: auth })).json();
      return (chart.series?.find((x: { metric: string }) => x.metric === 'lel')?.points ?? []).filter((p: [number, number | null]) => p[1] !== null).length as number;
    };
    await waitFor(async () => (await points()) >= 3, 30_000, 500);
    // influxd dies: hazwatch starts it again, and readings go on being stored (spooled meanwhile).
    process.kill(pid, 'SIGKILL');
    await waitFor(() => start.output.out.includes('influxd is back'), 30_000, 200);
    const before = await points();
    await waitFor(async () => (await points()) > before + 2, 30_000, 500);
    const second = pidOf('influxd is back')!;
    expect(second).not.toBe(pid);
    start.child.kill('SIGTERM');
    expect(await start.exited).toBe(0);
    expect(() => process.kill(second, 0)).toThrow();
  });

  it('start --demo: the whole platform in one process shows a simulator-caused alarm within a minute, and the monitoring room\'s loop runs on it (warning, hidden danger)', async () => {
    const { db, url, drop } = await createTestDatabase('hw_start');
    const mqttPort = await freePort();
    const apiPort = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'hw-start-'));
    const start = run(['start', '--demo', '--port', String(mqttPort), '--api-port', String(apiPort), '--data-dir', dataDir], {
      HAZWATCH_BROKER_WS_PORT: 'false',
      HAZWATCH_BROKER_TLS_PORT: 'false',
      HAZWATCH_INGEST_INFLUX_KIND: 'v1',
      HAZWATCH_INGEST_INFLUX_URL: url,
      HAZWATCH_INGEST_INFLUX_DATABASE: db,
    });
    await waitFor(() => start.output.out.includes('Press Ctrl-C to stop.'), 60_000);
    expect(start.output.out).toContain(`console      http://127.0.0.1:${apiPort}/`);
    expect(start.output.out).toContain('demo login   demo / hazwatch-demo');
    // The alarms the demo must cause, machine-readable, as `hazwatch simulate` writes them.
    const expected = JSON.parse(readFileSync(join(dataDir, 'expected-alarms-demo.json'), 'utf8'));
    expect(JSON.stringify(expected)).toContain('HW_ALM_TAMPER');
    const startedAt = Date.now();
    const api = `http://127.0.0.1:${apiPort}`;
    const session = await (await fetch(`${api}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'demo', password: 'hazwatch-demo' }) })).json();
    const auth = { authorization: `Bearer ${session.token}` };
    let alarms: { condition: string; device: string; level: number }[] = [];
    await waitFor(async () => {
      const res = await fetch(`${api}/api/v1/alarms`, { headers: auth });
      const body = await res.json();
      alarms = body.alarms ?? body.items ?? body;
      return Array.isArray(alarms) && alarms.length > 0;
    }, 60_000, 1000);
    expect(Date.now() - startedAt).toBeLessThan(60_000);
    expect(alarms.some((a) => a.device === 'smoke-102' && a.condition === 'HW_ALM_TAMPER' && a.level === 4)).toBe(true);
    await dutyLoop(api, auth, /messages +(\S+)/.exec(start.output.out)?.[1], alarms as unknown as { id: string; enterprise: string }[]);
    // Readings reach the database through ingest.
    let stored = 0;
    await waitFor(async () => {
      const q = await (await fetch(`${url}/query?db=${db}&q=${encodeURIComponent('SELECT count("o2") FROM "oxygen"')}`)).json();
      stored = Number(q.results?.[0]?.series?.[0]?.values?.[0]?.[1] ?? 0);
      return stored > 0;
    }, 20_000, 500);
    expect(stored).toBeGreaterThan(0);
    // The demo reports upward to its simulated provincial platform: base data and readings arrive there.
    const provinceUrl = /province +(\S+)/.exec(start.output.out)?.[1];
    expect(provinceUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/province\/status$/);
    let province: { received: number; byPath: Record<string, { count: number }> } = { received: 0, byPath: {} };
    await waitFor(async () => {
      province = await (await fetch(provinceUrl!)).json();
      const paths = Object.keys(province.byPath);
      return paths.some((p) => p.endsWith('/base/enterprise')) && paths.some((p) => p.endsWith('/base/equipment')) && paths.some((p) => p.endsWith('/realtime'));
    }, 40_000, 1000);
    expect(province.byPath[Object.keys(province.byPath).find((p) => p.endsWith('/base/equipment'))!].count).toBeGreaterThanOrEqual(13);
    start.child.kill('SIGINT');
    expect(await start.exited).toBe(0);
    await drop();
  });
});

/** A 1×1 PNG: evidence of a rectification as a phone would take it, in miniature. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/**
 * The monitoring room's loop in the demo (issue 16): from an alarm a warning is drafted, approved by a
 * second supervisor, sent to the people on duty and the enterprise over SMS (with the gateway's delivery
 * reports), WeCom, DingTalk and the field displays; a hidden danger is opened with a deadline, goes
 * overdue and is told to the enterprise's leader on duty, then is rectified with a photo by the
 * enterprise, rechecked by another account and closed.
 */
async function dutyLoop(api: string, demo: Record<string, string>, messagesUrl: string | undefined, alarms: { id: string; enterprise: string }[]) {
  expect(messagesUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/status$/);
  const signIn = async (username: string) => {
    const s = await (await fetch(`${api}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password: 'hazwatch-demo' }) })).json();
    return { authorization: `Bearer ${s.token}` };
  };
  const call = async (who: Record<string, string>, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${api}${path}`, { method, headers: { ...who, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, body: body !== undefined ? JSON.stringify(body) : undefined });
    return { status: res.status, body: await res.json() };
  };
  const lead = await signIn('demo-lead');
  const chem = await signIn('demo-chem');
  const alarm = alarms.find((a) => a.enterprise === 'demo-chem')!;
  expect(alarm).toBeDefined();

  const draft = await call(demo, 'POST', '/api/v1/warnings', { alarmId: alarm.id, audiences: ['duty_officers', 'safety_officers', 'public'] });
  expect(draft.status).toBe(201);
  const id = draft.body.id;
  expect((await call(demo, 'POST', `/api/v1/warnings/${id}/submit`, {})).body.state).toBe('pending_approval');
  const approved = await call(lead, 'POST', `/api/v1/warnings/${id}/approve`, { note: '同意发布' });
  expect(approved.body).toMatchObject({ state: 'published', approvedBy: 'demo-lead' });
  expect(approved.body.recipients.length).toBeGreaterThanOrEqual(4);
  let deliveries: { channel: string; state: string; receipt: string | null }[] = [];
  await waitFor(async () => {
    deliveries = (await call(demo, 'GET', `/api/v1/warnings/${id}`)).body.deliveries;
    return deliveries.length > 0 && deliveries.every((d) => d.state === 'delivered');
  }, 30_000, 500);
  expect(new Set(deliveries.map((d) => d.channel))).toEqual(new Set(['sms', 'duty-group', 'leaders', 'displays']));
  expect(deliveries.filter((d) => d.channel === 'sms').every((d) => d.receipt === 'delivery report: delivered')).toBe(true);
  const inbox = await (await fetch(messagesUrl!)).json();
  expect(inbox.sms.filter((m: { text: string }) => m.text.includes('预警')).length).toBe(approved.body.recipients.length);

  const opened = await call(demo, 'POST', '/api/v1/dangers', { alarmId: alarm.id, grade: 'general', responsible: { name: '郭敏', phone: '13800003101' }, deadline: Date.now() + 2000 });
  expect(opened.status).toBe(201);
  const danger = opened.body.danger ?? opened.body;
  // Overdue: within one check (10 s in the demo) it escalates to the enterprise's leader on duty, by SMS.
  await waitFor(async () => (await (await fetch(messagesUrl!)).json()).sms.some((m: { text: string }) => m.text.includes('隐患逾期') && m.text.includes(danger.id)), 30_000, 1000);
  const escalated = (await call(demo, 'GET', `/api/v1/dangers/${danger.id}`)).body;
  expect(JSON.stringify(escalated.history ?? escalated)).toContain('escalated');
  const upload = await fetch(`${api}/api/v1/dangers/${danger.id}/evidence?name=fixed.png`, { method: 'POST', headers: { ...chem, 'content-type': 'image/png' }, body: PNG });
  expect(upload.status).toBe(201);
  expect((await call(chem, 'POST', `/api/v1/dangers/${danger.id}/rectify`, { note: '已更换密封垫' })).status).toBe(200);
  expect((await call(lead, 'POST', `/api/v1/dangers/${danger.id}/recheck`, { result: 'pass', note: '复查合格' })).status).toBe(200);
  const closed = await call(lead, 'POST', `/api/v1/dangers/${danger.id}/close`, { note: '闭环' });
  expect(closed.status).toBe(200);
  expect(JSON.stringify(closed.body)).toContain('closed');
}
