// The command line and the gateway's behaviour towards the broker when its credentials are refused.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { startTestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { startGateway } from '../gateway.ts';
import { parseRegisterMap } from '../map.ts';

function capture() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (d) => (text += d));
  return { stream, text: () => text };
}

describe('hazwatch gateway', () => {
  it('refuses to start without a register map, or with a wrong one, naming the problem', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hazwatch-gwcmd-'));
    try {
      const err = capture();
      expect(await main(['gateway', '--data-dir', dir, '--log-level', 'silent'], { out: capture().stream, err: err.stream })).not.toBe(0);
      expect(err.text()).toMatch(/HW_ERR_CONFIG.*register map/);
      const err2 = capture();
      expect(await main(['gateway', '--map', join(dir, 'missing.yaml'), '--data-dir', dir, '--log-level', 'silent'], { out: capture().stream, err: err2.stream })).not.toBe(0);
      expect(err2.text()).toMatch(/HW_ERR_CONFIG.*cannot read register map/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with a refused password retries slowly instead of hammering the broker into a ban', async () => {
    const broker = await startTestBroker();
    try {
      await broker.registry.addDevice({ enterprise: 'acme', id: 'm1', class: 'power_meter' });
      await broker.registry.addGateway('acme', 'gw');
      const map = parseRegisterMap({
        enterprise: 'acme',
        gateway: 'gw',
        modbus: [{ name: 'm', tcp: { host: '127.0.0.1', port: 1 }, devices: [{ id: 'm1', class: 'power_meter', metrics: [{ metric: 'voltage', table: 'input', address: 0, type: 'float32' }] }] }],
      });
      const refusals = () => Object.values(broker.broker.stats().connectionsRefused as Record<string, number>).reduce((a, b) => a + b, 0);
      const gw = await startGateway({ map, url: broker.url, password: 'wrong', bufferPath: ':memory:', reconnectMs: 100, log: silentLogger(), metrics: createMetricsRegistry() });
      await waitFor(() => refusals() >= 1, 5000);
      await new Promise((r) => setTimeout(r, 1500)); // 15 retries at the configured 100 ms
      expect(refusals()).toBeLessThanOrEqual(2);
      await gw.close();
    } finally {
      await broker.close();
    }
  });
});
