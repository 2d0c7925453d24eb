// The system as it is deployed, for the fault tests: InfluxDB, `hazwatch broker`, `hazwatch ingest` and
// `hazwatch rules` as processes of their own on loopback, a registry of gas detectors and gateways, and
// helpers to kill, restart and count.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ownInflux, type OwnInflux } from '../support/influxd.ts';
import { READY, startService, type Service } from '../../bench/lib/procs.ts';
import { openRegistry, type Credentials, type Registry } from '../../registry/registry.ts';
import { freePort } from '../support/net.ts';

export const DB = 'hazwatch_faults';
export const ADMIN_PASSWORD = 'fault-admin-password-1';

export interface PipelineOptions {
  devices?: number;
  probes?: number;
  gateways?: number;
  rules?: boolean;
  ingest?: boolean;
  /** Start `hazwatch api` too (on a free port, admin password ADMIN_PASSWORD). */
  api?: boolean;
  /** postgres:// URL: registry, alarm store and API accounts there (database.url) instead of SQLite files. */
  database?: string;
  brokerEnv?: NodeJS.ProcessEnv;
  ingestEnv?: NodeJS.ProcessEnv;
  rulesEnv?: NodeJS.ProcessEnv;
  brokerArgs?: string[];
  /** More registry entries before anything starts (e.g. simulator devices with their own credentials). */
  provision?: (registry: Registry) => Promise<void>;
}

export interface Pipeline {
  dir: string;
  registryPath: string;
  influx: OwnInflux;
  port: number;
  url: string;
  devices: string[];
  gateways: Credentials[];
  probeGateway: Credentials;
  services: Record<string, Credentials>;
  broker: Service;
  ingest?: Service;
  rules?: Service;
  api?: Service;
  /** http://127.0.0.1:<port> of the API process. */
  apiUrl: string;
  start(name: 'broker' | 'ingest' | 'rules' | 'api'): Promise<Service>;
  /** Readings of the load enterprise stored in InfluxDB. */
  stored(where?: string): Promise<number>;
  close(): Promise<void>;
}

export async function startPipeline(opts: PipelineOptions = {}): Promise<Pipeline> {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-faults-'));
  const registryPath = opts.database ?? join(dir, 'registry.db');
  const registry = await openRegistry(registryPath);
  const devices = Array.from({ length: opts.devices ?? 500 }, (_, i) => `lel-${i}`);
  await registry.addDevices(devices.map((id) => ({ enterprise: 'load', id, class: 'gas_combustible' as const, intervalSeconds: 3600 })));
  await registry.addDevices(Array.from({ length: opts.probes ?? 100 }, (_, i) => ({ enterprise: 'probe', id: `p-${i}`, class: 'gas_combustible' as const, intervalSeconds: 3600 })));
  const gateways = await Promise.all(Array.from({ length: opts.gateways ?? 2 }, (_, i) => registry.addGateway('load', `gw-${i}`)));
  const probeGateway = await registry.addGateway('probe', 'gw');
  const services = { ingest: await registry.setService('ingest'), rules: await registry.setService('rules'), api: await registry.setService('api'), watch: await registry.setService('watch') };
  await opts.provision?.(registry);
  await registry.close();

  const influx = await ownInflux();
  await influx.start();
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  const apiPort = await freePort();
  const common = {
    ...(opts.database ? { HAZWATCH_DATABASE_URL: opts.database } : { HAZWATCH_REGISTRY_PATH: registryPath, HAZWATCH_RULES_STORE_PATH: join(dir, 'rules', 'alarms.db') }),
    HAZWATCH_LOG_LEVEL: 'info',
    HAZWATCH_MQTT_URL: url,
    HAZWATCH_INGEST_INFLUX_KIND: 'v1',
    HAZWATCH_INGEST_INFLUX_URL: influx.url,
    HAZWATCH_INGEST_INFLUX_DATABASE: DB,
    HAZWATCH_INGEST_INFLUX_CREATE_DATABASE: 'true',
  };
  const starters = {
    broker: () =>
      startService('broker', ['broker', '--port', String(port), '--ws-port', 'false', '--tls-port', 'false', ...(opts.brokerArgs ?? [])], {
        env: { ...common, HAZWATCH_DATA_DIR: join(dir, 'broker'), HAZWATCH_BROKER_PUBLISH_RATE_PER_SECOND: '0', HAZWATCH_BROKER_GATEWAY_PUBLISH_RATE_PER_SECOND: '0', ...opts.brokerEnv },
        ready: READY.broker,
      }),
    ingest: () =>
      startService('ingest', ['ingest'], {
        env: { ...common, HAZWATCH_DATA_DIR: join(dir, 'ingest'), HAZWATCH_MQTT_USERNAME: services.ingest.username, HAZWATCH_MQTT_PASSWORD: services.ingest.password, ...opts.ingestEnv },
        // A restart finds its persistent session (and subscriptions) in the broker: no new SUBSCRIBE.
        ready: READY.ingest,
      }),
    rules: () =>
      startService('rules', ['rules'], {
        env: { ...common, HAZWATCH_DATA_DIR: join(dir, 'rules'), HAZWATCH_MQTT_USERNAME: services.rules.username, HAZWATCH_MQTT_PASSWORD: services.rules.password, ...opts.rulesEnv },
        ready: READY.rules,
      }),
    api: () =>
      startService('api', ['api'], {
        env: {
          ...common,
          HAZWATCH_DATA_DIR: join(dir, 'api'),
          HAZWATCH_API_HOST: '127.0.0.1',
          HAZWATCH_API_PORT: String(apiPort),
          HAZWATCH_API_ADMIN_PASSWORD: ADMIN_PASSWORD,
          HAZWATCH_API_LOGIN_RATE_LIMIT: '1000',
          HAZWATCH_API_INFLUX_URL: influx.url,
          HAZWATCH_API_INFLUX_DATABASE: DB,
          HAZWATCH_MQTT_USERNAME: services.api.username,
          HAZWATCH_MQTT_PASSWORD: services.api.password,
        },
        ready: READY.api,
      }),
  };
  const self: Pipeline = {
    dir,
    registryPath,
    influx,
    port,
    url,
    devices,
    gateways,
    probeGateway,
    services,
    broker: undefined as never,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    async start(name) {
      const s = await starters[name]();
      self[name] = s;
      return s;
    },
    stored: (where = "enterprise='load'") => influx.count(DB, 'gas_combustible', where),
    async close() {
      for (const s of [self.api, self.rules, self.ingest, self.broker]) await s?.stop();
      await influx.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await self.start('broker');
    if (opts.ingest !== false) await self.start('ingest');
    if (opts.rules) await self.start('rules');
    if (opts.api) await self.start('api');
  } catch (err) {
    await self.close();
    throw err;
  }
  return self;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `check` holds or `ms` pass; returns whether it held (the test asserts, this never throws). */
export async function until(check: () => Promise<boolean> | boolean, ms: number, every = 500): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await sleep(every);
  }
}

/** Counts log lines of a service that carry `code`. */
export function countCode(service: Service | undefined, code: string): number {
  return service ? service.output().split('\n').filter((l) => l.includes(`"${code}"`)).length : 0;
}

/**
 * Probe detectors crossing their threshold: every 250 ms the next of `count` probes (`p-<n>` of the
 * enterprise `enterprise`) sends two readings at 60 and 61 %LEL through that enterprise's gateway connection.
 */
export function startProbing(prober: { publish(topic: string, payload: string): void }, count: number, enterprise = 'probe'): { sent(): number; stop(): void } {
  let probe = 0;
  const timer = setInterval(() => {
    if (probe >= count) return;
    const id = `p-${probe++}`;
    const ts = Date.now();
    prober.publish(`hw/v1/${enterprise}/${id}/telemetry`, `{"ts":${ts},"values":{"lel":60}}`);
    prober.publish(`hw/v1/${enterprise}/${id}/telemetry`, `{"ts":${ts + 1},"values":{"lel":61}}`);
  }, 250);
  return { sent: () => probe, stop: () => clearInterval(timer) };
}


/**
 * The readings of a load's ledger (bench/lib/load.ts `ledger`) that InfluxDB does not hold: topic and
 * time, oldest first. What a fault test prints when stored ≠ sent, so that the loss can be placed.
 */
export async function missingReadings(influxUrl: string, db: string, measurement: string, ledgers: Record<string, number[]>[]): Promise<{ topic: string; ts: number }[]> {
  const q = `SELECT "lel" FROM "${measurement}" GROUP BY "enterprise", "device"`;
  const res = await fetch(`${influxUrl}/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(q)}`, { method: 'POST' });
  const body = (await res.json()) as { results: { series?: { tags: { enterprise: string; device: string }; values: [number, unknown][] }[] }[] };
  const stored = new Map<string, Set<number>>();
  for (const s of body.results[0]?.series ?? []) stored.set(`hw/v1/${s.tags.enterprise}/${s.tags.device}/telemetry`, new Set(s.values.map((v) => v[0])));
  const missing: { topic: string; ts: number }[] = [];
  for (const ledger of ledgers) {
    for (const [topic, times] of Object.entries(ledger)) for (const ts of times) if (!stored.get(topic)?.has(ts)) missing.push({ topic, ts });
  }
  return missing.sort((a, b) => a.ts - b.ts);
}
