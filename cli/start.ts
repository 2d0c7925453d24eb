// `hazwatch start`: broker, ingest, rules and API in one process, for one machine with no Docker.
// Each part is the same code as its own command; they talk to each other over MQTT on loopback
// exactly as separate processes would, each with its own service account provisioned at start.
import { fileURLToPath } from 'node:url';
import { startApi } from '../api/start.ts';
import { startBroker } from '../broker/server.ts';
import type { Command, Service } from '../core/command.ts';
import { registryPath, type Config } from '../core/config.ts';
import { startIngest } from '../ingest/service.ts';
import { openRegistry } from '../registry/registry.ts';
import { startRules } from '../rules/service.ts';
import { loopRuns, recordExpected, startRun } from '../simulators/run.ts';

const DEMO_SCENARIO = fileURLToPath(new URL('../simulators/scenarios/demo.yaml', import.meta.url));

export const startCommand: Command = {
  name: 'start',
  summary: 'Run broker, ingest, rules and API in one process (--demo adds a simulated plant and a fault scenario)',
  usage: 'start [--demo] [--scenario <file>] [--port <mqtt port>] [--api-port <http port>]',
  options: {
    demo: { type: 'boolean' },
    scenario: { type: 'string' },
    port: { type: 'string' },
    'api-port': { type: 'string' },
  },
  overrides(flags) {
    const num = (v: unknown) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v);
    const out: Record<string, Record<string, unknown>> = {};
    if (flags.port !== undefined) out.broker = { port: num(flags.port) };
    if (flags['api-port'] !== undefined) out.api = { port: num(flags['api-port']) };
    if (flags.demo) out.api = { ...out.api, demoLogin: true, autoPlan: true };
    if (flags.demo || flags.scenario) out.api = { ...out.api, demo: true };
    return out;
  },
  async run({ config, log, metrics, flags, signal, out }) {
    const registry = openRegistry(registryPath(config));
    const services: Service[] = [{ name: 'registry', close: async () => registry.close() }];
    const stopAll = async () => {
      for (const s of [...services].reverse()) await s.close().catch((err) => log.error({ err, service: s.name }, 'error while stopping'));
    };
    try {
      const broker = await startBroker({ ...config.broker, dataDir: config.dataDir }, { log, metrics, registry });
      services.push({ name: 'broker', close: () => broker.close() });

      // Fresh service secrets at every start: they never leave this process.
      const serviceConfig = async (name: string): Promise<Config> => {
        const creds = await registry.setService(name);
        return { ...config, mqtt: { url: broker.url, username: creds.username, password: creds.password } };
      };

      const ingest = await startIngest({ config: await serviceConfig('ingest'), log, metrics, registry });
      services.push(ingest);
      const rules = await startRules({ config: await serviceConfig('rules'), log, metrics, registry });
      services.push(rules);
      const apiConfig = await serviceConfig('api');
      const api = await startApi({
        config: apiConfig,
        log,
        metrics,
        registry,
        mqtt: { url: broker.url, username: apiConfig.mqtt.username!, password: apiConfig.mqtt.password! },
      });
      services.push(api);

      out.write(`\nhazwatch is running\n  MQTT broker  ${broker.url}${broker.wsUrl ? `  (WebSocket ${broker.wsUrl})` : ''}\n  console      ${api.consoleUrl}\n  API docs     ${api.url}/docs\n`);
      if (api.generatedAdminPassword) out.write(`  first administrator: ${config.api.adminUser} / ${api.generatedAdminPassword}  (shown once)\n`);

      if (flags.demo || flags.scenario) {
        const scenario = (flags.scenario as string | undefined) ?? DEMO_SCENARIO;
        let expected: ReturnType<typeof recordExpected>;
        const loop = await loopRuns(() => startRun({ url: broker.url, settings: { ...config.simulate, scenario }, registry, signal, log, metrics, progress: false }), {
          log,
          signal,
          // The alarms each run must cause, so that a demo can be checked against the console.
          onRun: (run) => (expected = recordExpected(run, config)),
        });
        services.push({ name: 'simulators', close: () => loop.stop() });
        out.write(`  simulators   ${loop.current.devices.length} devices, scenario ${scenario}, repeated until stopped\n`);
        if (expected) out.write(`  expected     ${expected.count} alarms per run, listed in ${expected.file}\n`);
        if (config.api.demoLogin || flags.demo) out.write('  demo login   demo / hazwatch-demo\n');
      }
      if (config.ingest.influx.kind === 'none') {
        out.write('  InfluxDB     NOT CONFIGURED: readings are validated and kept in the spool, not stored (see README, Configuration)\n');
      }
      out.write('Press Ctrl-C to stop.\n\n');
      return services;
    } catch (err) {
      await stopAll();
      throw err;
    }
  },
};
