// Shared subscriptions ($share/<group>/<filter>, MQTT 5.0 4.8.2 over 3.1.1): one member of a group gets
// each message, one device's messages stay with one member and in order, a QoS 1 message a member did not
// acknowledge goes to another member when it leaves, and a plain subscription beside the group still gets
// everything. Real broker over TCP, mqtt.js and mosquitto_sub as members.
import { spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import { type MqttClient } from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { collect, connect, connectCollecting, subscribe, type Received } from './helpers.ts';

let tb: TestBroker;
beforeAll(async () => {
  tb = await startTestBroker({ broker: { allowAnonymous: true } });
});
afterAll(async () => tb?.close());

const DEVICES = Array.from({ length: 20 }, (_, i) => `d${i}`);

async function publishAll(pub: MqttClient, root: string, perDevice: number): Promise<number> {
  const sends: Promise<unknown>[] = [];
  for (let n = 0; n < perDevice; n++) for (const d of DEVICES) sends.push(pub.publishAsync(`${root}/${d}/telemetry`, String(n), { qos: 1 }));
  await Promise.all(sends);
  return sends.length;
}

/** A member on a raw socket that receives and never acknowledges. */
async function rawMember(clientId: string, filter: string) {
  const socket = netConnect(tb.port, '127.0.0.1');
  const parser = mqttPacket.parser();
  const got: Received[] = [];
  let connack = false;
  let suback = false;
  parser.on('packet', (p) => {
    if (p.cmd === 'connack') connack = true;
    if (p.cmd === 'suback') suback = true;
    if (p.cmd === 'publish') got.push({ topic: p.topic, payload: p.payload.toString(), retain: p.retain });
  });
  socket.on('data', (d) => parser.parse(d));
  socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: true, clientId, keepalive: 60 }));
  await waitFor(() => connack);
  socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: filter, qos: 1 }] }));
  await waitFor(() => suback);
  return { socket, got };
}

const byDevice = (got: Received[]) => {
  const out = new Map<string, number[]>();
  for (const m of got) out.set(m.topic, [...(out.get(m.topic) ?? []), Number(m.payload)]);
  return out;
};

describe('shared subscriptions', () => {
  it('splits the load between members, each message once, one device to one member in order; a plain subscriber gets all', async () => {
    const members = await Promise.all(['m1', 'm2', 'm3'].map((id) => connect(tb.url, { clientId: `share-${id}` })));
    const plain = await connect(tb.url, { clientId: 'share-plain' });
    const got = members.map((m) => collect(m));
    const all = collect(plain);
    for (const m of members) expect(await subscribe(m, '$share/ingest/site-a/+/telemetry')).toEqual([1]);
    expect(await subscribe(plain, 'site-a/+/telemetry')).toEqual([1]);
    expect(tb.broker.shared.groups()).toEqual([{ topic: '$share/ingest/site-a/+/telemetry', members: 3, away: 0, unacked: 0 }]);
    expect(await tb.metrics.getSingleMetricAsString('hazwatch_broker_shared_members')).toContain('hazwatch_broker_shared_members{subscription="$share/ingest/site-a/+/telemetry",state="connected"} 3');

    const pub = await connect(tb.url, { clientId: 'share-pub' });
    const sent = await publishAll(pub, 'site-a', 10);
    await waitFor(() => got.flat().length >= sent && all.length >= sent);
    await new Promise((r) => setTimeout(r, 200));
    expect(got.flat()).toHaveLength(sent);
    expect(all).toHaveLength(sent);
    // Every member took a share.
    for (const g of got) expect(g.length).toBeGreaterThan(0);
    // Each device's messages went to one member, in the order sent.
    const perMember = got.map(byDevice);
    for (const d of DEVICES) {
      const holders = perMember.filter((m) => m.has(`site-a/${d}/telemetry`));
      expect(holders).toHaveLength(1);
      expect(holders[0].get(`site-a/${d}/telemetry`)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    }
    for (const c of [...members, plain, pub]) await c.endAsync();
    expect(tb.broker.shared.groups()).toEqual([]);
  });

  it('a QoS 1 message that a member leaves unacknowledged goes to another member', async () => {
    // This member never sends PUBACK (as a process that received, then died before it stored); a raw
    // socket, because mqtt.js always acknowledges over 3.1.1.
    const silent = await rawMember('share-silent', '$share/g/site-b/+/telemetry');
    const silentGot = silent.got;
    const steady = await connect(tb.url, { clientId: 'share-steady' });
    const steadyGot = collect(steady);
    expect(await subscribe(steady, '$share/g/site-b/+/telemetry')).toEqual([1]);
    const pub = await connect(tb.url, { clientId: 'share-pub-b' });
    const sent = await publishAll(pub, 'site-b', 5);
    await waitFor(() => silentGot.length + steadyGot.length >= sent);
    expect(silentGot.length).toBeGreaterThan(0);
    const before = steadyGot.length;
    const handedToSilent = silentGot.length;
    // The steady member's acknowledgements may still be on their way.
    await waitFor(() => tb.broker.shared.groups()[0].unacked === handedToSilent);
    silent.socket.destroy();
    // What the silent member had is handed to the steady one: every message reached a member that acknowledged it.
    await waitFor(() => steadyGot.length >= sent);
    expect(steadyGot.length - before).toBe(handedToSilent);
    expect(new Set(steadyGot.map((m) => `${m.topic} ${m.payload}`)).size).toBe(sent);
    // Its devices keep their order at the member that took them over.
    for (const [, values] of byDevice(steadyGot)) expect(values).toEqual([...values].sort((a, b) => a - b));
    // The steady member's acknowledgements of what it took over may still be on their way.
    await waitFor(() => tb.broker.shared.groups()[0]?.unacked === 0);
    expect(tb.broker.shared.groups()).toEqual([{ topic: '$share/g/site-b/+/telemetry', members: 1, away: 0, unacked: 0 }]);
    for (const c of [steady, pub]) await c.endAsync();
  });

  it('members with persistent sessions: while all are away their sessions queue the messages, delivered when each returns', async () => {
    const filter = '$share/p/site-d/+/telemetry';
    const options = (id: string) => ({ clientId: `share-persistent-${id}`, clean: false });
    const first = await Promise.all(['a', 'b'].map((id) => connect(tb.url, options(id))));
    for (const m of first) expect(await subscribe(m, filter)).toEqual([1]);
    const pub = await connect(tb.url, { clientId: 'share-pub-d' });
    const live = first.map((m) => collect(m));
    const sentLive = await publishAll(pub, 'site-d', 2);
    await waitFor(() => live.flat().length >= sentLive);
    for (const m of first) await m.endAsync();
    await waitFor(() => tb.broker.shared.groups().some((g) => g.topic === filter && g.members === 0 && g.away === 2));
    expect(await tb.metrics.getSingleMetricAsString('hazwatch_broker_shared_members')).toContain(`hazwatch_broker_shared_members{subscription="${filter}",state="away"} 2`);
    // Nobody connected: the group's sessions keep what comes.
    const sentAway = await publishAll(pub, 'site-d', 3);
    const back = await Promise.all(['a', 'b'].map((id) => connectCollecting(tb.url, options(id))));
    await waitFor(() => back.flatMap((b) => b.received).length >= sentAway);
    await new Promise((r) => setTimeout(r, 200));
    const queued = back.flatMap((b) => b.received);
    expect(queued).toHaveLength(sentAway);
    expect(new Set(queued.map((m) => `${m.topic} ${m.payload}`)).size).toBe(sentAway);
    expect(tb.broker.shared.groups().find((g) => g.topic === filter)).toMatchObject({ members: 2, away: 0 });
    for (const b of back) await b.client.endAsync();
    // A client that gives its session up leaves the group for good.
    for (const id of ['a', 'b']) await (await connect(tb.url, { ...options(id), clean: true })).endAsync();
    expect(tb.broker.shared.groups().find((g) => g.topic === filter)).toBeUndefined();
    await pub.endAsync();
  });

  it('serves mosquitto_sub as a member; refuses a malformed shared filter under HW_ERR_SHARED_SUBSCRIPTION', async () => {
    const sub = spawn('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(tb.port), '-V', 'mqttv311', '-q', '1', '-t', '$share/m/site-c/#', '-C', '3', '-v', '-W', '10'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    sub.stdout.on('data', (d) => (out += d));
    const exited = new Promise((r) => sub.on('exit', r));
    await waitFor(() => tb.broker.shared.groups().some((g) => g.topic === '$share/m/site-c/#'));
    const pub = await connect(tb.url, { clientId: 'share-pub-c' });
    for (let i = 0; i < 3; i++) await pub.publishAsync(`site-c/x/telemetry`, String(i), { qos: 1 });
    expect(await exited).toBe(0);
    expect(out).toBe('site-c/x/telemetry 0\nsite-c/x/telemetry 1\nsite-c/x/telemetry 2\n');

    const before = tb.broker.stats().denied.HW_ERR_SHARED_SUBSCRIPTION ?? 0;
    // [MQTT-4.8.2-1] [MQTT-4.8.2-2]: a share name, without '/', '+', '#', and a filter after it.
    expect(await subscribe(pub, ['$share/g', '$share//site-c/#', '$share/g/'])).toEqual([128, 128, 128]);
    expect(tb.broker.stats().denied.HW_ERR_SHARED_SUBSCRIPTION).toBe(before + 3);
    expect(pub.connected).toBe(true);
    await pub.endAsync();
  });
});
