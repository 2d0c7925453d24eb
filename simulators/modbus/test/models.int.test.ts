// The demo site served from the device models (hazwatch modbus-sim), polled over TCP with the shipped
// example map: every value decodes inside the catalog's physical range and the contract accepts it.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEVICE_CLASSES } from '../../../contract/catalog.ts';
import { interpretTelemetry } from '../../../contract/payloads.ts';
import { silentLogger } from '../../../core/log.ts';
import { createMetricsRegistry } from '../../../core/metrics.ts';
import { loadRegisterMap, resolveDevice } from '../../../gateway/map.ts';
import { startPoller, type Poller } from '../../../gateway/poller.ts';
import { waitFor } from '../../../test/support/net.ts';
import { DEMO_SITE } from '../command.ts';
import { startModbusSim, type ModbusSim } from '../simulator.ts';

describe('Modbus simulators driven by the device models', () => {
  const sims: ModbusSim[] = [];
  const pollers: Poller[] = [];
  afterAll(async () => {
    for (const p of pollers) await p.close();
    for (const s of sims) await s.close();
  });

  it('serve the example site with values the contract accepts', async () => {
    const map = loadRegisterMap(join(import.meta.dirname, '..', '..', '..', 'gateway', 'examples', 'site.yaml'));
    const readings: { device: string; values: Record<string, number | boolean> }[] = [];
    const statuses: string[] = [];
    const sink = {
      reading: (device: string, _ts: number, values: Record<string, number | boolean>) => void readings.push({ device, values }),
      event: () => {},
      status: (device: string, state: string) => void statuses.push(`${device}:${state}`),
    };
    for (const [i, site] of DEMO_SITE.entries()) {
      const sim = await startModbusSim({ profile: site.profile, port: 0, stepMs: 100, channels: site.devices.map((device, k) => ({ device, seed: 7 + i * 10 + k })) });
      sims.push(sim);
      const device = resolveDevice(map, { ...map.modbus[i], pollMs: 100, tcp: { host: '127.0.0.1', port: sim.port } });
      pollers.push(startPoller({ device, publisher: sink, log: silentLogger(), metrics: createMetricsRegistry() }));
    }
    const ids = map.modbus.flatMap((m) => m.devices.map((d) => d.id));
    await waitFor(() => ids.every((id) => readings.some((r) => r.device === id)), 10_000);
    const classOf = new Map(map.modbus.flatMap((m) => m.devices.map((d) => [d.id, d.class] as const)));
    for (const r of readings) {
      const cls = classOf.get(r.device)!;
      const result = interpretTelemetry(cls, JSON.stringify({ ts: Date.now(), values: r.values }), Date.now());
      expect(result.rejections, `${r.device} ${JSON.stringify(r.values)}`).toEqual([]);
      expect(Object.keys(r.values).every((m) => m in DEVICE_CLASSES[cls].metrics)).toBe(true);
    }
    expect(statuses.filter((s) => s.endsWith(':online')).length).toBe(ids.length);
  }, 20_000);
});
