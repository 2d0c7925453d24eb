// The rules process end to end: real broker (test/support/broker.ts) over TCP, device clients, the
// SQLite alarm store, the alarm topic, and the real InfluxDB of the global setup.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, influxQuery } from '../../test/support/influx.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { freePort, waitFor } from '../../test/support/net.ts';
import { openAlarmStore } from '../store.ts';
import { alarmWatcher, closeAll, device, rulesConfig, sleep, startTestRules } from './support.ts';

let broker: TestBroker;
let influx: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  broker = await startTestBroker();
  influx = await createTestDatabase('hw_rules');
});

afterEach(closeAll);

afterAll(async () => {
  await broker?.close();
  await influx?.drop();
});

describe('rules service', () => {
  it('raises, escalates, de-escalates and clears one instance from real device messages; publishes each change on MQTT and to InfluxDB', async () => {
    const config = rulesConfig(broker, {}, { ingest: { influx: { kind: 'v1', url: influx.url, database: influx.db } } });
    const rules = await startTestRules(broker, config);
    const watch = await alarmWatcher(broker, 'w1');
    const gas = await device(broker, { enterprise: 'acme', id: 'gas-01', class: 'gas_combustible', site: 'tank farm' });
    let ts = Date.now() - 200_000;
    const send = async (lel: number) => gas.send('telemetry', { ts: (ts += 5000), values: { lel } });
    for (const v of [4, 5, 30, 31, 55, 56, 40, 40, 40, 40, 10, 10, 10, 10]) await send(v);
    await watch.waitFor(() => watch.of('gas-01').some((c) => c.change.action === 'cleared'));
    const changes = watch.of('gas-01');
    expect(changes.map((c) => `${c.change.action}:${c.change.level}`)).toEqual(['raised:2', 'escalated:1', 'deescalated:2', 'cleared:2']);
    expect(new Set(changes.map((c) => c.alarm.id)).size).toBe(1);
    expect(changes[0].alarm).toMatchObject({ enterprise: 'acme', device: 'gas-01', site: 'tank farm', condition: 'HW_ALM_GAS_LEL_HIGH', metric: 'lel', threshold: 25, value: 31 });
    expect(changes.at(-1)!.alarm).toMatchObject({ state: 'cleared_unacknowledged', peakLevel: 1 });

    // The API process (own store handle on the same file) acknowledges and closes; rules publishes both.
    const api = await openAlarmStore(config.rules.storePath ?? `${config.dataDir}/alarms.db`);
    await api.acknowledge(changes[0].alarm.id, 'op.li');
    await api.closeAlarm(changes[0].alarm.id, 'op.li', 'false alarm during calibration');
    await watch.waitFor(() => watch.of('gas-01').some((c) => c.change.action === 'closed'));
    expect(watch.of('gas-01').map((c) => c.change.action).slice(-2)).toEqual(['acknowledged', 'closed']);
    await api.dispose();

    await rules.settle();
    await waitFor(async () => {
      const r = await influxQuery(influx.db, `SELECT count(alarm_id) FROM alarm_event WHERE device = 'gas-01'`);
      return r.results[0].series?.[0].values[0][1] === 6;
    });
    const rows = await influxQuery(influx.db, `SELECT "action", "level", alarm_id, "state", "condition" FROM alarm_event WHERE device = 'gas-01'`);
    expect(rows.results[0].series![0].values.map((v) => v[1])).toEqual(['raised', 'escalated', 'deescalated', 'cleared', 'acknowledged', 'closed']);
    await gas.endAsync();
    await watch.close();
    await rules.close();
  });

  it('survives a restart in the middle of an active alarm: no duplicate, nothing lost while it was down', async () => {
    const config = rulesConfig(broker);
    const watch = await alarmWatcher(broker, 'w2');
    const pm = await device(broker, { enterprise: 'acme', id: 'pm-01', class: 'power_meter' });
    let ts = Date.now() - 300_000;
    const send = async (residual_current: number) => pm.send('telemetry', { ts: (ts += 10_000), values: { residual_current, cable_temperature: 40 } });

    let rules = await startTestRules(broker, config);
    await send(150);
    await send(350);
    await send(360);
    await watch.waitFor(() => watch.of('pm-01').some((c) => c.change.action === 'raised'));
    const id = watch.of('pm-01')[0].alarm.id;
    await rules.close();

    // While rules is down, the breach goes on; the broker keeps the QoS1 messages in rules' persistent session.
    for (let i = 0; i < 5; i++) await send(370);
    rules = await startTestRules(broker, config);
    await sleep(300);
    for (let i = 0; i < 3; i++) await send(380);
    await rules.settle();
    expect(await rules.store.count({ device: 'pm-01' })).toBe(1);
    expect((await rules.store.activeInstances()).filter((a) => a.device === 'pm-01').map((a) => a.id)).toEqual([id]);

    // Return to normal, again across a restart: the clear readings sent while it is down are not lost.
    await rules.close();
    for (let i = 0; i < 5; i++) await send(120);
    rules = await startTestRules(broker, config);
    await watch.waitFor(() => watch.of('pm-01').some((c) => c.change.action === 'cleared'));
    await rules.settle();
    const actions = (await rules.store.history(id)).map((h) => h.action);
    expect(actions).toEqual(['raised', 'cleared']);
    expect(watch.of('pm-01').map((c) => c.change.action)).toEqual(['raised', 'cleared']);
    expect(await rules.store.count({ device: 'pm-01' })).toBe(1);
    await pm.endAsync();
    await watch.close();
    await rules.close();
  });

  it('offline follows what the device promised: an always-connected device after its grace, an intermittent one only on silence', async () => {
    const config = rulesConfig(broker);
    const rules = await startTestRules(broker, config);
    const watch = await alarmWatcher(broker, 'w3');
    const presence: Record<string, unknown>[] = [];
    const seer = await mqtt.connectAsync(broker.url, { ...broker.service, clientId: `${broker.service.clientId}:seer`, reconnectPeriod: 0 });
    seer.on('message', (topic, payload) => { if (topic.includes('/gas-lk/')) presence.push(JSON.parse(payload.toString())); });
    await seer.subscribeAsync('hw/v1/+/+/presence', { qos: 1 });

    // Always connected, 1 s grace: the broker publishes its last will; the alarm waits out the grace.
    const gasDevice = { enterprise: 'acme', id: 'gas-lk', class: 'gas_combustible' as const, connection: { graceSeconds: 1 } };
    const gas = await device(broker, gasDevice, true);
    await gas.send('status', { state: 'online' });
    await gas.send('telemetry', { values: { lel: 2 } });
    await sleep(300);
    const lostAt = Date.now();
    gas.stream.destroy();
    await watch.waitFor(() => watch.of('gas-lk').some((c) => c.change.action === 'raised'));
    expect(Date.now() - lostAt).toBeGreaterThanOrEqual(1000);
    expect(watch.of('gas-lk')[0].alarm).toMatchObject({ condition: 'HW_ALM_DEVICE_OFFLINE', level: 4 });
    expect(watch.of('gas-lk')[0].alarm.message).toMatch(/connection lost for more than 1 s/);
    await waitFor(() => presence.some((p) => p.state === 'offline' && p.reason === 'connection_lost'), 5000);
    const back = await device(broker, gasDevice);
    await back.send('status', { state: 'online' });
    await watch.waitFor(() => watch.of('gas-lk').some((c) => c.change.action === 'cleared'));
    await waitFor(() => presence.at(-1)?.state === 'online', 5000);
    await back.endAsync();

    // Intermittent, 1 s interval, tolerance 2: connect, report, clean DISCONNECT, again and again: nothing.
    const smokeDevice = { enterprise: 'acme', id: 'smk-01', class: 'smoke_alarm' as const, intervalSeconds: 1, connection: { tolerance: 2 } };
    for (let i = 0; i < 5; i++) {
      const smoke = await device(broker, smokeDevice, true);
      await smoke.send('telemetry', { values: { battery: 90, signal: -80 } });
      await smoke.endAsync();
      await sleep(700);
    }
    expect(watch.of('smk-01')).toEqual([]);
    // Then it stops: one offline alarm, within interval × tolerance (plus the tick).
    const lastAt = Date.now();
    await watch.waitFor(() => watch.of('smk-01').some((c) => c.change.action === 'raised'), 8000);
    expect(Date.now() - lastAt).toBeGreaterThanOrEqual(1000);
    expect(watch.of('smk-01')[0].alarm.message).toMatch(/nothing heard for more than 2 s/);
    await sleep(1500);
    expect(watch.of('smk-01').map((c) => c.change.action)).toEqual(['raised']);

    // Silence of an always-connected oxygen detector registered with a 1 s interval.
    const o2 = await device(broker, { enterprise: 'acme', id: 'o2-01', class: 'oxygen', intervalSeconds: 1 });
    await o2.send('telemetry', { values: { o2: 20.9 } });
    await watch.waitFor(() => watch.of('o2-01').some((c) => c.change.action === 'raised'), 8000);
    expect(watch.of('o2-01')[0].alarm.message).toMatch(/nothing heard/);
    await o2.send('telemetry', { values: { o2: 20.9 } });
    await watch.waitFor(() => watch.of('o2-01').some((c) => c.change.action === 'cleared'));
    await o2.endAsync();
    await seer.endAsync();
    await watch.close();
    await rules.close();
  });

  it('planned maintenance: nothing is raised for the device until the window ends by itself; then it is watched again', async () => {
    const config = rulesConfig(broker);
    const rules = await startTestRules(broker, config);
    const watch = await alarmWatcher(broker, 'w4');
    const gas = await device(broker, { enterprise: 'acme', id: 'gas-m', class: 'gas_combustible', intervalSeconds: 1 });
    await rules.store.setMaintenance({ enterprise: 'acme', device: 'gas-m', by: 'tech.zhao', reason: 'bump test with calibration gas', until: Date.now() + 2500 });
    await sleep(300);
    // Calibration gas and then silence: neither raises anything.
    for (let i = 0; i < 4; i++) await gas.send('telemetry', { values: { lel: 60 } });
    await sleep(1500);
    expect(watch.of('gas-m').map((c) => `${c.change.action} ${c.alarm.condition} ${c.alarm.message}`)).toEqual([]);
    await waitFor(async () => (await rules.store.maintenance({ activeAt: Date.now() })).length === 0, 5000);
    await sleep(300);
    for (let i = 0; i < 2; i++) await gas.send('telemetry', { values: { lel: 60 } });
    await watch.waitFor(() => watch.of('gas-m').some((c) => c.change.action === 'raised'));
    expect(watch.of('gas-m')[0].alarm).toMatchObject({ condition: 'HW_ALM_GAS_LEL_HIGH', level: 1 });
    await gas.endAsync();
    await watch.close();
    await rules.close();
  });

  it('after a manual clear while the value is still bad, raises a new instance; grade-1 hazard sources are raised one level', async () => {
    const config = rulesConfig(broker);
    const rules = await startTestRules(broker, config);
    const watch = await alarmWatcher(broker, 'w5');
    const tank = await device(broker, { enterprise: 'acme', id: 'tank-01', class: 'vessel', hazardSource: 'HS-1', meta: { hazardSourceGrade: 1, limits: { level: { HH: 9, H: 8 } } } });
    let ts = Date.now() - 100_000;
    const send = (level: number) => tank.send('telemetry', { ts: (ts += 1000), values: { level } });
    await send(8.5);
    await send(8.5);
    await watch.waitFor(() => watch.of('tank-01').length >= 1);
    const first = watch.of('tank-01')[0];
    // H → yellow (3), raised to orange (2) on a grade-1 source.
    expect(first.alarm).toMatchObject({ condition: 'HW_ALM_LEVEL_HIGH', level: 2, hazardSource: 'HS-1' });
    await rules.store.clear(first.alarm.id, 'op.li', 'level gauge checked by hand');
    await sleep(200);
    await send(8.5);
    await send(8.5);
    await watch.waitFor(() => watch.of('tank-01').filter((c) => c.change.action === 'raised').length === 2);
    const raised = watch.of('tank-01').filter((c) => c.change.action === 'raised');
    expect(raised[1].alarm.id).not.toBe(first.alarm.id);
    expect((await rules.store.activeInstances()).filter((a) => a.device === 'tank-01')).toHaveLength(1);
    await tank.endAsync();
    await watch.close();
    await rules.close();
  });

  it('reloads edited rule files without a restart, keeps the old rules when the new file is invalid, and survives garbage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-rulefiles-'));
    writeFileSync(join(dir, 'acme.yaml'), 'enterprise: acme\nrules: []\n');
    const config = rulesConfig(broker, { files: [dir] });
    const rules = await startTestRules(broker, config);
    const watch = await alarmWatcher(broker, 'w6');
    const pm = await device(broker, { enterprise: 'acme', id: 'pm-r', class: 'power_meter' });
    let ts = Date.now() - 100_000;
    const send = (t: number) => pm.send('telemetry', { ts: (ts += 10_000), values: { cable_temperature: t } });
    await send(65);
    await send(65);
    await rules.settle();
    expect(watch.of('pm-r')).toEqual([]);

    // Garbage on the device's topics is counted and ignored; the engine goes on.
    await pm.publishAsync('hw/v1/acme/pm-r/telemetry', 'not json', { qos: 1 });
    await pm.publishAsync('hw/v1/acme/pm-r/event', JSON.stringify({ type: 'smoke' }), { qos: 1 });
    await pm.publishAsync('hw/v1/acme/pm-r/status', JSON.stringify({ state: 'sleepy' }), { qos: 1 });

    writeFileSync(join(dir, 'acme.yaml'), 'enterprise: acme\nclass: power_meter\nrules:\n  - id: cable_temperature_high\n    stages: [{ level: 2, raise: 60 }]\n');
    await waitFor(() => rules.rules().files.some((f) => f.path.endsWith('acme.yaml') && f.class === 'power_meter'), 5000);
    await send(65);
    await send(65);
    await watch.waitFor(() => watch.of('pm-r').some((c) => c.change.action === 'raised'));
    expect(watch.of('pm-r')[0].alarm).toMatchObject({ condition: 'HW_ALM_CABLE_TEMPERATURE_HIGH', threshold: 60 });

    const before = rules.rules();
    writeFileSync(join(dir, 'acme.yaml'), 'enterprise: acme\nclass: power_meter\nrules:\n  - id: cable_temperature_high\n    stages: [{ level: 9, raise: 60 }]\n');
    expect(rules.reload()?.message).toMatch(/acme\.yaml.*cable_temperature_high/s);
    expect(rules.rules()).toBe(before);
  });

  it('publishes on MQTT while InfluxDB is down (each consumer has its own cursor)', async () => {
    const deadPort = await freePort();
    const config = rulesConfig(broker, {}, { ingest: { influx: { kind: 'v1', url: `http://127.0.0.1:${deadPort}`, database: 'nowhere', timeoutMs: 500 } } });
    const rules = await startTestRules(broker, config);
    const watch = await alarmWatcher(broker, 'w7');
    const smoke = await device(broker, { enterprise: 'acme', id: 'smk-i', class: 'smoke_alarm' });
    await smoke.send('event', { type: 'smoke', active: true });
    await watch.waitFor(() => watch.of('smk-i').some((c) => c.change.action === 'raised'));
    expect(watch.of('smk-i')[0].alarm).toMatchObject({ condition: 'HW_ALM_SMOKE', level: 1 });
    expect(await rules.store.cursor('influx')).toBe(0);
    expect(await rules.store.cursor('mqtt')).toBeGreaterThan(0);
  });

  it("raises the platform's own alarm when ingest reports its spool filling and full, and clears it once it has drained", async () => {
    const config = rulesConfig(broker, { platformClearS: 1 });
    const rules = await startTestRules(broker, config);
    const watch = await alarmWatcher(broker, 'w-platform');
    // Published as ingest does (service account, retained QoS1 on hw/platform/ingest/<instance>).
    const ingest = await mqtt.connectAsync(broker.url, { ...broker.service, clientId: `${broker.service.clientId}:ingest-p`, reconnectPeriod: 0 });
    const report = (state: string, fill: number) =>
      ingest.publishAsync('hw/platform/ingest/p1', JSON.stringify({ instance: 'p1', state, spool: { messages: 10, bytes: 100, fill }, database: 'v1 test', at: Date.now() }), { qos: 1, retain: true });
    await report('filling', 0.85);
    await watch.waitFor(() => watch.of('ingest-p1').length === 1);
    await report('full', 1);
    await watch.waitFor(() => watch.of('ingest-p1').length === 2);
    await ingest.publishAsync('hw/platform/ingest/p1', 'not json', { qos: 1 });
    // Draining in bursts (ok, full again, ok) is one alarm: the clear waits for `ok` to hold (off-delay).
    await report('ok', 0.5);
    await sleep(300);
    await report('full', 1);
    await sleep(300);
    await report('ok', 0.4);
    await watch.waitFor(() => watch.of('ingest-p1').length === 3);
    const changes = watch.of('ingest-p1');
    expect(changes.map((c) => `${c.change.action}:${c.change.level}`)).toEqual(['raised:3', 'escalated:2', 'cleared:2']);
    expect(changes[0].alarm).toMatchObject({ enterprise: 'platform', device: 'ingest-p1', condition: 'HW_ALM_INGEST_BACKPRESSURE' });
    expect(changes[1].alarm.message).toContain('spool full (100 %)');
    // The retained `ok` seen again after a restart raises nothing new.
    await rules.close();
    const again = await startTestRules(broker, config);
    await sleep(1500);
    await again.settle();
    expect(watch.of('ingest-p1')).toHaveLength(3);
    await ingest.publishAsync('hw/platform/ingest/p1', '', { qos: 1, retain: true });
    await ingest.endAsync();
  });

  it('splits the load by enterprise across two rules processes sharing one store; one of them publishes', async () => {
    const storePath = join(mkdtempSync(join(tmpdir(), 'hw-split-')), 'alarms.db');
    const a = await startTestRules(broker, rulesConfig(broker, { storePath, enterprises: ['ent-a'] }));
    const b = await startTestRules(broker, rulesConfig(broker, { storePath, enterprises: ['ent-b'], publish: false }));
    const watch = await alarmWatcher(broker, 'w8');
    const sa = await device(broker, { enterprise: 'ent-a', id: 'smk-a', class: 'smoke_alarm' });
    const sb = await device(broker, { enterprise: 'ent-b', id: 'smk-b', class: 'smoke_alarm' });
    await sa.send('event', { type: 'smoke', active: true });
    await sb.send('event', { type: 'smoke', active: true });
    await watch.waitFor(() => watch.of('smk-a').length === 1 && watch.of('smk-b').length === 1);
    await sleep(300);
    // Each instance raised exactly once, each published exactly once (by the publishing process).
    expect(watch.of('smk-a').map((c) => c.change.action)).toEqual(['raised']);
    expect(watch.of('smk-b').map((c) => c.change.action)).toEqual(['raised']);
    expect(watch.changes.filter((c) => c.alarm.device === 'smk-b')).toHaveLength(1);
    await waitFor(() => a.engine.deviceCount() > 0 && b.engine.deviceCount() > 0);
    expect(a.engine.deviceCount()).toBe(1);
    expect(b.engine.deviceCount()).toBe(1);
  });
});
