// Device commands end to end (issue 15) over real parts: the hazwatch broker, the API publishing as its
// own service account, simulated devices (simulators/fleet.ts) answering on their reply topics, and
// Mosquitto's own clients running the examples of docs/protocol.md §12 as printed. Sent → accepted →
// done recorded with every step and audited; a device that never answers expires; a failure the device
// reports; refusals with their codes; the enterprise boundary; replies the platform cannot take.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startFleet, type Fleet } from '../../simulators/fleet.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { examples } from '../../test/support/markdown.ts';
import { waitFor } from '../../test/support/net.ts';
import { startApi, type ApiService } from '../start.ts';

const PROTOCOL = readFileSync(new URL('../../docs/protocol.md', import.meta.url), 'utf8');
const ADMIN_PASSWORD = 'admin-password-1';

let broker: TestBroker;
let api: ApiService;
let fleet: Fleet;
let raw: MqttClient;
let gasCreds: { username: string; password: string; clientId: string };
const tokens: Record<string, Record<string, string>> = {};
const received: string[] = [];
const children: ChildProcess[] = [];

async function call(who: string, method: 'GET' | 'POST', url: string, payload?: unknown) {
  const res = await api.app.inject({ method, url, headers: tokens[who], ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.json() };
}
const commandsOf = (d: string) => `/api/v1/devices/acme/${d}/commands`;
async function until(device: string, id: string, status: string, timeoutMs = 10_000) {
  let last: { status?: string } = {};
  await waitFor(async () => ((last = (await call('op', 'GET', `${commandsOf(device)}/${id}`)).body), last.status === status), timeoutMs, 100).catch(() => {
    throw new Error(`command ${id} to ${device} is ${last.status}, expected ${status}`);
  });
  return last as Record<string, unknown> & { steps: { status: string; by: string; at: number; applied: boolean; message: string | null }[] };
}

beforeAll(async () => {
  broker = await startTestBroker();
  const r = broker.registry;
  await r.addEnterprise('acme', 'Acme Chemicals');
  await r.addEnterprise('bravo', 'Bravo Petrochem');
  const simulated = [
    { enterprise: 'acme', id: 'sa-1', class: 'smoke_alarm' as const, intervalSeconds: 1 },
    { enterprise: 'acme', id: 'fw-1', class: 'fire_water' as const, intervalSeconds: 1 },
    { enterprise: 'acme', id: 'mute-1', class: 'smoke_alarm' as const, intervalSeconds: 1 },
  ];
  const creds = await r.addDevices(simulated);
  gasCreds = await r.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
  const rawCreds = await r.addDevice({ enterprise: 'acme', id: 'raw-1', class: 'smoke_alarm', intervalSeconds: 60 });
  const awayCreds = await r.addDevice({ enterprise: 'acme', id: 'away-1', class: 'gas_combustible', connection: { graceSeconds: 0 } });
  await r.addDevice({ enterprise: 'bravo', id: 'sa-9', class: 'smoke_alarm' });
  const config = loadConfig({ env: {}, overrides: { dataDir: broker.dataDir, mqtt: { url: broker.url }, api: { port: 0, adminPassword: ADMIN_PASSWORD } } });
  // No MQTT credentials configured: the API provisions its own service account and publishes as it.
  api = await startApi({ config, log: silentLogger(), metrics: createMetricsRegistry(), registry: r });
  fleet = startFleet({
    url: broker.url,
    devices: simulated,
    credentials: new Map(creds.map((c) => [c.username, c])),
    start: Date.now(),
    progress: false,
    faults: [],
    commands: {
      workMs: 200,
      // mute-1 hears its commands and never answers; sa-1's self-test is made to fail.
      answer: (device, command) => (device.id === 'mute-1' ? 'ignore' : device.id === 'sa-1' && command.name === 'self_test' ? 'failed' : 'model'),
      onCommand: (device, command) => received.push(`${device.id} ${command.name}`),
    },
  });
  raw = await mqtt.connectAsync(broker.url, { username: rawCreds.username, password: rawCreds.password, clientId: rawCreds.clientId, reconnectPeriod: 0 });
  await raw.subscribeAsync('hw/v1/acme/raw-1/error', { qos: 1 });
  await raw.publishAsync('hw/v1/acme/raw-1/status', JSON.stringify({ state: 'online' }), { qos: 1, retain: true });
  // away-1 lost its connection (what its last will says), with no grace: offline at once.
  const away = await mqtt.connectAsync(broker.url, { ...awayCreds, reconnectPeriod: 0 });
  await away.publishAsync('hw/v1/acme/away-1/status', JSON.stringify({ state: 'offline' }), { qos: 1, retain: true });
  await away.endAsync();

  const login = async (username: string, password: string) => {
    const res = await api.app.inject({ method: 'POST', url: '/api/v1/session', payload: { username, password } });
    tokens[username] = { authorization: `Bearer ${res.json().token}` };
  };
  await login('admin', ADMIN_PASSWORD);
  for (const [username, role, enterprise] of [['op', 'operator', null], ['acme-user', 'enterprise', 'acme'], ['bravo-user', 'enterprise', 'bravo']] as const) {
    const res = await call('admin', 'POST', '/api/v1/accounts', { username, password: 'password-0123', role, enterprise });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await login(username, 'password-0123');
  }
  // Everyone in the test is heard from before it is commanded (the API refuses offline devices).
  await waitFor(async () => {
    // Heard from, not only judged online (a device never heard is online until it is due).
    const list = (await call('op', 'GET', '/api/v1/devices?enterprise=acme')).body as { id: string; online: boolean; presence: { lastHeardAt: number | null } }[];
    return ['sa-1', 'fw-1', 'mute-1', 'raw-1'].every((id) => list.find((d) => d.id === id)?.online && list.find((d) => d.id === id)?.presence.lastHeardAt !== null);
  }, 20_000);
}, 60_000);

afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await fleet?.stop().catch(() => undefined);
  await raw?.endAsync().catch(() => undefined);
  await api?.close();
  await broker?.close();
});

describe('device commands', () => {
  test('the catalog says what each class accepts', async () => {
    const { status, body } = await call('acme-user', 'GET', '/api/v1/commands/catalog');
    expect(status).toBe(200);
    expect(body.classes.smoke_alarm.map((c: { name: string }) => c.name)).toEqual(['silence', 'self_test']);
    expect(body.classes.vessel).toEqual([]);
    expect(body.classes.fire_water[0]).toMatchObject({ name: 'pump_test_start', zh: '启动消防泵试运行', args: { properties: { minutes: { maximum: 30 } } } });
  });

  test('an operator silences a smoke alarm: sent → accepted → done, every step recorded and audited', async () => {
    const sent = await call('op', 'POST', commandsOf('sa-1'), { name: 'silence' });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body).toMatchObject({ enterprise: 'acme', device: 'sa-1', deviceClass: 'smoke_alarm', name: 'silence', args: {}, requestedBy: 'op' });
    expect(sent.body.expiresAt - sent.body.requestedAt).toBe(60_000);
    const done = await until('sa-1', sent.body.id, 'done');
    expect(done.steps.map((s) => [s.status, s.by, s.applied])).toEqual([
      ['sent', 'op', true],
      ['accepted', 'device', true],
      ['done', 'device', true],
    ]);
    expect(done.message).toBe('nothing was sounding');
    expect(done.steps[1].at).toBeGreaterThanOrEqual(done.steps[0].at);
    expect(received).toContain('sa-1 silence');
    // The list of the device, newest first.
    const list = await call('acme-user', 'GET', commandsOf('sa-1'));
    expect(list.body.commands[0]).toMatchObject({ id: sent.body.id, status: 'done' });
    const audit = await call('admin', 'GET', '/api/v1/audit?action=device.command');
    expect(audit.body.find((e: { detail: { command?: string } }) => e.detail?.command === sent.body.id)).toMatchObject({ username: 'op', enterprise: 'acme', target: 'acme/sa-1', status: 201, detail: { name: 'silence', status: 'sent' } });
  });

  test('a fire pump test run is started with its argument and the device says so; a failure the device reports is recorded', async () => {
    const sent = await call('acme-user', 'POST', '/api/v1/devices/acme/fw-1/commands', { name: 'pump_test_start', args: { minutes: 5 } });
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const done = await until('fw-1', sent.body.id, 'done');
    expect(done).toMatchObject({ args: { minutes: 5 }, message: 'main pump test run started for 5 min', requestedBy: 'acme-user' });
    // The pump runs: the simulated device reports it on its telemetry, as the API's latest values show.
    await waitFor(async () => (await call('op', 'GET', '/api/v1/enterprises/acme/devices/fw-1/latest')).body.values?.pump_running?.value === true, 10_000);
    const test = await call('op', 'POST', commandsOf('sa-1'), { name: 'self_test' });
    const failed = await until('sa-1', test.body.id, 'failed');
    expect(failed.steps.map((s) => s.status)).toEqual(['sent', 'accepted', 'failed']);
    expect(failed.message).toBe('simulated failed');
  });

  test('a device that never answers: the command expires; meanwhile the next one waits', async () => {
    const sent = await call('op', 'POST', commandsOf('mute-1'), { name: 'self_test', expiresInSeconds: 2 });
    expect(sent.status).toBe(201);
    const busy = await call('op', 'POST', commandsOf('mute-1'), { name: 'silence' });
    expect(busy).toMatchObject({ status: 409, body: { code: 'HW_ERR_COMMAND_BUSY' } });
    const expired = await until('mute-1', sent.body.id, 'expired', 8000);
    expect(expired.steps.map((s) => [s.status, s.by])).toEqual([
      ['sent', 'op'],
      ['expired', 'platform'],
    ]);
    expect(expired.message).toBe('no answer from the device before the command expired');
    expect(expired.steps[1].at - (expired.requestedAt as number)).toBeGreaterThanOrEqual(2000);
    expect(received).toContain('mute-1 self_test');
    // Ended: the device may be commanded again.
    expect((await call('op', 'POST', commandsOf('mute-1'), { name: 'silence', expiresInSeconds: 1 })).status).toBe(201);
  });

  test('refusals, each with its code: unknown command, bad arguments, offline, revoked; all audited', async () => {
    expect(await call('op', 'POST', commandsOf('fw-1'), { name: 'valve_close' })).toMatchObject({ status: 400, body: { code: 'HW_ERR_COMMAND_UNKNOWN', field: 'body.name' } });
    expect(await call('op', 'POST', commandsOf('fw-1'), { name: 'pump_test_start', args: { minutes: 99 } })).toMatchObject({ status: 400, body: { code: 'HW_ERR_COMMAND_ARGS', field: 'body.args.minutes' } });
    expect(await call('op', 'POST', commandsOf('sa-1'), { name: 'silence', args: { loud: true } })).toMatchObject({ status: 400, body: { code: 'HW_ERR_COMMAND_ARGS' } });
    expect(await call('op', 'POST', commandsOf('sa-1'), { name: 'silence', when: 'now' })).toMatchObject({ status: 400, body: { code: 'HW_ERR_VALIDATION' } });
    expect(await call('op', 'POST', commandsOf('away-1'), { name: 'self_test' })).toMatchObject({ status: 409, body: { code: 'HW_ERR_COMMAND_OFFLINE' } });
    expect(await call('op', 'POST', commandsOf('nobody'), { name: 'self_test' })).toMatchObject({ status: 404, body: { code: 'HW_ERR_NOT_FOUND' } });
    await broker.registry.revokeDevice('acme', 'away-1');
    await waitFor(() => broker.registry.device('acme', 'away-1')?.revokedAt !== null);
    expect(await call('op', 'POST', commandsOf('away-1'), { name: 'self_test' })).toMatchObject({ status: 409, body: { code: 'HW_ERR_COMMAND_REVOKED' } });
    const audit = (await call('admin', 'GET', '/api/v1/audit?action=device.command')).body as { status: number; target: string; detail: { name?: string } }[];
    expect(audit.find((e) => e.status === 400 && e.detail?.name === 'valve_close')).toMatchObject({ target: 'acme/fw-1' });
    expect(audit.find((e) => e.status === 409 && e.target === 'acme/away-1')).toBeDefined();
  });

  test('the enterprise boundary: another enterprise\'s device is not found, for sending and reading', async () => {
    expect(await call('bravo-user', 'POST', commandsOf('sa-1'), { name: 'silence' })).toMatchObject({ status: 404, body: { code: 'HW_ERR_NOT_FOUND' } });
    expect(await call('bravo-user', 'GET', commandsOf('sa-1'))).toMatchObject({ status: 404 });
    const one = (await call('op', 'GET', commandsOf('sa-1'))).body.commands[0].id;
    expect(await call('bravo-user', 'GET', `${commandsOf('sa-1')}/${one}`)).toMatchObject({ status: 404 });
    // A command id looked up under another device is not found either.
    expect(await call('op', 'GET', `${commandsOf('fw-1')}/${one}`)).toMatchObject({ status: 404 });
    expect((await call('bravo-user', 'GET', '/api/v1/devices/bravo/sa-9/commands')).body).toEqual({ commands: [] });
  });

  test('replies the platform cannot take are answered on the error topic', async () => {
    const errors: { code: string; topic: string }[] = [];
    raw.on('message', (_t, p) => errors.push(JSON.parse(p.toString())));
    await raw.publishAsync('hw/v1/acme/raw-1/reply', JSON.stringify({ id: 'cmd-nosuchcommand', status: 'done' }), { qos: 1 });
    await raw.publishAsync('hw/v1/acme/raw-1/reply', JSON.stringify({ id: 'cmd-nosuchcommand', status: 'finished' }), { qos: 1 });
    await raw.publishAsync('hw/v1/acme/raw-1/reply', 'done', { qos: 1 });
    await waitFor(() => errors.length >= 3, 5000);
    expect(errors.map((e) => [e.code, e.topic]).sort()).toEqual([
      ['HW_ERR_BAD_JSON', 'hw/v1/acme/raw-1/reply'],
      ['HW_ERR_COMMAND_REPLY_UNKNOWN', 'hw/v1/acme/raw-1/reply'],
      ['HW_ERR_SCHEMA', 'hw/v1/acme/raw-1/reply'],
    ]);
    // Another device's command cannot be answered by this one.
    const cmd = (await call('op', 'POST', commandsOf('sa-1'), { name: 'silence' })).body;
    await raw.publishAsync('hw/v1/acme/raw-1/reply', JSON.stringify({ id: cmd.id, status: 'failed' }), { qos: 1 });
    await waitFor(() => errors.length >= 4, 5000);
    expect(errors[3].code).toBe('HW_ERR_COMMAND_REPLY_UNKNOWN');
    expect((await until('sa-1', cmd.id, 'done')).steps.every((s) => s.status !== 'failed')).toBe(true);
  });

  test('docs/protocol.md §12 as printed: mosquitto_sub hears the command, mosquitto_pub answers it', async () => {
    const section = PROTOCOL.slice(PROTOCOL.indexOf('## 12. Commands'));
    const [listen, answer] = examples(section).filter((e) => e.lang === 'sh');
    expect(listen.test.background).toBe(true);
    const env = { PATH: process.env.PATH, HW_HOST: '127.0.0.1', HW_PORT: String(broker.port), HW_USER: gasCreds.username, HW_PASS: gasCreds.password };
    // The detector is heard from first (a reading), then listens for commands as the docs show.
    const device = await mqtt.connectAsync(broker.url, { ...gasCreds, reconnectPeriod: 0 });
    await device.publishAsync('hw/v1/acme/gas-01/telemetry', JSON.stringify({ values: { lel: 1.2 } }), { qos: 1 });
    await device.endAsync();
    await waitFor(async () => (await call('op', 'GET', '/api/v1/enterprises/acme/devices/gas-01')).body.online === true, 10_000);
    let output = '';
    const child = spawn('bash', ['-c', listen.code], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    // Until mosquitto_sub has subscribed, a command would pass it by: send until it hears one.
    const posted: string[] = [];
    await waitFor(async () => {
      if (output.includes('hw/v1/acme/gas-01/command ')) return true;
      const res = await call('op', 'POST', '/api/v1/devices/acme/gas-01/commands', { name: 'self_test', expiresInSeconds: 1 });
      if (res.status === 201) posted.push(res.body.id);
      return false;
    }, 15_000, 1200);
    expect(await exited).toBe(0);
    const heard = JSON.parse(output.trim().split(' ').slice(1).join(' '));
    expect(heard).toMatchObject({ name: 'self_test' });
    expect(posted).toContain(heard.id);
    expect(heard.expiresAt - heard.ts).toBe(1000);
    // Nobody answered those: they expire, and the detector may be sent the next one.
    await until('gas-01', posted.at(-1)!, 'expired', 5000);
    // The printed answer, with the id of the command heard; sent again within its time.
    const sent = await call('op', 'POST', '/api/v1/devices/acme/gas-01/commands', { name: 'self_test' });
    const example = answer.code.replaceAll(/cmd-[0-9a-z]+-[0-9a-f]+/g, sent.body.id);
    const status = await new Promise<number | null>((r) => spawn('bash', ['-euo', 'pipefail', '-c', example], { env, stdio: 'ignore' }).on('close', r));
    expect(status).toBe(0);
    const done = await until('gas-01', sent.body.id, 'done');
    expect(done).toMatchObject({ message: 'self-test passed', steps: [{ status: 'sent' }, { status: 'done', by: 'device' }] });
  });
});
