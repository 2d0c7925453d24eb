// Limits that protect the broker, with real clients: bans after guessing, publish rate, connection cap,
// oversize and malformed packets closing only the offending connection.
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { connectGuard, tokenBucket } from '../limits.ts';
import { closed, collect, connackCode, connect, rawSession, remainingLength, subscribe } from './helpers.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn().catch(() => {});
});

async function broker(config: Parameters<typeof startTestBroker>[0] = {}): Promise<TestBroker> {
  const tb = await startTestBroker(config);
  cleanup.push(() => tb.close());
  return tb;
}

async function client(tb: TestBroker, creds: { username?: string; password?: string; clientId?: string }): Promise<MqttClient> {
  const c = await connect(tb.url, creds);
  cleanup.push(() => c.endAsync(true));
  return c;
}

describe('token bucket and connect guard', () => {
  it('lets a burst through, then the sustained rate', () => {
    let t = 0;
    const bucket = tokenBucket(2, 3, () => t);
    expect([bucket.take(), bucket.take(), bucket.take(), bucket.take()]).toEqual([true, true, true, false]);
    t += 500;
    expect([bucket.take(), bucket.take()]).toEqual([true, false]);
    expect(tokenBucket(0, 1).take()).toBe(true);
  });

  it('bans a user name after repeated failures within the window, and lifts the ban later', () => {
    let t = 0;
    const guard = connectGuard({ maxFailuresPerAddress: 100, maxFailuresPerUsername: 3, windowSeconds: 10, durationSeconds: 60 }, () => t);
    guard.failure('10.0.0.1', 'acme/a');
    t += 11_000; // outside the window: forgotten
    guard.failure('10.0.0.1', 'acme/a');
    guard.failure('10.0.0.2', 'acme/a');
    expect(guard.banned('10.0.0.3', 'acme/a')).toBe(false);
    expect(guard.failure('10.0.0.3', 'acme/a')).toEqual({ address: false, username: true });
    expect(guard.banned('10.0.0.9', 'acme/a')).toBe(true);
    expect(guard.banned('10.0.0.1', 'acme/b')).toBe(false);
    t += 61_000;
    expect(guard.banned('10.0.0.9', 'acme/a')).toBe(false);
  });
});

describe('password guessing', () => {
  it('bans a user name after repeated bad passwords: CONNACK 5 even with the right one', async () => {
    const tb = await broker({ broker: { ban: { maxFailuresPerUsername: 3, maxFailuresPerAddress: 50 } } });
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
    const other = await tb.registry.addDevice({ enterprise: 'acme', id: 'gas-02', class: 'gas_combustible' });
    for (let i = 0; i < 3; i++) expect(await connackCode(tb.url, { ...creds, password: `guess-${i}` })).toBe(4);
    expect(await connackCode(tb.url, creds)).toBe(5);
    expect(tb.broker.stats().denied.HW_ERR_AUTH_BANNED).toBe(1);
    // Other accounts from the same address are not affected below the address limit.
    expect(await connackCode(tb.url, other)).toBe(0);
  });

  it('bans an address that guesses across many user names', async () => {
    const tb = await broker({ broker: { ban: { maxFailuresPerUsername: 100, maxFailuresPerAddress: 4 } } });
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
    for (let i = 0; i < 4; i++) expect(await connackCode(tb.url, { username: `acme/x${i}`, password: 'p', clientId: `acme/x${i}` })).toBe(4);
    expect(await connackCode(tb.url, creds)).toBe(5);
  });
});

describe('publish rate', () => {
  it('drops what exceeds the bucket with HW_ERR_RATE_LIMIT and disconnects persistent abuse', async () => {
    const tb = await broker({ broker: { publishRatePerSecond: 0.001, publishBurst: 3, rateLimitDisconnectAfter: 5 } });
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
    const svc = await client(tb, tb.service);
    const received = collect(svc);
    await subscribe(svc, 'hw/v1/+/+/telemetry');
    const device = await client(tb, creds);
    const errors = collect(device);
    await subscribe(device, 'hw/v1/acme/gas-01/error');
    for (let i = 0; i < 5; i++) await device.publishAsync('hw/v1/acme/gas-01/telemetry', `{"values":{"lel":${i}}}`, { qos: 1 });
    await waitFor(() => errors.length > 0 && received.length >= 3);
    expect(received.map((m) => JSON.parse(m.payload).values.lel)).toEqual([0, 1, 2]);
    expect(JSON.parse(errors[0].payload)).toMatchObject({ code: 'HW_ERR_RATE_LIMIT' });
    expect(tb.broker.stats().denied.HW_ERR_RATE_LIMIT).toBe(2);
    const gone = closed(device);
    for (let i = 0; i < 6; i++) device.publish('hw/v1/acme/gas-01/telemetry', '{"values":{"lel":9}}', { qos: 0 });
    await gone;
    expect(received).toHaveLength(3);
  });
});

describe('connections', () => {
  it('answers CONNACK 3 beyond maxConnections', async () => {
    const tb = await broker({ broker: { maxConnections: 2 } });
    const [a, b, c] = await tb.registry.addDevices(['a', 'b', 'c'].map((id) => ({ enterprise: 'acme', id, class: 'smoke_alarm' as const })));
    await client(tb, a);
    await client(tb, b);
    expect(await connackCode(tb.url, c)).toBe(3);
    expect(tb.broker.stats().denied.HW_ERR_CONNECTION_LIMIT).toBe(1);
  });

  it('closes only the connection that announces an oversize packet, before reading it', async () => {
    const tb = await broker({ broker: { maxPayloadBytes: 1024 } });
    const [bystanderCreds, creds] = await tb.registry.addDevices(['ok', 'big'].map((id) => ({ enterprise: 'acme', id, class: 'gas_combustible' as const })));
    const svc = await client(tb, tb.service);
    const received = collect(svc);
    await subscribe(svc, 'hw/v1/+/+/telemetry');
    const bystander = await client(tb, bystanderCreds);

    // A PUBLISH announcing 10 MB: the broker must close after the header, not buffer 10 MB first.
    const raw = await rawSession(tb.port, creds.clientId, creds.username, creds.password);
    expect([...raw.connack]).toEqual([0x20, 2, 0, 0]);
    raw.socket.write(Buffer.concat([Buffer.from([0x30]), remainingLength(10 * 1024 * 1024), Buffer.alloc(100)]));
    await raw.closed;

    // Just above the payload limit with a real client: closed too, nothing delivered.
    const big = await client(tb, { ...creds, clientId: `${creds.clientId}:2` });
    const gone = closed(big);
    big.publish('hw/v1/acme/big/telemetry', Buffer.alloc(1025, 0x20), { qos: 0 });
    await gone;

    await bystander.publishAsync('hw/v1/acme/ok/telemetry', '{"values":{"lel":1}}', { qos: 1 });
    await waitFor(() => received.length > 0);
    expect(received.map((m) => m.topic)).toEqual(['hw/v1/acme/ok/telemetry']);
    expect(bystander.connected).toBe(true);
    expect(tb.broker.stats().denied.HW_ERR_PAYLOAD_TOO_LARGE).toBe(2);
  });

  it('closes only the connection that sends a malformed packet', async () => {
    const tb = await broker();
    const [bystanderCreds, creds] = await tb.registry.addDevices(['ok', 'bad'].map((id) => ({ enterprise: 'acme', id, class: 'gas_combustible' as const })));
    const bystander = await client(tb, bystanderCreds);
    const raw = await rawSession(tb.port, creds.clientId, creds.username, creds.password);
    // PUBLISH with both QoS bits set [MQTT-3.3.1-4]
    raw.socket.write(Buffer.from([0x36, 0x00]));
    await raw.closed;
    const raw2 = await rawSession(tb.port, creds.clientId, creds.username, creds.password);
    // A remaining length of five bytes, which MQTT does not allow
    raw2.socket.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]));
    await raw2.closed;
    expect(bystander.connected).toBe(true);
    await bystander.publishAsync('hw/v1/acme/ok/telemetry', '{"values":{"lel":1}}', { qos: 1 });
    expect(tb.broker.stats().denied.HW_ERR_MALFORMED_PACKET).toBe(2);
  });
});
