// The broker with real MQTT clients over TCP: authentication, access from the topic, status, revocation.
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/support/net.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { openRegistry, type Credentials } from '../../registry/registry.ts';
import { closed, collect, connackCode, connect, dropConnection, subscribe } from './helpers.ts';

let tb: TestBroker;
let gas01: Credentials;
let gas02: Credentials;
let betaDevice: Credentials;
let gateway: Credentials;
const open: MqttClient[] = [];

async function client(creds: { username?: string; password?: string; clientId?: string }, extra: Parameters<typeof connect>[1] = {}): Promise<MqttClient> {
  const c = await connect(tb.url, { ...creds, ...extra });
  open.push(c);
  return c;
}

beforeAll(async () => {
  tb = await startTestBroker();
  [gas01, gas02] = await tb.registry.addDevices([
    { enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' },
    { enterprise: 'acme', id: 'gas-02', class: 'gas_combustible' },
  ]);
  betaDevice = await tb.registry.addDevice({ enterprise: 'beta', id: 'tank-01', class: 'vessel' });
  gateway = await tb.registry.addGateway('acme', 'gw-1');
});

afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.endAsync(true).catch(() => {})));
});

afterAll(async () => {
  await tb.close();
});

/** A service subscribed to everything, to observe what really went through the broker. */
async function observer(): Promise<{ svc: MqttClient; received: ReturnType<typeof collect> }> {
  // Its own client id: a second session with the same id would take the first one over [MQTT-3.1.4-2].
  const svc = await client({ ...tb.service, clientId: `${tb.service.clientId}:observer` });
  const received = collect(svc);
  expect(await subscribe(svc, 'hw/v1/#')).toEqual([1]);
  return { svc, received };
}

describe('authentication', () => {
  it('accepts good credentials and a client id with a :suffix', async () => {
    expect(await connackCode(tb.url, gas01)).toBe(0);
    expect(await connackCode(tb.url, { ...gas01, clientId: `${gas01.username}:backup` })).toBe(0);
  });

  it('verifies a reconnecting device from memory, not with a new scrypt run', async () => {
    expect(await connackCode(tb.url, gas02)).toBe(0);
    const hits = tb.broker.stats().authCacheHits;
    expect(await connackCode(tb.url, gas02)).toBe(0);
    expect(await connackCode(tb.url, gas02)).toBe(0);
    expect(tb.broker.stats().authCacheHits).toBe(hits + 2);
    // A wrong password is never answered from memory.
    expect(await connackCode(tb.url, { ...gas02, password: 'wrong' })).toBe(4);
  });

  it('refuses a wrong password and an unknown user with CONNACK 4', async () => {
    expect(await connackCode(tb.url, { ...gas01, password: 'not-the-password' })).toBe(4);
    expect(await connackCode(tb.url, { username: 'acme/nobody', password: 'x', clientId: 'acme/nobody' })).toBe(4);
    expect(await connackCode(tb.url, { username: gas01.username, clientId: gas01.clientId })).toBe(4);
  });

  it('refuses a client id that belongs to another account with CONNACK 2', async () => {
    expect(await connackCode(tb.url, { ...gas01, clientId: gas02.clientId })).toBe(2);
    expect(await connackCode(tb.url, { ...gas01, clientId: `${gas01.username}x` })).toBe(2);
  });

  it('refuses anonymous clients with CONNACK 5 unless allowed', async () => {
    expect(await connackCode(tb.url, { clientId: 'anon-1' })).toBe(5);
    const anonymous = await startTestBroker({ broker: { allowAnonymous: true } });
    try {
      expect(await connackCode(anonymous.url, { clientId: 'anon-1' })).toBe(0);
    } finally {
      await anonymous.close();
    }
  });

  it('refuses MQTT 5 with CONNACK 1 (aedes 1.x speaks 3.1.1)', async () => {
    expect(await connackCode(tb.url, { ...gas01, protocolVersion: 5 })).toBe(1);
    expect(tb.broker.stats().denied.HW_ERR_MQTT_VERSION).toBeGreaterThanOrEqual(1);
  });

  it('counts refusals by code in the stats and the Prometheus registry', async () => {
    const before = tb.broker.stats().denied.HW_ERR_AUTH_BAD_CREDENTIALS ?? 0;
    expect(await connackCode(tb.url, { ...gas02, password: 'wrong' })).toBe(4);
    expect(tb.broker.stats().denied.HW_ERR_AUTH_BAD_CREDENTIALS).toBe(before + 1);
    const text = await tb.metrics.metrics();
    expect(text).toMatch(/hazwatch_broker_denied_total\{code="HW_ERR_AUTH_BAD_CREDENTIALS"\} \d+/);
    expect(text).toMatch(/hazwatch_broker_connections_total\{result="accepted"\} \d+/);
  });
});

describe('authorization from the topic', () => {
  it('delivers a device\'s own telemetry and drops what it publishes for another device or enterprise', async () => {
    const { received } = await observer();
    const device = await client(gas01);
    const errors = collect(device);
    expect(await subscribe(device, 'hw/v1/acme/gas-01/error')).toEqual([1]);
    await device.publishAsync('hw/v1/acme/gas-02/telemetry', '{"values":{"lel":1}}', { qos: 1 });
    await device.publishAsync('hw/v1/beta/tank-01/telemetry', '{"values":{"level":1}}', { qos: 1 });
    await device.publishAsync('hw/v1/acme/gas-01/alarm', '{}', { qos: 1 });
    await device.publishAsync('other/topic', 'x', { qos: 1 });
    await device.publishAsync('hw/v1/acme/gas-01/telemetry', '{"values":{"lel":2}}', { qos: 1 });
    await waitFor(() => received.some((m) => m.topic === 'hw/v1/acme/gas-01/telemetry'));
    expect(received.filter((m) => !m.retain && !m.topic.endsWith('/status') && !m.topic.endsWith('/error')).map((m) => m.topic)).toEqual(['hw/v1/acme/gas-01/telemetry']);
    // The device hears why, on its own error topic.
    await waitFor(() => errors.length >= 1);
    expect(JSON.parse(errors[0].payload)).toMatchObject({ code: 'HW_ERR_ACL_PUBLISH', topic: 'hw/v1/acme/gas-02/telemetry' });
    expect(device.connected).toBe(true);
    expect(tb.broker.stats().denied.HW_ERR_ACL_PUBLISH).toBeGreaterThanOrEqual(4);
  });

  it('lets a device subscribe only to its own error and command topics', async () => {
    const device = await client(gas01);
    expect(await subscribe(device, ['hw/v1/acme/gas-01/error', 'hw/v1/acme/gas-01/command'])).toEqual([1, 1]);
    expect(await subscribe(device, '#')).toEqual([128]);
    expect(await subscribe(device, 'hw/v1/#')).toEqual([128]);
    expect(await subscribe(device, 'hw/v1/acme/+/error')).toEqual([128]);
    expect(await subscribe(device, 'hw/v1/acme/gas-02/command')).toEqual([128]);
    expect(await subscribe(device, 'hw/v1/beta/tank-01/error')).toEqual([128]);
    expect(await subscribe(device, 'hw/v1/acme/gas-01/telemetry')).toEqual([128]);
    // A shared subscription is judged by its filter.
    expect(await subscribe(device, '$share/g/hw/v1/acme/gas-01/error')).toEqual([1]);
    expect(await subscribe(device, '$share/g/hw/v1/acme/gas-02/command')).toEqual([128]);
    expect(await subscribe(device, '$SYS/#')).toEqual([128]);
    expect(device.connected).toBe(true);
  });

  it('never delivers another device\'s command to a device', async () => {
    const device = await client(gas01);
    const got = collect(device);
    expect(await subscribe(device, ['hw/v1/acme/gas-01/command', 'hw/v1/acme/gas-02/command'])).toEqual([1, 128]);
    const svc = await client(tb.service);
    await svc.publishAsync('hw/v1/acme/gas-02/command', 'for gas-02', { qos: 1 });
    await svc.publishAsync('hw/v1/acme/gas-01/command', 'for gas-01', { qos: 1 });
    await waitFor(() => got.length >= 1);
    expect(got.map((m) => m.payload)).toEqual(['for gas-01']);
  });

  it('lets a gateway publish and subscribe for the devices of its own enterprise only', async () => {
    const { received } = await observer();
    const gw = await client(gateway);
    expect(await subscribe(gw, ['hw/v1/acme/+/command', 'hw/v1/acme/+/error', 'hw/v1/acme/gas-02/command'])).toEqual([1, 1, 1]);
    expect(await subscribe(gw, ['hw/v1/beta/+/command', 'hw/v1/+/+/command', 'hw/v1/acme/+/telemetry', 'hw/v1/acme/#'])).toEqual([128, 128, 128, 128]);
    await gw.publishAsync('hw/v1/beta/tank-01/telemetry', '{"values":{"level":1}}', { qos: 1 });
    await gw.publishAsync('hw/v1/acme/gas-02/command', '{}', { qos: 1 });
    await gw.publishAsync('hw/v1/acme/gas-02/telemetry', '{"values":{"lel":4}}', { qos: 1 });
    await gw.publishAsync('hw/v1/acme/gas-01/event', '{"type":"heartbeat"}', { qos: 1 });
    await waitFor(() => received.some((m) => m.topic === 'hw/v1/acme/gas-01/event'));
    expect(received.filter((m) => !m.retain && !m.topic.endsWith('/error')).map((m) => m.topic)).toEqual(['hw/v1/acme/gas-02/telemetry', 'hw/v1/acme/gas-01/event']);
  });

  it('lets services subscribe to everything and publish only error, command and alarm', async () => {
    const svc = await client(tb.service);
    expect(await subscribe(svc, ['hw/v1/#', '#', '$SYS/#'])).toEqual([1, 1, 1]);
    const { received } = await observer();
    await svc.publishAsync('hw/v1/acme/gas-01/telemetry', '{"values":{"lel":99}}', { qos: 1 });
    await svc.publishAsync('hw/v1/acme/gas-01/alarm', '{"a":1}', { qos: 1 });
    await waitFor(() => received.some((m) => m.topic === 'hw/v1/acme/gas-01/alarm'));
    expect(received.filter((m) => !m.retain).map((m) => m.topic)).toEqual(['hw/v1/acme/gas-01/alarm']);
  });

  it('refuses a CONNECT whose last will is on a foreign topic', async () => {
    expect(await connackCode(tb.url, { ...gas01, will: { topic: 'hw/v1/acme/gas-02/status', payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } })).toBe(5);
  });
});

describe('status', () => {
  it('publishes retained online at connect and offline when a device drops without DISCONNECT', async () => {
    const device = await client(gas02);
    const readStatus = async () => {
      const svc = await client(tb.service);
      const got = collect(svc);
      await subscribe(svc, 'hw/v1/acme/gas-02/status');
      await waitFor(() => got.length > 0);
      await svc.endAsync();
      return { ...got[0], payload: JSON.parse(got[0].payload) };
    };
    expect(await readStatus()).toMatchObject({ retain: true, payload: { state: 'online' } });
    dropConnection(device);
    await waitFor(async () => (await readStatus()).payload.state === 'offline');
    expect(await readStatus()).toMatchObject({ retain: true, payload: { state: 'offline', ts: expect.any(Number) } });
  });

  it('publishes the device\'s own retained last will when it drops, and adds nothing itself', async () => {
    const { received } = await observer();
    const will = { topic: 'hw/v1/beta/tank-01/status', payload: Buffer.from('{"state":"offline"}'), qos: 1 as const, retain: true };
    const device = await client(betaDevice, { will });
    await device.publishAsync('hw/v1/beta/tank-01/status', '{"state":"online"}', { qos: 1, retain: true });
    dropConnection(device);
    await waitFor(() => received.some((m) => m.topic === will.topic && m.payload === '{"state":"offline"}'));
    expect(received.filter((m) => m.topic === will.topic).map((m) => m.payload)).toEqual(['{"state":"online"}', '{"state":"offline"}']);
  });
  it('keeps status retained but not telemetry or events', async () => {
    const device = await client(gas01);
    await device.publishAsync('hw/v1/acme/gas-01/telemetry', '{"values":{"lel":7}}', { qos: 1, retain: true });
    await device.publishAsync('hw/v1/acme/gas-01/event', '{"type":"heartbeat"}', { qos: 1, retain: true });
    await device.publishAsync('hw/v1/acme/gas-01/status', '{"state":"online"}', { qos: 1, retain: true });
    const svc = await client({ ...tb.service, clientId: `${tb.service.clientId}:late` });
    const got = collect(svc);
    await subscribe(svc, 'hw/v1/acme/gas-01/+');
    // A message of its own after the retained ones, as a barrier.
    await svc.publishAsync('hw/v1/acme/gas-01/command', 'barrier', { qos: 1 });
    await waitFor(() => got.some((m) => m.payload === 'barrier'));
    expect(got.filter((m) => m.retain).map((m) => m.topic)).toEqual(['hw/v1/acme/gas-01/status']);
  });
});

describe('revocation', () => {
  it('closes the session of a revoked device within seconds and refuses it afterwards', async () => {
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'smoke-9', class: 'smoke_alarm' });
    const device = await client(creds);
    const gone = closed(device);
    // Revoked through another connection to the registry file, as `hazwatch device revoke` or the API would.
    const operator = await openRegistry(tb.registryPath);
    operator.revokeDevice('acme', 'smoke-9');
    operator.close();
    await gone;
    expect(await connackCode(tb.url, creds)).toBe(5);
    expect(tb.broker.stats().denied.HW_ERR_AUTH_REVOKED).toBeGreaterThanOrEqual(2);
  });

  it('closes a session opened with a password that was then rotated, and not the one opened with the new password', async () => {
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'meter-4', class: 'power_meter' });
    const old = await mqtt.connectAsync(tb.url, { username: creds.username, password: creds.password, clientId: creds.clientId, reconnectPeriod: 0 });
    const gone = new Promise<void>((r) => old.once('close', () => r()));
    const rotated = await tb.registry.rotate(creds.username);
    await tb.registry.pollChanges();
    await gone;
    expect(tb.broker.stats().denied.HW_ERR_AUTH_ROTATED).toBeGreaterThanOrEqual(1);
    const fresh = await mqtt.connectAsync(tb.url, { username: rotated.username, password: rotated.password, clientId: `${rotated.clientId}:new`, reconnectPeriod: 0 });
    await tb.registry.pollChanges();
    await new Promise((r) => setTimeout(r, 200));
    expect(fresh.connected).toBe(true);
    await fresh.endAsync();
  });

  it('takes a rotated secret into account at the next connection (the cache is dropped)', async () => {
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'meter-3', class: 'power_meter' });
    expect(await connackCode(tb.url, creds)).toBe(0);
    expect(await connackCode(tb.url, creds)).toBe(0);
    const rotated = await tb.registry.rotate(creds.username);
    await tb.registry.pollChanges();
    expect(await connackCode(tb.url, creds)).toBe(4);
    expect(await connackCode(tb.url, rotated)).toBe(0);
  });
});
