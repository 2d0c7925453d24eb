// Modbus RTU end to end on a pseudo-terminal: the gateway's RTU path (serialport + jsmodbus RTU client)
// against a slave written in Python from the serial-line spec (gateway/test/rtu_slave.py), so framing,
// CRC and unit addressing are checked against an implementation that shares no code with ours.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { waitFor } from '../../test/support/net.ts';
import { parseRegisterMap, resolveDevice } from '../map.ts';
import { startPoller, type Poller } from '../poller.ts';

describe('Modbus RTU over a serial line', () => {
  let slave: ChildProcess | undefined;
  let poller: Poller | undefined;
  afterAll(async () => {
    await poller?.close();
    slave?.stdin?.end();
    slave?.kill();
  });

  it('reads and decodes registers of slave 7', async () => {
    // 230.5 V as float32 ABCD = 0x43668000; energy 1234567.89 kWh at 0.01 = 123456789 = 0x075BCD15, CDAB
    const spec = { unit: 7, input: { 0: 0x4366, 1: 0x8000, 20: 0xcd15, 21: 0x075b } };
    slave = spawn('/usr/bin/python3', [join(import.meta.dirname, 'rtu_slave.py'), JSON.stringify(spec)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const path = await new Promise<string>((resolve, reject) => {
      slave!.stdout!.once('data', (d) => resolve(String(d).trim()));
      slave!.once('exit', (code) => reject(new Error(`rtu slave exited ${code}`)));
    });
    const map = parseRegisterMap({
      enterprise: 'acme',
      gateway: 'gw',
      modbus: [
        {
          name: 'meter-485',
          rtu: { path, baudRate: 19200 },
          unitId: 7,
          pollMs: 200,
          timeoutMs: 500,
          devices: [
            {
              id: 'm1',
              class: 'power_meter',
              metrics: [
                { metric: 'voltage', table: 'input', address: 0, type: 'float32', order: 'ABCD' },
                { metric: 'energy', table: 'input', address: 20, type: 'uint32', order: 'CDAB', scale: 0.01 },
              ],
            },
          ],
        },
      ],
    });
    const readings: Record<string, number | boolean>[] = [];
    const sink = { reading: (_d: string, _ts: number, v: Record<string, number | boolean>) => void readings.push(v), event: () => {}, status: () => {} };
    poller = startPoller({ device: resolveDevice(map, map.modbus[0]), publisher: sink, log: silentLogger(), metrics: createMetricsRegistry() });
    await waitFor(() => readings.length >= 2, 10_000);
    expect(readings[0]).toEqual({ voltage: 230.5, energy: 1234567.89 });
    expect(poller.requests.map((r) => `${r.table} ${r.address}+${r.count}`)).toEqual(['input 0+2', 'input 20+2']);
  }, 20_000);
});
