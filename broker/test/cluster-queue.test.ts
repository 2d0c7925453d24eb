// The QoS 1 queues of persistent sessions on a real Redis (broker/cluster.ts over aedes-persistence-redis):
// a message queued for two sessions is kept until each has acknowledged it, even when one session had
// it twice under two packet ids. That happens when a client reconnects: aedes sends the queue again and
// the same message may also come live, each with its own id. aedes-persistence-redis 12 counts down
// once per PUBACK, so the second PUBACK of the same session took the other session's share, the count
// reached zero and the message was deleted while the other session still waited for it (ingest and rules
// both killed and reconnecting in test/faults/workers-kill.test.ts: 3 or 4 readings of ~20,000 lost).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openRedisCluster, type RedisCluster } from '../cluster.ts';
import { silentLogger } from '../../core/log.ts';
import { ownRedis, type OwnRedis } from '../../test/support/redis.ts';

interface QueuePersistence {
  outgoingEnqueueCombi(subs: { clientId: string; topic: string; qos: number }[], packet: object): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: object): Promise<void>;
  outgoingClearMessageId(client: { id: string }, packet: { messageId: number }): Promise<unknown>;
  outgoingStream(client: { id: string }): AsyncIterable<{ topic: string; payload: Buffer }>;
}

let redis: OwnRedis;
let cluster: RedisCluster;
beforeAll(async () => {
  redis = await ownRedis();
  await redis.start();
  cluster = await openRedisCluster(redis.url, silentLogger());
}, 60_000);

afterAll(async () => {
  await cluster?.close();
  (cluster?.mq as unknown as { close(cb: () => void): void } | undefined)?.close(() => undefined);
  await redis?.remove();
});

async function queued(p: QueuePersistence, id: string): Promise<string[]> {
  const out: string[] = [];
  for await (const packet of p.outgoingStream({ id })) out.push(Buffer.from(packet.payload).toString());
  return out;
}

it('keeps a message for a session until that session acknowledges it, whatever another session acknowledged twice', async () => {
  const p = cluster.persistence as unknown as QueuePersistence;
  const subs = [
    { clientId: 'svc:ingest', topic: 'hw/v1/a/+/telemetry', qos: 1 },
    { clientId: 'svc:rules', topic: 'hw/v1/a/+/telemetry', qos: 1 },
  ];
  const packet = { cmd: 'publish', topic: 'hw/v1/a/d1/telemetry', payload: Buffer.from('{"values":{"lel":1}}'), qos: 1, retain: false, dup: false, brokerId: 'node-1', brokerCounter: 42 };
  await p.outgoingEnqueueCombi(subs, packet);
  // rules gets it twice (the queue sent again on its reconnect, and live), under ids 7 and 301, and acknowledges both.
  await p.outgoingUpdate({ id: 'svc:rules' }, { ...packet, messageId: 7 });
  await p.outgoingUpdate({ id: 'svc:rules' }, { ...packet, messageId: 301 });
  await p.outgoingClearMessageId({ id: 'svc:rules' }, { messageId: 7 });
  await p.outgoingClearMessageId({ id: 'svc:rules' }, { messageId: 301 });
  expect(await queued(p, 'svc:rules')).toEqual([]);
  // ingest, offline meanwhile, still has it when it comes back; once it acknowledges, it is gone.
  expect(await queued(p, 'svc:ingest')).toEqual(['{"values":{"lel":1}}']);
  await p.outgoingUpdate({ id: 'svc:ingest' }, { ...packet, messageId: 12 });
  await p.outgoingClearMessageId({ id: 'svc:ingest' }, { messageId: 12 });
  expect(await queued(p, 'svc:ingest')).toEqual([]);
});
