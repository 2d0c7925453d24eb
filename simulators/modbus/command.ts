// `hazwatch modbus-sim`: the demo site of gateway/examples/site.yaml on Modbus TCP: a gas controller,
// a tank gauge, a fire-pump panel and a power meter, each on its own port, driven by the device models.
import type { Command, Service } from '../../core/command.ts';
import { startModbusSim, type ModbusSim } from './simulator.ts';
import type { ProfileName } from './profiles.ts';

/** The devices of gateway/examples/site.yaml, in port order from --port (default 5020). */
export const DEMO_SITE: { profile: ProfileName; devices: string[] }[] = [
  { profile: 'gas-controller', devices: ['gas-01', 'gas-02', 'gas-03', 'gas-04'] },
  { profile: 'tank-gauge', devices: ['tank-t101'] },
  { profile: 'pump-panel', devices: ['firewater-p1'] },
  { profile: 'power-meter', devices: ['meter-mcc1'] },
];

export const modbusSimCommand: Command = {
  name: 'modbus-sim',
  summary: 'Serve simulated Modbus TCP devices (gas controller, tank gauge, pump panel, power meter) for the gateway',
  usage: 'modbus-sim [--port 5020] [--host 127.0.0.1] [--seed <n>] [--step-ms 1000]',
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    seed: { type: 'string' },
    'step-ms': { type: 'string' },
  },
  async run({ flags, log }) {
    const base = Number(flags.port ?? 5020);
    const seed = Number(flags.seed ?? 1);
    const stepMs = Number(flags['step-ms'] ?? 1000);
    for (const [name, v] of [['port', base], ['seed', seed], ['step-ms', stepMs]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new Error(`modbus-sim: --${name} must be a whole number, got ${flags[name]}`);
    }
    const host = typeof flags.host === 'string' ? flags.host : '127.0.0.1';
    const sims: ModbusSim[] = [];
    try {
      for (const [i, site] of DEMO_SITE.entries()) {
        sims.push(
          await startModbusSim({
            profile: site.profile,
            host,
            port: base + i,
            channels: site.devices.map((device, k) => ({ device, seed: seed * 1000 + i * 100 + k })),
            stepMs,
            log: log.child({ component: 'modbus-sim' }),
          }),
        );
      }
    } catch (err) {
      await Promise.all(sims.map((s) => s.close()));
      throw err;
    }
    const service: Service = {
      name: 'modbus-sim',
      async close() {
        await Promise.all(sims.map((s) => s.close()));
      },
    };
    return service;
  },
};
