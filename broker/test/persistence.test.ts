// persistence: level keeps QoS 1 sessions, their queued messages and retained messages across a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestBroker } from '../../test/support/broker.ts';
import { freePort, waitFor } from '../../test/support/net.ts';
import { collect, connect, connectCollecting, subscribe } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'hazwatch-persist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('level persistence', () => {
  it('delivers QoS 1 messages queued for an offline persistent session after a broker restart', async () => {
    const port = await freePort();
    const options = { dataDir: dir, broker: { port, persistence: 'level' as const } };
    let tb = await startTestBroker(options);
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'pump-01', class: 'fire_water' });

    // The device subscribes with a persistent session, then goes away.
    const device = await connect(tb.url, { ...creds, clean: false });
    expect(await subscribe(device, 'hw/v1/acme/pump-01/command')).toEqual([1]);
    await device.endAsync();

    // While it is away, the platform sends it a command, and the broker restarts.
    const svc = await connect(tb.url, tb.service);
    await svc.publishAsync('hw/v1/acme/pump-01/command', '{"do":"start"}', { qos: 1 });
    await svc.endAsync();
    await tb.close();

    tb = await startTestBroker(options);
    try {
      // The retained status survived: offline, published by the broker when the device left.
      const reader = await connect(tb.url, tb.service);
      const statuses = collect(reader);
      await subscribe(reader, 'hw/v1/acme/pump-01/status');
      await waitFor(() => statuses.length > 0);
      expect(statuses[0]).toMatchObject({ retain: true, payload: expect.stringContaining('"state":"offline"') });
      await reader.endAsync();

      // The session survived: no new SUBSCRIBE, and the queued command arrives.
      const { client: back, received: got } = await connectCollecting(tb.url, { ...creds, clean: false });
      await waitFor(() => got.length > 0);
      expect(got[0]).toMatchObject({ topic: 'hw/v1/acme/pump-01/command', payload: '{"do":"start"}' });
      await back.endAsync();
    } finally {
      await tb.close();
    }
  });
});
