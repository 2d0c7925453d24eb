// Real broker (test/support/broker.ts), real InfluxDB 1.x (global setup), ingest in-process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { silentLogger } from '../../core/log.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { createTestDatabase, influxQuery } from '../../test/support/influx.ts';
import { waitFor } from '../../test/support/net.ts';
import { startIngest, type IngestService } from '../service.ts';
import { collect, connect, ingestTestConfig, tempDir } from './helpers.ts';

async function count(db: string, q: string): Promise<number> {
  const res = await influxQuery(db, q);
  return (res.results[0].series?.[0]?.values[0]?.[1] as number | undefined) ?? 0;
}

describe('ingest: broker → InfluxDB 1.x', () => {
  let broker: TestBroker;
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let ingest: IngestService;
  let tmp: ReturnType<typeof tempDir>;
  let gateway: MqttClient;
  const metrics = createMetricsRegistry();

  beforeAll(async () => {
    broker = await startTestBroker({ broker: { publishRatePerSecond: 0, gatewayPublishRatePerSecond: 0 } });
    db = await createTestDatabase('hw_ingest');
    tmp = tempDir();
    const svc = await broker.registry.setService('ingest');
    await broker.registry.addDevices(
      Array.from({ length: 10 }, (_, i) => ({ enterprise: 'acme', id: `gas-${i}`, class: 'gas_combustible' as const, site: 'north', hazardSource: 'T-101' })),
    );
    await broker.registry.addDevice({ enterprise: 'acme', id: 'pump-1', class: 'fire_water' });
    const gw = await broker.registry.addGateway('acme', 'gw-1');
    const config = ingestTestConfig(tmp.dir, {
      mqtt: { url: broker.url, username: svc.username, password: svc.password },
      ingest: { influx: { kind: 'v1', url: db.url, database: db.db }, maxPayloadBytes: 2048, maxBatch: 5 },
    });
    ingest = await startIngest({ config, log: silentLogger(), metrics, registry: broker.registry });
    await ingest.ready;
    gateway = await connect(broker.url, { username: gw.username, password: gw.password, clientId: gw.clientId });
  });

  afterAll(async () => {
    await gateway?.endAsync();
    await ingest?.close();
    await broker?.close();
    await db?.drop();
    tmp?.remove();
  });

  it('stores every reading exactly once, device time or receive time', async () => {
    const t0 = Date.now() - 60_000;
    const sends: Promise<unknown>[] = [];
    for (let n = 0; n < 100; n++) {
      for (let i = 0; i < 10; i++) {
        const body = n % 2 ? { ts: t0 + n * 100, values: { lel: (n + i) % 100 } } : { values: { lel: n % 100 } };
        sends.push(gateway.publishAsync(`hw/v1/acme/gas-${i}/telemetry`, JSON.stringify(body), { qos: 1 }));
      }
    }
    await Promise.all(sends);
    await waitFor(async () => (await count(db.db, 'SELECT count(lel) FROM gas_combustible')) >= 1000, 20_000);
    expect(await count(db.db, 'SELECT count(lel) FROM gas_combustible')).toBe(1000);
    expect(await count(db.db, 'SELECT count(lel) FROM gas_combustible WHERE receive_time = true')).toBe(500);
    const tags = await influxQuery(db.db, 'SHOW TAG VALUES FROM gas_combustible WITH KEY IN ("hazard_source", "site")');
    expect(tags.results[0].series?.[0].values).toEqual([
      ['hazard_source', 'T-101'],
      ['site', 'north'],
    ]);
    await waitFor(() => ingest.stats().spool.messages === 0);
    expect(ingest.stats()).toMatchObject({ stored: 1000, rejected: 0 });
  });

  it('answers every kind of bad message on the device error topic, and stores the good values', async () => {
    const errors = await collect(gateway, 'hw/v1/acme/+/error');
    const now = Date.now();
    const bad: [string, string, string | Buffer][] = [
      ['HW_ERR_UNKNOWN_DEVICE', 'hw/v1/acme/ghost/telemetry', JSON.stringify({ values: { lel: 1 } })],
      ['HW_ERR_PAYLOAD_TOO_LARGE', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ values: { lel: 1 }, pad: 'x'.repeat(4000) })],
      ['HW_ERR_BAD_JSON', 'hw/v1/acme/gas-1/telemetry', '{"values": {"lel": 1'],
      ['HW_ERR_SCHEMA', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ value: 1 })],
      ['HW_ERR_BATCH_TOO_LARGE', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ readings: Array.from({ length: 6 }, () => ({ values: { lel: 1 } })) })],
      ['HW_ERR_EMPTY', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ values: {} })],
      ['HW_ERR_UNKNOWN_EVENT', 'hw/v1/acme/gas-1/event', JSON.stringify({ type: 'smoke' })],
      ['HW_ERR_UNKNOWN_METRIC', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ values: { ppm: 3 } })],
      ['HW_ERR_TYPE', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ values: { lel: 'high' } })],
      ['HW_ERR_NOT_FINITE', 'hw/v1/acme/gas-1/telemetry', '{"values": {"lel": 1e999}}'],
      ['HW_ERR_RANGE', 'hw/v1/acme/pump-1/telemetry', JSON.stringify({ ts: now, values: { pressure: 0.35, pool_level: -3 } })],
      ['HW_ERR_TS_FUTURE', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ ts: now + 3 * 3600_000, values: { lel: 1 } })],
      ['HW_ERR_TS_PAST', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ ts: now - 30 * 86400_000, values: { lel: 1 } })],
      ['HW_ERR_TS_INVALID', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ ts: '23/11/2026 08:00', values: { lel: 1 } })],
      ['HW_WARN_CLOCK_SKEW', 'hw/v1/acme/gas-1/telemetry', JSON.stringify({ ts: now + 600_000, values: { lel: 7 } })],
    ];
    for (const [, topic, payload] of bad) await gateway.publishAsync(topic, payload, { qos: 1 });
    await waitFor(() => errors.length >= bad.length, 10_000);
    // Limits lowered for the test: 5 readings per message, 2 kB per payload (the broker allows more).
    expect(errors.map((e) => e.body.code).sort()).toEqual(bad.map(([code]) => code).sort());
    for (const [code, topic] of bad) {
      const answer = errors.find((e) => e.body.code === code)!;
      expect(answer.topic).toBe(topic.replace(/\/(telemetry|event)$/, '/error'));
      expect(answer.body).toMatchObject({ topic, message: expect.any(String), receivedAt: expect.any(Number) });
    }
    expect(errors.find((e) => e.body.code === 'HW_ERR_RANGE')!.body.metric).toBe('pool_level');
    // The good sibling of the out-of-range value and the skewed reading are stored.
    await waitFor(async () => (await count(db.db, 'SELECT count(pressure) FROM fire_water')) === 1, 10_000);
    await waitFor(async () => (await count(db.db, "SELECT count(lel) FROM gas_combustible WHERE lel = 7 AND receive_time = true")) === 1, 10_000);
    const stats = ingest.stats();
    for (const [code] of bad.filter(([c]) => c.startsWith('HW_ERR'))) expect(stats.rejectedByReason[code]).toBeGreaterThanOrEqual(1);
    const text = await metrics.getSingleMetricAsString('hazwatch_ingest_rejected_total');
    expect(text).toContain('reason="HW_ERR_NOT_FINITE"');
  });

  it('stores events and status, and writes its own health points', async () => {
    await gateway.publishAsync('hw/v1/acme/gas-2/event', JSON.stringify({ ts: Date.now(), type: 'alarm_stage2', message: 'LEL 55' }), { qos: 1 });
    await gateway.publishAsync('hw/v1/acme/gas-2/status', JSON.stringify({ state: 'offline', ts: Date.now() }), { qos: 1 });
    await waitFor(async () => (await count(db.db, "SELECT count(active) FROM device_event WHERE type = 'alarm_stage2'")) === 1, 10_000);
    await waitFor(async () => (await count(db.db, "SELECT count(online) FROM device_status WHERE device = 'gas-2' AND online = false")) >= 1, 10_000);
    await ingest.writeHealth();
    expect(await count(db.db, "SELECT last(received) FROM platform_ingest WHERE instance = 'test'")).toBe(ingest.stats().received);
    expect(await count(db.db, "SELECT last(count) FROM platform_rejection WHERE reason = 'HW_ERR_BAD_JSON'")).toBe(1);
  });
});
