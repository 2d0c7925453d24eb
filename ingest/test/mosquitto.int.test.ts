// Against Mosquitto (a broker that checks no topic and has no notion of our registry): topic refusals
// our broker would stop first, and the spool limit with its back-pressure and platform signal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { silentLogger } from '../../core/log.ts';
import { openRegistry, type Registry } from '../../registry/registry.ts';
import { waitFor } from '../../test/support/net.ts';
import { startIngest } from '../service.ts';
import { collect, connect, ingestTestConfig, tempDir, testLog } from './helpers.ts';
import { ownInflux, v1Count, type OwnInflux } from '../../test/support/influxd.ts';
import { startMosquitto } from './mosquitto.ts';
import { startLoad } from './load.ts';

describe('ingest on Mosquitto', () => {
  const tmp = tempDir();
  let mosquitto: Awaited<ReturnType<typeof startMosquitto>>;
  let registry: Registry;
  let client: MqttClient;

  beforeAll(async () => {
    mosquitto = await startMosquitto(tmp.dir);
    registry = await openRegistry(`${tmp.dir}/registry.db`);
    await registry.addDevices(Array.from({ length: 4 }, (_, i) => ({ enterprise: 'acme', id: `meter-${i}`, class: 'power_meter' as const })));
    client = await connect(mosquitto.url, { clientId: 'tester' });
  });

  afterAll(async () => {
    await client?.endAsync();
    await registry?.close();
    await mosquitto?.stop();
    tmp.remove();
  });

  it('refuses a topic that is not a v1 device topic (HW_ERR_TOPIC) and answers where the topic points', async () => {
    const dir = tempDir();
    const ingest = await startIngest({
      config: ingestTestConfig(dir.dir, { mqtt: { url: mosquitto.url }, ingest: { instance: 'topics', clientId: 'svc:ingest:topics' } }),
      log: testLog(),
      metrics: createMetricsRegistry(),
      registry,
    });
    await ingest.ready;
    const errors = await collect(client, 'hw/v1/+/+/error');
    await client.publishAsync('hw/v1/acme/meter 1/telemetry', JSON.stringify({ values: { energy: 1 } }), { qos: 1 });
    await waitFor(() => errors.length > 0);
    expect(errors[0]).toMatchObject({ topic: 'hw/v1/acme/meter 1/error', body: { code: 'HW_ERR_TOPIC', topic: 'hw/v1/acme/meter 1/telemetry' } });
    expect(ingest.stats().rejectedByReason).toEqual({ HW_ERR_TOPIC: 1 });
    client.removeAllListeners('message');
    await client.unsubscribeAsync('hw/v1/+/+/error');
    await ingest.close();
    dir.remove();
  });

  it('spool limit: stops acknowledging when full, says so, and takes the rest once the database is back', async () => {
    const dir = tempDir();
    const influx: OwnInflux = await ownInflux(); // not started yet: the database is down
    const states = await collect(client, 'hw/platform/ingest/+');
    const ingest = await startIngest({
      config: ingestTestConfig(dir.dir, {
        mqtt: { url: mosquitto.url },
        ingest: {
          instance: 'full',
          clientId: 'svc:ingest:full',
          influx: { kind: 'v1', url: influx.url, database: 'full', timeoutMs: 1000 },
          spool: { maxMessages: 50, resumeRatio: 0.5 },
          retry: { minMs: 100, maxMs: 300 },
        },
      }),
      log: testLog(),
      metrics: createMetricsRegistry(),
      registry,
    });
    await ingest.ready;
    const load = startLoad(client, ['meter-0', 'meter-1', 'meter-2', 'meter-3'], 100);
    await waitFor(() => ingest.stats().spool.full, 10_000);
    await waitFor(() => states.some((s) => s.body.code === 'HW_ERR_SPOOL_FULL'), 5000);
    // Keep publishing while ingest is away: the broker queues for its persistent session.
    await new Promise((r) => setTimeout(r, 1500));
    const sent = await load.stop();
    const full = ingest.stats();
    // The limit holds: nothing beyond it was taken; the rest waits in the broker's session.
    expect(full.spool.messages).toBe(50);
    expect(full.acknowledged).toBe(50);
    expect(sent).toBeGreaterThan(100);
    expect(states.find((s) => s.body.code === 'HW_ERR_SPOOL_FULL')!).toMatchObject({ topic: 'hw/platform/ingest/full', body: { state: 'full', instance: 'full' } });
    await influx.start();
    await waitFor(async () => (await v1Count(influx.url, 'full', 'SELECT count(energy) FROM power_meter').catch(() => [0]))[0] >= sent, 30_000, 250);
    expect(await v1Count(influx.url, 'full', 'SELECT count(energy), count(distinct(energy)) FROM power_meter')).toEqual([sent, sent]);
    await waitFor(() => states.at(-1)?.body.state === 'ok', 5000);
    expect(ingest.stats().spool.full).toBe(false);
    await ingest.close();
    await influx.remove();
    dir.remove();
  });
});
