// Several broker nodes as one broker, on Redis (broker.cluster.redis): mqemitter-redis carries every
// PUBLISH to the subscribers of every node, aedes-persistence-redis keeps the sessions, QoS 1 queues,
// retained messages and wills where every node finds them. Both are the aedes project's own packages,
// kept in step with aedes 1.x; ioredis reconnects by itself and queues commands while Redis is away.
import AsyncRedisPersistence from 'aedes-persistence-redis/asyncPersistence.js';
import { Redis } from 'ioredis';
import { Readable } from 'node:stream';
import mqemitterRedis from 'mqemitter-redis';
import type { Logger } from '../core/log.ts';
import { describeTarget } from '../core/sql.ts';

export interface RedisCluster {
  mq: ReturnType<typeof mqemitterRedis>;
  persistence: AsyncRedisPersistence;
  /** The persistence's connections; the bus is closed by aedes itself when the broker closes. */
  close(): Promise<void>;
}

/** Connects the bus and the persistence; resolves once Redis answers, rejects after `timeoutMs`. */
export async function openRedisCluster(url: string, log: Logger, options: { timeoutMs?: number } = {}): Promise<RedisCluster> {
  const where = describeTarget(url);
  const conn = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: null });
  let lastWarn = 0;
  const warn = (what: string) => (err: Error) => {
    // ioredis retries every few hundred ms while Redis is away: one line a minute is enough.
    if (Date.now() - lastWarn < 60_000) return;
    lastWarn = Date.now();
    log.warn({ err: err.message, redis: where, what }, 'Redis unreachable; retrying (messages between nodes wait)');
  };
  conn.on('error', warn('persistence'));
  try {
    await Promise.race([conn.connect(), new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)), options.timeoutMs ?? 10_000))]);
  } catch (err) {
    conn.disconnect();
    throw new Error(`broker.cluster.redis ${where}: ${(err as Error).message}`);
  }
  // The bus's two connections are made here: given only a URL, mqemitter-redis would drop every other
  // option (maxRetriesPerRequest: null keeps commands queued through an outage instead of failing them
  // after 20 retries). The subscriber connection runs no ready check: ioredis 5 writes a PSUBSCRIBE
  // issued while it connects straight away, then its ready check's INFO is refused in subscriber mode,
  // and the reconnect that follows forgets that pattern (redis/ioredis#2037). A broker that lost
  // `$SYS/sub/+` so never learned the other nodes' persistent subscriptions (broker/test/cluster.test.ts,
  // one run in five beside other tests). Pub/sub needs no ready check: Redis serves it while loading.
  const subConn = quietQuit(new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: false }));
  const pubConn = quietQuit(new Redis(url, { maxRetriesPerRequest: null }));
  const mq = mqemitterRedis({ subConn, pubConn } as never);
  // Without a listener, an error event of the bus would end the process.
  (mq as unknown as { state: { on(e: string, f: (err: Error) => void): void } }).state.on('error', warn('bus'));
  // The whole queue of a persistent session on reconnect (-1: LRANGE 0 -1), not the package's default
  // first 1,000: the rest would wait for the next reconnect, so an ingest back from a long outage would
  // not get its backlog (test/faults/broker-node-kill.test.ts). Keys only; packets are read one by one.
  const persistence = new AsyncRedisPersistence({ conn, maxSessionDelivery: -1 });
  // aedes 1.2 pipes the retained messages of a SUBSCRIBE (`.pipe`), which the in-memory persistence
  // returns as a Readable and aedes-persistence-redis 12 as an async generator.
  const retained = persistence.createRetainedStreamCombi.bind(persistence);
  persistence.createRetainedStreamCombi = (patterns: string[]) => Readable.from(retained(patterns), { objectMode: true });
  // aedes 1.2 stores a SUBSCRIBE's filters once per filter, each call with all of them; the Redis
  // persistence then waits for its broadcast under one key per client and first filter, so all calls
  // but the last would wait forever and a persistent session subscribing to two filters would never
  // get its SUBACK (broker/test/cluster.test.ts). One call per client and set of filters at a time.
  const addSubscriptions = persistence.addSubscriptions.bind(persistence);
  const adding = new Map<string, Promise<unknown>>();
  persistence.addSubscriptions = (client: { id: string }, subs: { topic: string; qos: number }[]) => {
    const key = `${client.id}\0${subs.map((s) => `${s.topic}\0${s.qos}`).join('\0')}`;
    let pending = adding.get(key);
    if (!pending) {
      pending = addSubscriptions(client, subs).finally(() => adding.delete(key));
      adding.set(key, pending);
    }
    return pending;
  };
  countSharesOnce(persistence, conn);
  return {
    mq,
    persistence,
    async close() {
      await persistence.destroy().catch(() => undefined);
    },
  };
}

/**
 * A QoS 1 message queued for several persistent sessions is stored once with a count of the sessions
 * still owing a PUBACK, and aedes-persistence-redis 12 counts down at every PUBACK it can map to the
 * message. A session can get the same message twice under two packet ids (on a reconnect aedes sends
 * the queue again while the message also comes live), and its second PUBACK then took another session's
 * share: the count reached zero and the message was deleted from under a session that had not had it
 * yet, a reading lost for ingest or rules (broker/test/cluster-queue.test.ts). Here only the PUBACK that
 * takes the message out of the session's own queue counts down; a second one for it is a no-op.
 */
function countSharesOnce(persistence: AsyncRedisPersistence, conn: Redis): void {
  type Packet = { cmd?: string; messageId?: number; brokerId?: string; brokerCounter?: number | string };
  type Client = { id: string };
  const target = persistence as unknown as {
    outgoingUpdate(client: Client, packet: Packet): Promise<void>;
    outgoingClearMessageId(client: Client, packet: Packet): Promise<unknown>;
  };
  const update = target.outgoingUpdate.bind(persistence);
  const clear = target.outgoingClearMessageId.bind(persistence);
  // (session, packet id) → the stored message, as the package keeps it (its own map is private); as
  // bounded as the package's (100,000): beyond, the oldest fall back to its own counting.
  const sent = new Map<string, string>();
  const LIMIT = 100_000;
  target.outgoingUpdate = async (client, packet) => {
    await update(client, packet);
    // QoS 1 only: a QoS 2 message (PUBREL) is kept per session by the package itself.
    if (packet.cmd !== 'publish' || !packet.messageId || packet.brokerId === undefined) return;
    const id = `${client.id}\0${packet.messageId}`;
    sent.delete(id);
    sent.set(id, `packet:${packet.brokerId}:${packet.brokerCounter}`);
    if (sent.size > LIMIT) sent.delete(sent.keys().next().value!);
  };
  target.outgoingClearMessageId = async (client, packet) => {
    const id = `${client.id}\0${packet.messageId}`;
    const key = sent.get(id);
    if (key === undefined) return clear(client, packet);
    sent.delete(id);
    const removed = await conn.lrem(`outgoing:${encodeURIComponent(client.id)}`, 0, key);
    if (removed === 0) return undefined;
    return clear(client, packet);
  };
}

/**
 * mqemitter-redis closes its connections with quit() and leaves the promise alone; when the socket
 * closes before QUIT's reply is read, ioredis rejects it ("Connection is closed") and the process
 * would see an unhandled rejection on every such shutdown. The promise is returned as it was, handled.
 */
function quietQuit(conn: Redis): Redis {
  const quit = conn.quit.bind(conn);
  conn.quit = ((...args: Parameters<Redis['quit']>) => {
    const done = quit(...args);
    done.catch(() => undefined);
    return done;
  }) as Redis['quit'];
  return conn;
}
