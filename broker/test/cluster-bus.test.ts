// The bus between broker nodes (broker/cluster.ts) on a real Redis, at the moments a connection is
// made: a pattern subscribed while the subscriber connection is between TCP connect and ready must
// hold (with ioredis 5's ready check it was dropped: redis/ioredis#2037), and closing never leaves an
// unhandled rejection behind.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openRedisCluster, type RedisCluster } from '../cluster.ts';
import { silentLogger } from '../../core/log.ts';
import { waitFor } from '../../test/support/net.ts';
import { ownRedis, type OwnRedis } from '../../test/support/redis.ts';

type Bus = RedisCluster['mq'] & {
  subConn: { status: string; once(e: 'connect', f: () => void): void; disconnect(reconnect?: boolean): void };
  on(topic: string, notify: (packet: { topic: string }, cb: () => void) => void, done?: () => void): unknown;
  emit(packet: { topic: string; payload: string }, done?: (err?: Error) => void): unknown;
};

let redis: OwnRedis;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeAll(async () => {
  redis = await ownRedis();
  await redis.start();
  process.on('unhandledRejection', onUnhandled);
}, 60_000);

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled);
  await redis?.remove();
});

it('keeps a pattern subscribed while its connection is being made, on the first connect and on a reconnect', async () => {
  for (let round = 0; round < 3; round++) {
    const cluster = await openRedisCluster(redis.url, silentLogger());
    const bus = cluster.mq as Bus;
    const got: string[] = [];
    const status: string[] = [];
    // Either the first connection is still being made, or a reconnect is made: both go through 'connect'.
    const first = bus.subConn.status === 'connecting';
    if (!first) await waitFor(() => bus.subConn.status === 'ready');
    const subscribed = new Promise<void>((resolve) => {
      // Between 'connect' and 'ready': where ioredis writes a PSUBSCRIBE at once and then sent its INFO.
      bus.subConn.once('connect', () => {
        status.push(bus.subConn.status);
        bus.on(`round/${round}/+`, (packet, cb) => {
          got.push(packet.topic);
          cb();
        }, resolve);
      });
    });
    if (!first) bus.subConn.disconnect(true);
    await subscribed;
    await waitFor(() => bus.subConn.status === 'ready');
    // A reconnect caused by a refused ready check would come a little later; give it the time to.
    await new Promise((r) => setTimeout(r, 300));
    await new Promise<void>((resolve, reject) => bus.emit({ topic: `round/${round}/x`, payload: 'x' }, (err) => (err ? reject(err) : resolve())));
    await waitFor(() => got.length > 0, 5_000);
    expect(status).toEqual(['connect']);
    expect(got).toEqual([`round/${round}/x`]);
    await new Promise<void>((resolve) => bus.close(() => resolve()));
    await cluster.close();
  }
  await new Promise((r) => setTimeout(r, 100));
  expect(unhandled).toEqual([]);
});
