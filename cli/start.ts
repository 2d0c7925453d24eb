// `hazwatch start`: broker, ingest, rules and API in one process, for one machine with no Docker.
// Each part is the same code as its own command; they talk to each other over MQTT on loopback
// exactly as separate processes would, each with its own service account provisioned at start.
import { fileURLToPath } from 'node:url';
import { startApi } from '../api/start.ts';
import { startBroker } from '../broker/server.ts';
import type { Command, Service } from '../core/command.ts';
import { dataPath, registryTarget, type Config } from '../core/config.ts';
import { findInfluxd, freeLoopbackPort, influxd } from '../core/influxd.ts';
import type { Logger } from '../core/log.ts';
import { startIngest } from '../ingest/service.ts';
import { openRegistry } from '../registry/registry.ts';
import { startSparkplug } from '../sparkplug/service.ts';
import { startVendor } from '../vendor/service.ts';
import { startNorthbound } from '../northbound/service.ts';
import { startProvinceSim, type ProvinceSim } from '../simulators/province.ts';
import { demoMessaging, startReceiversSim, type ReceiversSim } from '../simulators/receivers.ts';
import { startRules } from '../rules/service.ts';
import { loopRuns, recordExpected, startRun } from '../simulators/run.ts';

const DEMO_SCENARIO = fileURLToPath(new URL('../simulators/scenarios/demo.yaml', import.meta.url));
const DEMO_PROVINCE_MAP = fileURLToPath(new URL('../northbound/examples/demo-province.yaml', import.meta.url));
/** From the 4th minute of each demo run of 10, for one minute: while the scenario's alarms come. */
const DEMO_PROVINCE_OUTAGE = { afterMs: 4 * 60_000, forMs: 60_000, everyMs: 10 * 60_000 };

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
  async run({ config: given, log, metrics, flags, signal, out }) {
    const registry = await openRegistry(registryTarget(given));
    const services: Service[] = [{ name: 'registry', close: () => registry.close() }];
    const stopAll = async () => {
      for (const s of [...services].reverse()) await s.close().catch((err) => log.error({ err, service: s.name }, 'error while stopping'));
    };
    try {
      const database = await resolveDatabase(given, log);
      if (database.service) services.push(database.service);
      let config = database.config;
      // The demo's messages to people (warnings, alarms to whoever is on duty, overdue hidden dangers) go
      // to simulated receivers (an SMS gateway that reports delivery, WeCom and DingTalk robots) and to
      // field displays on its own broker.
      let receivers: ReceiversSim | undefined;
      let reportToken = '';
      if (flags.demo && config.dispatch.channels.length === 0) {
        receivers = await startReceiversSim();
        services.push({ name: 'receivers', close: () => receivers!.close() });
        const messaging = demoMessaging(receivers);
        reportToken = messaging.dispatch.reportToken;
        config = {
          ...config,
          dispatch: { ...config.dispatch, ...messaging.dispatch },
          warnings: { ...config.warnings, audiences: messaging.audiences },
          dangers: { ...config.dangers, checkSeconds: 10 },
          rules: { ...config.rules, notify: { ...config.rules.notify, routes: [...config.rules.notify.routes, ...messaging.routes] } },
        };
      }
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
      // Sparkplug B edge nodes, when maps say which of their devices are which.
      if (config.sparkplug.maps.length) services.push(await startSparkplug({ config: await serviceConfig('sparkplug'), log, metrics, registry }));
      // Installed devices' own JSON on their own topics, when vendor maps say what it means.
      if (config.vendor.maps.length) services.push(await startVendor({ config: await serviceConfig('vendor'), log, metrics, registry }));
      // Reporting upward to the provincial (or park) platform, when a northbound map says how; the demo
      // reports to a simulated one, down one minute in ten, to show the backlog and its catching up.
      let province: ProvinceSim | undefined;
      if (config.northbound.map) services.push(await startNorthbound({ config: await serviceConfig('northbound'), log, metrics, registry }));
      else if (flags.demo) {
        province = await startProvinceSim({ outage: DEMO_PROVINCE_OUTAGE });
        services.push({ name: 'province', close: () => province!.close() });
        const nbConfig = await serviceConfig('northbound');
        const northbound = { ...nbConfig.northbound, map: DEMO_PROVINCE_MAP, readingIntervalSeconds: 10 };
        services.push(await startNorthbound({ config: { ...nbConfig, northbound }, log, metrics, registry, env: { ...process.env, HW_DEMO_PROVINCE_URL: province.url } }));
      }
      const apiConfig = await serviceConfig('api');
      const api = await startApi({
        config: apiConfig,
        log,
        metrics,
        registry,
        mqtt: { url: broker.url, username: apiConfig.mqtt.username!, password: apiConfig.mqtt.password! },
      });
      services.push(api);
      receivers?.reportTo(api.url, reportToken, 'sms');

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
        if (province) out.write(`  province     ${province.url}/status  (simulated provincial platform, down 1 min in 10)\n`);
        if (receivers) out.write(`  messages     ${receivers.url}/status  (simulated SMS gateway and WeCom/DingTalk robots; displays on hw/warnings/#)\n`);
      }
      out.write(`  InfluxDB     ${database.note}\n`);
      out.write('Press Ctrl-C to stop.\n\n');
      return services;
    } catch (err) {
      await stopAll();
      throw err;
    }
  },
};

/**
 * ingest.influx.kind `auto`: an InfluxDB already answering at ingest.influx.url (Debian's influxdb
 * service on 8086), else the influxd binary run here with its data under <dataDir>/influxdb on a free
 * loopback port and restarted if it dies, else nothing stored (said loudly, readings kept in the spool).
 */
async function resolveDatabase(config: Config, log: Logger): Promise<{ config: Config; service?: Service; note: string }> {
  const influx = config.ingest.influx;
  const using = (url: string): Config => ({ ...config, ingest: { ...config.ingest, influx: { ...influx, kind: 'v1', url } } });
  if (influx.kind === 'none') return { config, note: 'NOT CONFIGURED (ingest.influx.kind none): readings are validated and kept in the spool, not stored' };
  if (influx.kind !== 'auto') return { config, note: `${influx.url} (${influx.kind}), database ${influx.kind === 'v2' ? influx.bucket : influx.database}` };
  if ((await fetch(`${influx.url}/ping`, { signal: AbortSignal.timeout(2000) }).catch(() => undefined))?.status === 204) {
    log.info({ url: influx.url }, 'ingest.influx.kind auto: using the InfluxDB that answers there');
    return { config: using(influx.url), note: `${influx.url}, database ${influx.database} (found running)` };
  }
  const bin = findInfluxd();
  if (!bin) {
    log.warn('ingest.influx.kind auto: no InfluxDB answers and no influxd is installed: nothing is stored');
    return { config, note: 'NOT FOUND: readings are validated and kept in the spool, not stored; install one (apt-get install influxdb) or set ingest.influx (README, Configuration)' };
  }
  const dir = dataPath(config, 'influxdb');
  const server = influxd({ bin, dir, httpPort: await freeLoopbackPort(), rpcPort: await freeLoopbackPort(), supervise: true, log: log.child({ component: 'influxd' }) });
  await server.start();
  log.info({ url: server.url, dir, pid: server.pid() }, 'ingest.influx.kind auto: influxd started for this platform');
  return { config: using(server.url), service: { name: 'influxd', close: () => server.stop() }, note: `${server.url}, database ${influx.database} (run by hazwatch, data in ${dir})` };
}
