// ingest.shareGroup, proven on hazwatch's own broker (broker/shared.ts) and on Mosquitto 2 (over MQTT
// 3.1.1 too): two ingest processes split the load and every reading is stored exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { openRegistry, type Registry } from '../../registry/registry.ts';
import { startTestBroker } from '../../test/support/broker.ts';
import { ownInflux, v1Count, type OwnInflux } from '../../test/support/influxd.ts';
import { waitFor } from '../../test/support/net.ts';
import { startIngest, type IngestService } from '../service.ts';
import { connect, ingestTestConfig, tempDir, testLog } from './helpers.ts';
import { startLoad } from './load.ts';
import { startMosquitto } from './mosquitto.ts';

// More meters than readings per 20 ms tick of the load: one device never sends two readings with one device time.
const METERS = Array.from({ length: 8 }, (_, i) => `meter-${i}`);

describe('ingest.shareGroup', () => {
  const tmp = tempDir();
  let registry: Registry;
  let influx: OwnInflux;

  beforeAll(async () => {
    registry = await openRegistry(`${tmp.dir}/registry.db`);
    await registry.addDevices(METERS.map((id) => ({ enterprise: 'acme', id, class: 'power_meter' as const })));
    influx = await ownInflux();
    await influx.start();
  });

  afterAll(async () => {
    await registry?.close();
    await influx?.remove();
    tmp.remove();
  });

  /** Two ingest processes in one group behind `url`: they split the load, and every reading is stored exactly once. */
  async function twoInOneGroup(url: string, database: string, registry: Registry, auth: { username?: string; password?: string }, publisher: { username?: string; password?: string; clientId: string }) {
    const dirs = [tempDir(), tempDir()];
    const ingests: IngestService[] = [];
    const client = await connect(url, publisher);
    try {
      for (const [i, instance] of ['a', 'b'].entries()) {
        const ingest = await startIngest({
          config: ingestTestConfig(dirs[i].dir, { mqtt: { url, ...auth }, ingest: { instance, shareGroup: 'ingest', influx: { kind: 'v1', url: influx.url, database } } }),
          log: testLog(),
          metrics: createMetricsRegistry(),
          registry,
        });
        ingests.push(ingest);
        expect(await Promise.race([ingest.ready.then(() => 'ready'), ingest.failed])).toBe('ready');
      }
      const load = startLoad(client, METERS, 300);
      await new Promise((r) => setTimeout(r, 3000));
      let sent = await load.stop();
      // One device without its own clock, in a burst: on Mosquitto both members stamp it at the same
      // milliseconds; the receiver tag keeps the points apart (interpret.ts), or half would overwrite the others.
      const burst = Array.from({ length: 400 }, (_, i) => client.publishAsync('hw/v1/acme/meter-0/telemetry', JSON.stringify({ values: { energy: 1_000_000 + i } }), { qos: 1 }));
      await Promise.all(burst);
      sent += burst.length;
      await waitFor(async () => (await v1Count(influx.url, database, 'SELECT count(energy) FROM power_meter').catch(() => [0]))[0] >= sent, 30_000, 250);
      expect(await v1Count(influx.url, database, 'SELECT count(energy), count(distinct(energy)) FROM power_meter')).toEqual([sent, sent]);
      const taken = ingests.map((x) => x.stats().acknowledged);
      expect(taken[0] + taken[1]).toBe(sent);
      // Both members took a share, not one of them everything.
      expect(Math.min(...taken)).toBeGreaterThan(sent / 10);
    } finally {
      for (const x of ingests) await x.close();
      await client.endAsync();
      for (const d of dirs) d.remove();
    }
  }

  it("on hazwatch's own broker: two ingest processes in one group split the load; every reading is stored exactly once", async () => {
    const broker = await startTestBroker();
    try {
      await broker.registry.addDevices(METERS.map((id) => ({ enterprise: 'acme', id, class: 'power_meter' as const })));
      const creds = await broker.registry.setService('ingest');
      const gateway = await broker.registry.addGateway('acme', 'gw-share');
      await twoInOneGroup(broker.url, 'own', broker.registry, { username: creds.username, password: creds.password }, gateway);
      // Ingest's sessions are persistent: stopped, they stay in their groups, which queue for them.
      expect(broker.broker.shared.groups().map((g) => [g.members, g.away])).toEqual([[0, 2], [0, 2], [0, 2]]);
    } finally {
      await broker.close();
    }
  });

  it('on Mosquitto: two ingest processes in one group split the load; every reading is stored exactly once', async () => {
    const mosquitto = await startMosquitto(tmp.dir);
    try {
      await twoInOneGroup(mosquitto.url, 'shared', registry, {}, { clientId: 'share-tester' });
    } finally {
      await mosquitto.stop();
    }
  });
});
