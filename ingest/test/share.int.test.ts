// ingest.shareGroup, proven on both kinds of broker: hazwatch's own has no shared subscriptions and
// refuses them, so ingest stops with HW_ERR_SHARED_SUBSCRIPTION instead of running and storing nothing;
// Mosquitto 2 has them (over MQTT 3.1.1 too), so two ingest processes split the load and every reading
// is stored exactly once.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { HazwatchError } from '../../contract/errors.ts';
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
    registry = openRegistry(`${tmp.dir}/registry.db`);
    await registry.addDevices(METERS.map((id) => ({ enterprise: 'acme', id, class: 'power_meter' as const })));
    influx = await ownInflux();
    await influx.start();
  });

  afterAll(async () => {
    registry?.close();
    await influx?.remove();
    tmp.remove();
  });

  it("on hazwatch's own broker: refused at the first subscription, and ingest says why instead of storing nothing", async () => {
    const broker = await startTestBroker();
    const creds = await broker.registry.setService('ingest');
    const dir = tempDir();
    const ingest = await startIngest({
      config: ingestTestConfig(dir.dir, { mqtt: { url: broker.url, username: creds.username, password: creds.password }, ingest: { instance: 'a', shareGroup: 'ingest', influx: { kind: 'v1', url: influx.url, database: 'own' } } }),
      log: testLog(),
      metrics: createMetricsRegistry(),
      registry: broker.registry,
    });
    try {
      const outcome = await Promise.race([ingest.ready.then(() => 'ready'), ingest.failed]);
      expect(outcome).toBeInstanceOf(HazwatchError);
      expect(outcome).toMatchObject({ code: 'HW_ERR_SHARED_SUBSCRIPTION', message: expect.stringMatching(/ingest\.shareGroup "ingest".*refused \$share\/ingest\/hw\/v1\/\+\/\+\/telemetry.*no shared subscriptions/) });
      expect(broker.broker.stats().denied.HW_ERR_SHARED_SUBSCRIPTION).toBe(3);
    } finally {
      await ingest.close();
      await broker.close();
      dir.remove();
    }
  });

  it('on Mosquitto: two ingest processes in one group split the load; every reading is stored exactly once', async () => {
    const mosquitto = await startMosquitto(tmp.dir);
    const dirs = [tempDir(), tempDir()];
    const ingests: IngestService[] = [];
    const client = await connect(mosquitto.url, { clientId: 'share-tester' });
    try {
      for (const [i, instance] of ['a', 'b'].entries()) {
        const ingest = await startIngest({
          config: ingestTestConfig(dirs[i].dir, { mqtt: { url: mosquitto.url }, ingest: { instance, shareGroup: 'ingest', influx: { kind: 'v1', url: influx.url, database: 'shared' } } }),
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
      // One device without its own clock, in a burst: both members stamp it at the same milliseconds;
      // the receiver tag keeps the points apart (interpret.ts), or half of them would overwrite the others.
      const burst = Array.from({ length: 400 }, (_, i) => client.publishAsync('hw/v1/acme/meter-0/telemetry', JSON.stringify({ values: { energy: 1_000_000 + i } }), { qos: 1 }));
      await Promise.all(burst);
      sent += burst.length;
      await waitFor(async () => (await v1Count(influx.url, 'shared', 'SELECT count(energy) FROM power_meter').catch(() => [0]))[0] >= sent, 30_000, 250);
      expect(await v1Count(influx.url, 'shared', 'SELECT count(energy), count(distinct(energy)) FROM power_meter')).toEqual([sent, sent]);
      const taken = ingests.map((x) => x.stats().acknowledged);
      expect(taken[0] + taken[1]).toBe(sent);
      // Both members took a share, not one of them everything.
      expect(Math.min(...taken)).toBeGreaterThan(sent / 10);
    } finally {
      for (const x of ingests) await x.close();
      await client.endAsync();
      await mosquitto.stop();
      for (const d of dirs) d.remove();
    }
  });
});
