// The broker's own QoS 1/2 delivery (broker/delivery.ts `installDelivery`) against plain aedes: the same
// scenarios, run on both over TCP, must reach each subscriber as the same packets (topic, payload, QoS,
// retain), in the same order. Covers what aedes' deliverQoS decides: the QoS downgrade to a
// subscription to exactly the topic, overlapping subscriptions, retained messages on SUBSCRIBE, a
// persistent session's queue while away and after it comes back, packet identifiers (no-local is
// MQTT 5, which both refuse). The one deliberate difference: DUP on a message
// sent again to a returning session (broker/delivery.ts `markRedeliveries`), which aedes leaves 0.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';

type Got = { topic: string; payload: string; qos: number; retain: boolean; dup: boolean; messageId?: number };

const tmp = mkdtempSync(join(tmpdir(), 'hw-delivery-aedes-'));
let ours: TestBroker;
let plain: { url: string; close(): Promise<void> };

beforeAll(async () => {
  const acl = join(tmp, 'acl.yaml');
  writeFileSync(acl, 'rules: []\n');
  ours = await startTestBroker({ broker: { allowAnonymous: true, aclFile: acl } });
  const aedes = await Aedes.createBroker();
  const server: Server = createServer(aedes.handle);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  plain = {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => aedes.close(() => server.close(() => r()))),
  };
});

afterAll(async () => {
  await ours?.close();
  await plain?.close();
  rmSync(tmp, { recursive: true, force: true });
});

async function client(url: string, options: IClientOptions = {}): Promise<{ c: MqttClient; got: Got[] }> {
  const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const got: Got[] = [];
  c.on('message', (topic, payload, packet) => got.push({ topic, payload: payload.toString(), qos: packet.qos, retain: packet.retain, dup: packet.dup, messageId: packet.messageId }));
  await new Promise<void>((resolve, reject) => {
    c.once('connect', () => resolve());
    c.once('error', reject);
  });
  return { c, got };
}

const settle = () => new Promise((r) => setTimeout(r, 300));
const seen = (got: Got[]) => got.map(({ messageId: _id, ...rest }) => rest);
const seenButDup = (got: Got[]) => got.map(({ messageId: _id, dup: _dup, ...rest }) => rest);
// A subscriber's QoS 2 messages are handed over after the PUBREL round trip: their order among the
// others depends on timing, on either broker.
const byPayload = (got: Got[]) => seen(got).sort((a, b) => a.payload.localeCompare(b.payload));

/** Runs a scenario against one broker; what each named subscriber received. */
type Scenario = (url: string, id: string) => Promise<Record<string, Got[]>>;

async function both(scenario: Scenario): Promise<{ ours: Record<string, Got[]>; plain: Record<string, Got[]> }> {
  const [a, b] = await Promise.all([scenario(ours.url, 'o'), scenario(plain.url, 'p')]);
  return { ours: a, plain: b };
}

describe('delivery: the same packets as plain aedes', () => {
  it('downgrades to a subscription to exactly the topic, and overlapping subscriptions deliver once', async () => {
    const r = await both(async (url, id) => {
      const { c: s, got } = await client(url, { clientId: `${id}-over` });
      await s.subscribeAsync({ 'a/#': { qos: 2 }, 'a/exact': { qos: 1 }, 'b/exact': { qos: 1 }, 'c/+': { qos: 1 } });
      const { c: p } = await client(url, { clientId: `${id}-pub` });
      await p.publishAsync('a/exact', 'one', { qos: 2 });
      await p.publishAsync('a/other', 'two', { qos: 2 });
      await p.publishAsync('b/exact', 'three', { qos: 2 });
      await p.publishAsync('c/wild', 'four', { qos: 2 });
      await p.publishAsync('c/wild', 'five', { qos: 0 });
      await settle();
      await Promise.all([s.endAsync(), p.endAsync()]);
      return { s: got };
    });
    expect(byPayload(r.ours.s)).toEqual(byPayload(r.plain.s));
    expect(r.ours.s.map((g) => g.payload).sort()).toEqual(['five', 'four', 'one', 'three', 'two']);
    // What aedes decides, kept: the exact QoS 1 subscription caps a QoS 2 message at 1.
    expect(r.ours.s.find((g) => g.payload === 'three')?.qos).toBe(1);
  });

  it('sends a retained message on SUBSCRIBE, at the QoS of the subscription', async () => {
    const r = await both(async (url, id) => {
      const { c: p } = await client(url, { clientId: `${id}-ret` });
      await p.publishAsync(`r/${id}/kept`, 'retained', { qos: 1, retain: true });
      const { c: s, got } = await client(url, { clientId: `${id}-retsub` });
      await s.subscribeAsync(`r/${id}/#`, { qos: 1 });
      await settle();
      await p.publishAsync(`r/${id}/other`, 'live', { qos: 1 });
      await settle();
      await p.publishAsync(`r/${id}/kept`, '', { qos: 1, retain: true });
      await Promise.all([s.endAsync(), p.endAsync()]);
      return { s: got.map((g) => ({ ...g, topic: g.topic.replace(`/${id}/`, '/') })) };
    });
    expect(seen(r.ours.s)).toEqual(seen(r.plain.s));
    // The last is the retained message's removal, delivered to those subscribed as any message.
    expect(r.ours.s.map((g) => `${g.payload} ${g.qos}${g.retain ? ' retained' : ''}`)).toEqual(['retained 1 retained', 'live 1', ' 1']);
  });

  it("queues a persistent session's messages while it is away and delivers them, DUP where sent before", async () => {
    const r = await both(async (url, id) => {
      const clientId = `${id}-durable`;
      const first = await client(url, { clientId, clean: false });
      await first.c.subscribeAsync('q/#', { qos: 1 });
      // Received but never acknowledged: sent again on the next connection.
      first.c.handleMessage = (_packet, _done) => undefined;
      const { c: p } = await client(url, { clientId: `${id}-qpub` });
      for (let i = 0; i < 3; i++) await p.publishAsync('q/t', `held ${i}`, { qos: 1 });
      await settle();
      first.c.end(true);
      for (let i = 0; i < 3; i++) await p.publishAsync('q/t', `away ${i}`, { qos: 1 });
      await settle();
      const second = await client(url, { clientId, clean: false });
      await settle();
      for (let i = 0; i < 3; i++) await p.publishAsync('q/t', `back ${i}`, { qos: 1 });
      await settle();
      await Promise.all([second.c.endAsync(), p.endAsync()]);
      return { first: first.got, second: second.got };
    });
    expect(seen(r.ours.first)).toEqual(seen(r.plain.first));
    expect(seenButDup(r.ours.second)).toEqual(seenButDup(r.plain.second));
    expect(r.ours.second.map((g) => `${g.payload}${g.dup ? ' (dup)' : ''}`)).toEqual([
      'held 0 (dup)', 'held 1 (dup)', 'held 2 (dup)', 'away 0', 'away 1', 'away 2', 'back 0', 'back 1', 'back 2',
    ]);
    // [MQTT-2.3.1-1] identifiers of the messages in flight on one connection are distinct.
    const ids = r.ours.second.map((g) => g.messageId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('delivers QoS 1 to many subscribers of one wildcard filter, each message once, in order', async () => {
    const r = await both(async (url, id) => {
      const subs = await Promise.all([0, 1, 2].map((n) => client(url, { clientId: `${id}-many-${n}` })));
      await Promise.all(subs.map((s) => s.c.subscribeAsync('m/+/t', { qos: 1 })));
      const { c: p } = await client(url, { clientId: `${id}-mpub` });
      await Promise.all(Array.from({ length: 200 }, (_, i) => p.publishAsync(`m/${i % 7}/t`, String(i), { qos: 1 })));
      await settle();
      await Promise.all([...subs.map((s) => s.c.endAsync()), p.endAsync()]);
      return Object.fromEntries(subs.map((s, n) => [String(n), s.got]));
    });
    for (const n of ['0', '1', '2']) {
      expect(seen(r.ours[n])).toEqual(seen(r.plain[n]));
      expect(r.ours[n].map((g) => g.payload)).toEqual(Array.from({ length: 200 }, (_, i) => String(i)));
    }
  });
});
