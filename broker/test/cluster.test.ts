// Two broker nodes as one broker (broker.cluster.redis) on a real Redis, with the registry in a real
// PostgreSQL that both read: a message crosses nodes, retained messages, persistent sessions with their
// QoS 1 queues and wills are every node's, a client id taken over on the other node closes the first
// session, and a revocation made elsewhere closes the device's session on whichever node holds it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRegistry, type Credentials, type Registry } from '../../registry/registry.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { createTestPostgres } from '../../test/support/postgres.ts';
import { ownRedis, type OwnRedis } from '../../test/support/redis.ts';
import { closed, collect, connect, connectCollecting, subscribe } from './helpers.ts';

let redis: OwnRedis;
let database: Awaited<ReturnType<typeof createTestPostgres>>;
let a: TestBroker;
let b: TestBroker;
let admin: Registry;
let watch: Credentials;

beforeAll(async () => {
  redis = await ownRedis();
  await redis.start();
  database = await createTestPostgres('hw_brokers');
  const cluster = { redis: redis.url };
  a = await startTestBroker({ registryPath: database.url, broker: { cluster, revocationCheckMs: 200 } });
  b = await startTestBroker({ registryPath: database.url, broker: { cluster, revocationCheckMs: 200 } });
  // Provisioning done elsewhere (an API node): both brokers learn of it from the database.
  admin = await openRegistry(database.url);
  watch = await admin.setService('watch');
}, 60_000);

afterAll(async () => {
  await a?.close();
  await b?.close();
  await admin?.close();
  await database?.drop();
  await redis?.remove();
});

const device = async (id: string) => admin.addDevice({ enterprise: 'acme', id, class: 'gas_combustible' });

/** The client ids a node's persistence knows as subscribed to `topic`. */
async function subscribersOn(node: TestBroker, topic: string): Promise<string[]> {
  const persistence = (node.broker.aedes as unknown as { persistence: { subscriptionsByTopic(t: string): Promise<{ clientId: string }[]> } }).persistence;
  return (await persistence.subscriptionsByTopic(topic)).map((s) => s.clientId);
}

describe('two broker nodes on one Redis', () => {
  it('delivers a reading published on one node to a subscriber on the other, once', async () => {
    const sub = await connect(b.url, { ...watch, clientId: `${watch.clientId}:x` });
    const got = collect(sub);
    await subscribe(sub, 'hw/v1/acme/+/telemetry');
    const creds = await device('gas-1');
    const dev = await connect(a.url, creds);
    await dev.publishAsync('hw/v1/acme/gas-1/telemetry', '{"values":{"lel":3}}', { qos: 1 });
    await waitFor(() => got.length >= 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(got).toHaveLength(1);
    await Promise.all([dev.endAsync(), sub.endAsync()]);
  });

  it('keeps retained messages for every node: a status published on one is read on the other', async () => {
    const creds = await device('gas-2');
    const dev = await connect(a.url, creds);
    await dev.publishAsync('hw/v1/acme/gas-2/status', JSON.stringify({ state: 'online', ts: Date.now() }), { qos: 1, retain: true });
    await dev.endAsync();
    const late = await connect(b.url, { ...watch, clientId: `${watch.clientId}:late` });
    const got = collect(late);
    await subscribe(late, 'hw/v1/acme/gas-2/status');
    await waitFor(() => got.some((m) => m.retain));
    await late.endAsync();
  });

  it("queues a persistent session's QoS 1 messages while it is away, and hands them over on the other node", async () => {
    const clientId = `${watch.clientId}:p`;
    const first = await connect(a.url, { ...watch, clientId, clean: false });
    // Two filters in one SUBSCRIBE: see the note on addSubscriptions in broker/cluster.ts.
    expect(await subscribe(first, ['hw/v1/acme/gas-3/telemetry', 'hw/v1/acme/gas-3/event'])).toEqual([1, 1]);
    await first.endAsync();
    // Each node learns the others' subscriptions from the bus, a few milliseconds later (aedes-persistence-redis
    // keeps them in a trie per node): only then does a message published on B go to the session's queue.
    await waitFor(async () => (await subscribersOn(b, 'hw/v1/acme/gas-3/telemetry')).includes(clientId));
    const creds = await device('gas-3');
    const dev = await connect(b.url, creds);
    for (let i = 0; i < 5; i++) await dev.publishAsync('hw/v1/acme/gas-3/telemetry', JSON.stringify({ values: { lel: i } }), { qos: 1 });
    await dev.endAsync();
    const again = await connectCollecting(b.url, { ...watch, clientId, clean: false });
    await waitFor(() => again.received.length >= 5);
    expect(again.received.map((m) => JSON.parse(m.payload).values.lel)).toEqual([0, 1, 2, 3, 4]);
    await again.client.endAsync();
  });

  it("publishes a will of a client that dies on one node to subscribers on the other", async () => {
    const sub = await connect(b.url, { ...watch, clientId: `${watch.clientId}:w` });
    const got = collect(sub);
    await subscribe(sub, 'hw/v1/acme/gas-4/status');
    const creds = await device('gas-4');
    const dev = await connect(a.url, { ...creds, will: { topic: 'hw/v1/acme/gas-4/status', payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true } });
    (dev as unknown as { stream: { destroy(): void } }).stream.destroy();
    await waitFor(() => got.some((m) => m.payload.includes('offline')));
    await sub.endAsync();
  });

  it('closes the session on the first node when the same client id connects to the other', async () => {
    const creds = await device('gas-5');
    const one = await connect(a.url, creds);
    const gone = closed(one);
    const two = await connect(b.url, creds);
    await gone;
    expect(two.connected).toBe(true);
    await two.endAsync();
    one.end(true);
  });

  it('closes the session of a device revoked elsewhere on the node that holds it', async () => {
    const creds = await device('gas-6');
    const dev = await connect(b.url, creds);
    const gone = closed(dev);
    await admin.revokeDevice('acme', 'gas-6');
    await gone;
    await expect(connect(a.url, creds)).rejects.toMatchObject({ code: 5 });
  });
  it('refuses shared subscriptions, which a cluster would deliver once per node, with a code', async () => {
    const sub = await connect(a.url, { ...watch, clientId: `${watch.clientId}:s` });
    expect(await subscribe(sub, ['$share/g/hw/v1/+/+/telemetry', 'hw/v1/+/+/event'])).toEqual([128, 1]);
    expect(await a.metrics.getSingleMetricAsString('hazwatch_broker_denied_total')).toMatch(/code="HW_ERR_SHARED_CLUSTER"} 1/);
    await sub.endAsync();
  });
});
