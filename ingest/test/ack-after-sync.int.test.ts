// Real broker, ingest in-process with its spool's fsync held back (a disk cannot be made slow on
// demand, so the fsync is replaced; everything else is real): no PUBACK before the fsync returns.
import { fsync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MqttClient } from 'mqtt';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { silentLogger } from '../../core/log.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { startIngest, type IngestService } from '../service.ts';
import { connect, ingestTestConfig, tempDir } from './helpers.ts';

describe('ingest acknowledges only what is on disk', () => {
  let broker: TestBroker;
  let ingest: IngestService;
  let tmp: ReturnType<typeof tempDir>;
  let device: MqttClient;
  let hold = true;
  const held: (() => void)[] = [];

  beforeAll(async () => {
    broker = await startTestBroker({ broker: { publishRatePerSecond: 0 } });
    tmp = tempDir();
    const svc = await broker.registry.setService('ingest');
    const d = await broker.registry.addDevice({ enterprise: 'acme', id: 'gas-1', class: 'gas_combustible' });
    const config = ingestTestConfig(tmp.dir, { mqtt: { url: broker.url, username: svc.username, password: svc.password }, ingest: { influx: { kind: 'none' } } });
    ingest = await startIngest({
      config,
      log: silentLogger(),
      metrics: createMetricsRegistry(),
      registry: broker.registry,
      spoolFsync: (fd, done) => (hold ? held.push(() => fsync(fd, done)) : fsync(fd, done)),
    });
    await ingest.ready;
    device = await connect(broker.url, { username: d.username, password: d.password, clientId: d.clientId });
  });

  afterAll(async () => {
    hold = false;
    held.splice(0).forEach((release) => release());
    await device?.endAsync();
    await ingest?.close();
    await broker?.close();
    tmp?.remove();
  });

  it('holds every PUBACK, the refused message\'s too, until the spool\'s fsync has returned, then sends them all', async () => {
    const sends = [1, 2, 3, 4].map((lel) => device.publishAsync('hw/v1/acme/gas-1/telemetry', JSON.stringify({ values: { lel } }), { qos: 1 }));
    sends.push(device.publishAsync('hw/v1/acme/gas-1/telemetry', '{"values":', { qos: 1 }));
    await Promise.all(sends);
    // The four readings committed to the spool (the device's presence arrives too).
    await waitFor(() => ingest.stats().spool.messages >= 4 && ingest.stats().rejected === 1 && held.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    const before = ingest.stats();
    expect(before.acknowledged).toBe(0);
    hold = false;
    held.splice(0).forEach((release) => release());
    await waitFor(() => ingest.stats().acknowledged === before.received);
    expect(ingest.stats()).toMatchObject({ acknowledged: before.received, received: before.received });
  });
});
