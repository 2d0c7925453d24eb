// broker.allowAnonymous (`hazwatch broker --allow-anonymous`): clients without a user name get what a
// plain MQTT 3.1.1 broker gives (Mosquitto's allow_anonymous), on any topic, checked with third-party
// clients (mosquitto_pub / mosquitto_sub) and mqtt.js. Registered devices keep their own narrow rights.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { mosquittoClient } from '../../test/support/mosquitto.ts';
import { waitFor } from '../../test/support/net.ts';
import { collect, connackCode, connect, subscribe } from './helpers.ts';

let tb: TestBroker;
const tmp = mkdtempSync(join(tmpdir(), 'hw-anon-'));
beforeAll(async () => {
  // An access file as a site would add one: a deny rule beside the built-in set.
  const aclFile = join(tmp, 'acl.yaml');
  writeFileSync(aclFile, 'rules:\n  - { kind: anonymous, access: deny, topic: "private/#" }\n  - { kind: service, access: write, topic: "private/#" }\n');
  tb = await startTestBroker({ broker: { allowAnonymous: true, aclFile } });
});
afterAll(async () => {
  await tb?.close();
  rmSync(tmp, { recursive: true, force: true });
});

/** A client written by hand with mqtt-packet, for what mqtt.js will not do (withhold a PUBACK, stop pinging). */
function rawClient(): Promise<{ send(p: object): void; packets: mqttPacket.Packet[]; closed: Promise<void>; socket: Socket }> {
  return new Promise((resolve, reject) => {
    const socket = netConnect(tb.port, '127.0.0.1');
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const packets: mqttPacket.Packet[] = [];
    parser.on('packet', (p) => packets.push(p));
    socket.on('data', (d) => parser.parse(d));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('error', reject);
    socket.once('connect', () => resolve({ send: (p) => socket.write(mqttPacket.generate(p as mqttPacket.Packet)), packets, closed, socket }));
  });
}

function mosquitto(cmd: 'mosquitto_pub' | 'mosquitto_sub', args: string[]): Promise<{ code: number | null; out: string }> {
  return mosquittoClient(cmd, tb.port, args);
}

describe('anonymous mode: a standard broker for clients without user name', () => {
  it('publishes and subscribes on any topic; a retained message reaches a later subscriber [MQTT-3.3.1-6]', async () => {
    expect((await mosquitto('mosquitto_pub', ['-q', '1', '-r', '-t', 'factory/line1/temp', '-m', '21.5'])).code).toBe(0);
    const got = await mosquitto('mosquitto_sub', ['-q', '1', '-t', 'factory/#', '-C', '1', '-v', '-W', '5']);
    expect(got).toEqual({ code: 0, out: 'factory/line1/temp 21.5\n' });
    // A zero-length retained payload removes the retained message [MQTT-3.3.1-10].
    expect((await mosquitto('mosquitto_pub', ['-q', '1', '-r', '-t', 'factory/line1/temp', '-n'])).code).toBe(0);
    const none = await mosquitto('mosquitto_sub', ['-q', '1', '-t', 'factory/#', '-C', '1', '-v', '-W', '1']);
    expect(none.out).not.toContain('factory/line1/temp');
  });

  it('delivers once on overlapping subscriptions [MQTT-3.3.5-1], stops after UNSUBSCRIBE [MQTT-3.10.4-6], and keeps $ topics out of # [MQTT-4.7.2-1]', async () => {
    const sub = await connect(tb.url, { clientId: 'anon-sub' });
    const got = collect(sub);
    expect(await subscribe(sub, ['plant/#', 'plant/+/pressure', '#'])).toEqual([1, 1, 1]);
    expect((await mosquitto('mosquitto_pub', ['-q', '1', '-t', 'plant/p1/pressure', '-m', '0.4'])).code).toBe(0);
    await waitFor(() => got.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.filter((m) => m.topic === 'plant/p1/pressure')).toHaveLength(1);
    expect(got.some((m) => m.topic.startsWith('$'))).toBe(false);
    await sub.unsubscribeAsync(['plant/#', 'plant/+/pressure', '#']);
    await mosquitto('mosquitto_pub', ['-q', '1', '-t', 'plant/p1/pressure', '-m', '0.5']);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.filter((m) => m.topic === 'plant/p1/pressure')).toHaveLength(1);
    await sub.endAsync();
  });

  it('queues QoS 1 for an offline persistent session and delivers it on reconnect [MQTT-3.1.2-5]', async () => {
    const first = await connect(tb.url, { clientId: 'anon-persist', clean: false });
    await subscribe(first, 'queue/#');
    await first.endAsync();
    for (const m of ['a', 'b', 'c']) expect((await mosquitto('mosquitto_pub', ['-q', '1', '-t', 'queue/x', '-m', m])).code).toBe(0);
    const again = mqtt.connect(tb.url, { clientId: 'anon-persist', clean: false, reconnectPeriod: 0 });
    const got = collect(again);
    await waitFor(() => got.length >= 3);
    expect(got.map((m) => m.payload)).toEqual(['a', 'b', 'c']);
    await again.endAsync();
  });

  it('accepts a zero-length client id with a clean session and refuses it without one [MQTT-3.1.3-6, MQTT-3.1.3-8]', async () => {
    expect(await connackCode(tb.url, { clientId: '', clean: true })).toBe(0);
    // mqtt.js will not send it, so the CONNECT is written by hand: "MQTT" level 4, clean session 0, id "".
    const connack = await new Promise<Buffer>((resolve, reject) => {
      const s = netConnect(tb.port, '127.0.0.1', () => s.write(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 60, 0, 0])));
      s.once('data', (d) => (resolve(d), s.destroy()));
      s.once('error', reject);
    });
    expect([...connack.subarray(0, 4)]).toEqual([0x20, 2, 0, 2]);
  });

  it('serves shared subscriptions, refuses a malformed one; registered devices keep their own rights', async () => {
    const c = await connect(tb.url, { clientId: 'anon-limits' });
    expect(await subscribe(c, ['$share/g/plant/#', 'plant/#', '$share//plant/#'])).toEqual([1, 1, 128]);
    await c.endAsync();
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
    const device = await connect(tb.url, { username: creds.username, password: creds.password, clientId: creds.clientId });
    expect(await subscribe(device, 'plant/#')).toEqual([128]);
    await device.endAsync();
  });

  it('refuses a subscription its access file denies [MQTT-3.9.3-2] and keeps denied topics from a wider one', async () => {
    const denied = await mosquitto('mosquitto_sub', ['-q', '1', '-t', 'private/x', '-C', '1', '-W', '2']);
    expect(denied.out).toMatch(/denied/i);
    const sub = await connect(tb.url, { clientId: 'anon-wide' });
    const got = collect(sub);
    // SUBACK 0x80 for the denied filter only; the others of the same SUBSCRIBE are granted.
    expect(await subscribe(sub, ['private/+', '#'])).toEqual([128, 1]);
    // Published by a service the file lets write there: what keeps it from the anonymous `#` is the
    // check of each delivery against the deny rule.
    const pub = await connect(tb.url, { ...tb.service });
    const allowed = collect(pub);
    await subscribe(pub, 'private/#');
    const peer = await connect(tb.url, { clientId: 'anon-peer' });
    const peerGot = collect(peer);
    await subscribe(peer, 'public/#');
    await pub.publishAsync('private/x', 'secret', { qos: 1 });
    await peer.publishAsync('private/y', 'secret', { qos: 1 });
    await peer.publishAsync('public/x', 'open', { qos: 1 });
    await waitFor(() => got.some((m) => m.topic === 'public/x'));
    await waitFor(() => peerGot.length > 0 && allowed.length > 0);
    // The service's own subscription got it; the anonymous `#` did not, nor the anonymous publish at all.
    expect(allowed.map((m) => m.topic)).toEqual(['private/x']);
    expect(got.map((m) => m.topic).filter((t) => t.startsWith('private/'))).toEqual([]);
    await Promise.all([sub.endAsync(), pub.endAsync(), peer.endAsync()]);
  });

  it('closes a connection silent for 1.5 keep-alive periods and publishes its will [MQTT-3.1.2-24, MQTT-3.1.2-8]', async () => {
    const watcher = await connect(tb.url, { clientId: 'anon-will-watch' });
    const got = collect(watcher);
    await subscribe(watcher, 'wills/#');
    const raw = await rawClient();
    raw.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'anon-silent', clean: true, keepalive: 1, will: { topic: 'wills/anon-silent', payload: Buffer.from('gone'), qos: 1, retain: false } });
    await waitFor(() => raw.packets.some((p) => p.cmd === 'connack'));
    // Nothing more is sent, not even PINGREQ: the broker must close the connection by itself.
    await raw.closed;
    await waitFor(() => got.some((m) => m.topic === 'wills/anon-silent'));
    expect(got.find((m) => m.topic === 'wills/anon-silent')?.payload).toBe('gone');
    await watcher.endAsync();
  });

  it('redelivers an unacknowledged QoS 1 message on reconnect with DUP set [MQTT-4.4.0-1, MQTT-3.3.1-1]', async () => {
    const first = await rawClient();
    first.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'anon-redeliver', clean: false, keepalive: 60 });
    first.send({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'redeliver/#', qos: 1 }] });
    await waitFor(() => first.packets.some((p) => p.cmd === 'suback'));
    expect((await mosquitto('mosquitto_pub', ['-q', '1', '-t', 'redeliver/x', '-m', 'once'])).code).toBe(0);
    await waitFor(() => first.packets.some((p) => p.cmd === 'publish'));
    const original = first.packets.find((p) => p.cmd === 'publish') as mqttPacket.IPublishPacket;
    expect(original.dup).toBe(false);
    // No PUBACK: the connection goes away with the message in flight.
    first.socket.destroy();
    await first.closed;
    const again = await rawClient();
    again.send({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: 'anon-redeliver', clean: false, keepalive: 60 });
    await waitFor(() => again.packets.some((p) => p.cmd === 'publish'));
    const connack = again.packets.find((p) => p.cmd === 'connack') as mqttPacket.IConnackPacket;
    expect(connack.sessionPresent).toBe(true);
    const redelivered = again.packets.find((p) => p.cmd === 'publish') as mqttPacket.IPublishPacket;
    expect([redelivered.topic, String(redelivered.payload), redelivered.dup, redelivered.qos]).toEqual(['redeliver/x', 'once', true, 1]);
    again.send({ cmd: 'puback', messageId: redelivered.messageId });
    again.send({ cmd: 'disconnect' });
    await again.closed;
  });
});
