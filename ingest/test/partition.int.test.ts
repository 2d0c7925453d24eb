// ingest.enterprises: static partitions, the way several ingest processes split the load on a broker
// cluster (which refuses $share, HW_ERR_SHARED_CLUSTER). Two broker nodes on a real Redis, two ingest
// processes, one per enterprise and each on another node, gateways publishing on either node: every
// reading is stored exactly once, by the process of its enterprise.
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { openRegistry, type Registry } from '../../registry/registry.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { createTestDatabase } from '../../test/support/influx.ts';
import { v1Count } from '../../test/support/influxd.ts';
import { waitFor } from '../../test/support/net.ts';
import { createTestPostgres } from '../../test/support/postgres.ts';
import { ownRedis, type OwnRedis } from '../../test/support/redis.ts';
import { startIngest, type IngestService } from '../service.ts';
import { ingestTestConfig, tempDir, testLog } from './helpers.ts';

const ENTERPRISES = ['east', 'west'];
let redis: OwnRedis;
let database: Awaited<ReturnType<typeof createTestPostgres>>;
let influx: Awaited<ReturnType<typeof createTestDatabase>>;
const nodes: TestBroker[] = [];
const ingests: IngestService[] = [];
const registries: Registry[] = [];
const dirs = [tempDir(), tempDir()];

beforeAll(async () => {
  redis = await ownRedis();
  await redis.start();
  database = await createTestPostgres('hw_partition');
  influx = await createTestDatabase('hw_partition');
  for (let i = 0; i < 2; i++) nodes.push(await startTestBroker({ registryPath: database.url, broker: { cluster: { redis: redis.url }, publishRatePerSecond: 0 } }));
  const admin = await openRegistry(database.url);
  registries.push(admin);
  for (const e of ENTERPRISES) await admin.addDevices(Array.from({ length: 4 }, (_, i) => ({ enterprise: e, id: `meter-${i}`, class: 'power_meter' as const })));
  const creds = await admin.setService('ingest');
  for (const [i, e] of ENTERPRISES.entries()) {
    const registry = await openRegistry(database.url);
    registries.push(registry);
    const ingest = await startIngest({
      config: ingestTestConfig(dirs[i].dir, { mqtt: { url: nodes[i].url, username: creds.username, password: creds.password }, ingest: { instance: `ingest-${e}`, enterprises: [e], influx: { kind: 'v1', url: influx.url, database: influx.db } } }),
      log: testLog(),
      metrics: createMetricsRegistry(),
      registry,
    });
    ingests.push(ingest);
    expect(await Promise.race([ingest.ready.then(() => 'ready'), ingest.failed])).toBe('ready');
  }
}, 60_000);

afterAll(async () => {
  for (const x of ingests) await x.close();
  for (const r of registries) await r.close();
  for (const n of nodes) await n.close();
  for (const d of dirs) d.remove();
  await influx?.drop();
  await database?.drop();
  await redis?.remove();
});

it('two ingest processes, one per enterprise on different broker nodes: every reading stored once, by its own partition', async () => {
  const admin = registries[0];
  let seq = 0;
  const t0 = Date.now() - 60_000;
  const sent: Record<string, number> = { east: 0, west: 0 };
  for (const [i, e] of ENTERPRISES.entries()) {
    // Each enterprise's gateway on the node its ingest is not connected to: every reading crosses nodes.
    const gw = await admin.addGateway(e, 'gw');
    const client = await mqtt.connectAsync(nodes[1 - i].url, { username: gw.username, password: gw.password, clientId: gw.clientId, reconnectPeriod: 0 });
    const inflight: Promise<unknown>[] = [];
    for (let k = 0; k < 400; k++) {
      seq++;
      inflight.push(client.publishAsync(`hw/v1/${e}/meter-${k % 4}/telemetry`, JSON.stringify({ ts: t0 + seq, values: { energy: seq } }), { qos: 1 }));
      sent[e]++;
    }
    await Promise.all(inflight);
    await client.endAsync();
  }
  const count = async (e: string) => (await v1Count(influx.url, influx.db, `SELECT count(energy), count(distinct(energy)) FROM power_meter WHERE enterprise = '${e}'`).catch(() => [0, 0]));
  await waitFor(async () => (await count('east'))[0] >= sent.east && (await count('west'))[0] >= sent.west, 30_000, 250);
  expect(await count('east')).toEqual([sent.east, sent.east]);
  expect(await count('west')).toEqual([sent.west, sent.west]);
  expect(ingests.map((x) => x.stats().acknowledged)).toEqual([sent.east, sent.west]);
});
