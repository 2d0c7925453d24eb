// A cluster as the cluster profile of docker-compose.yml runs it, on loopback with real servers: Redis,
// PostgreSQL (registry, alarm store, console accounts), InfluxDB, two `hazwatch broker` nodes on Redis
// behind HAProxy, and for each partition of enterprises one `hazwatch ingest` and one `hazwatch rules`
// (the rules processes elect one publisher among themselves), optionally two `hazwatch api` nodes.
// Every process connects through HAProxy (deploy/haproxy/haproxy.cfg), as devices do; so do operators
// when API nodes run (`apiUrl`). Used by bench:cluster and the fault tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistry, type Credentials, type Registry } from '../../registry/registry.ts';
import { ownInflux, type OwnInflux } from '../../test/support/influxd.ts';
import { freePort, waitFor } from '../../test/support/net.ts';
import { ownPostgres, type OwnPostgres } from '../../test/support/postgres.ts';
import { ownRedis, type OwnRedis } from '../../test/support/redis.ts';
import { startHaproxy, type Haproxy } from './haproxy.ts';
import { READY, startService, type Service } from './procs.ts';

export const CLUSTER_ADMIN_PASSWORD = 'cluster-admin-password-1';

export interface ClusterOptions {
  /** InfluxDB database of the readings and alarm events. */
  db: string;
  /** The enterprises of each ingest and rules pair, e.g. [['a', 'probe'], ['b']]. */
  partitions: string[][];
  /** Devices, gateways and further accounts, written before anything starts. */
  provision(registry: Registry): Promise<void>;
  /** Start two API nodes too. */
  api?: boolean;
  /** Extra node arguments per process name (e.g. --cpu-prof). */
  nodeArgs?: (name: string) => string[];
}

export interface Cluster {
  dir: string;
  redis: OwnRedis;
  postgres: OwnPostgres;
  influx: OwnInflux;
  haproxy: Haproxy;
  /** HAProxy's MQTT port on 127.0.0.1: what devices and services connect to. */
  port: number;
  url: string;
  /** broker-1, broker-2, ingest-1 … ingest-N, rules-1 … rules-N, api-1, api-2: the running processes. */
  services: Map<string, Service>;
  /** Credentials of a service account for watchers (`watch`). */
  watch: Credentials;
  apiUrls: string[];
  /** The API through HAProxy's HTTP frontend (with `api`), as operators reach it. */
  apiUrl?: string;
  /** Starts (again) the process of that name, e.g. after a SIGKILL, as a supervisor would. */
  start(name: string): Promise<Service>;
  /** The pids of every process for watchProcs, the servers included. */
  pids(): Record<string, number>;
  close(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-cluster-'));
  const redis = await ownRedis();
  const postgres = await ownPostgres();
  const influx = await ownInflux();
  const services = new Map<string, Service>();
  let haproxy: Haproxy | undefined;
  const close = async () => {
    for (const s of [...services.values()].reverse()) await s.stop();
    haproxy?.stop();
    await influx.remove();
    await postgres.remove();
    await redis.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all([redis.start(), postgres.start(), influx.start()]);
    const registry = await openRegistry(postgres.url);
    await opts.provision(registry);
    const accounts = { ingest: await registry.setService('ingest'), rules: await registry.setService('rules'), api: await registry.setService('api'), watch: await registry.setService('watch') };
    await registry.close();

    const brokerPorts = [await freePort(), await freePort()];
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const apiPorts = [await freePort(), await freePort()];
    const apiFront = await freePort();
    const common = {
      HAZWATCH_DATABASE_URL: postgres.url,
      HAZWATCH_LOG_LEVEL: 'info',
      HAZWATCH_MQTT_URL: url,
      HAZWATCH_INGEST_INFLUX_KIND: 'v1',
      HAZWATCH_INGEST_INFLUX_URL: influx.url,
      HAZWATCH_INGEST_INFLUX_DATABASE: opts.db,
      HAZWATCH_INGEST_INFLUX_CREATE_DATABASE: 'true',
    };
    const starters = new Map<string, () => Promise<Service>>();
    const spawnAs = (name: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp) => () =>
      startService(name, args, { env: { ...common, HAZWATCH_DATA_DIR: join(dir, name), ...env }, ready, nodeArgs: opts.nodeArgs?.(name) });
    brokerPorts.forEach((p, i) =>
      starters.set(
        `broker-${i + 1}`,
        spawnAs(`broker-${i + 1}`, ['broker', '--port', String(p), '--ws-port', 'false', '--tls-port', 'false'], {
          HAZWATCH_BROKER_CLUSTER_REDIS: redis.url,
          HAZWATCH_BROKER_PUBLISH_RATE_PER_SECOND: '0',
          HAZWATCH_BROKER_GATEWAY_PUBLISH_RATE_PER_SECOND: '0',
        }, READY.broker),
      ),
    );
    opts.partitions.forEach((enterprises, i) => {
      const n = i + 1;
      const list = JSON.stringify(enterprises);
      starters.set(
        `ingest-${n}`,
        spawnAs(`ingest-${n}`, ['ingest'], { HAZWATCH_INGEST_ENTERPRISES: list, HAZWATCH_INGEST_INSTANCE: `ingest-${n}`, HAZWATCH_MQTT_USERNAME: accounts.ingest.username, HAZWATCH_MQTT_PASSWORD: accounts.ingest.password }, READY.ingest),
      );
      starters.set(
        `rules-${n}`,
        spawnAs(`rules-${n}`, ['rules'], {
          HAZWATCH_RULES_ENTERPRISES: list,
          HAZWATCH_RULES_CLIENT_ID: `${accounts.rules.clientId}:rules-${n}`,
          HAZWATCH_RULES_ELECTION_MS: '500',
          HAZWATCH_MQTT_USERNAME: accounts.rules.username,
          HAZWATCH_MQTT_PASSWORD: accounts.rules.password,
        }, READY.rules),
      );
    });
    if (opts.api)
      apiPorts.forEach((p, i) =>
        starters.set(
          `api-${i + 1}`,
          spawnAs(`api-${i + 1}`, ['api'], {
            HAZWATCH_API_HOST: '127.0.0.1',
            HAZWATCH_API_PORT: String(p),
            HAZWATCH_API_ADMIN_PASSWORD: CLUSTER_ADMIN_PASSWORD,
            HAZWATCH_API_LOGIN_RATE_LIMIT: '1000',
            HAZWATCH_API_INFLUX_URL: influx.url,
            HAZWATCH_API_INFLUX_DATABASE: opts.db,
            HAZWATCH_MQTT_USERNAME: accounts.api.username,
            HAZWATCH_MQTT_PASSWORD: accounts.api.password,
          }, READY.api),
        ),
      );
    const start = async (name: string) => {
      const starter = starters.get(name);
      if (!starter) throw new Error(`no process ${name} in this cluster`);
      const s = await starter();
      services.set(name, s);
      return s;
    };
    // The brokers one after the other (the first creates the shared state), then HAProxy in front.
    for (const name of ['broker-1', 'broker-2']) await start(name);
    haproxy = await startHaproxy(dir, port, brokerPorts, opts.api ? { port: apiFront, nodes: apiPorts } : undefined);
    for (const name of starters.keys()) if (!services.has(name)) await start(name);
    // HAProxy takes an API node in after two passing health checks.
    if (opts.api) await waitFor(async () => (await fetch(`http://127.0.0.1:${apiFront}/readyz`).catch(() => undefined))?.status === 200, 30_000, 250);
    const h = haproxy;
    return {
      dir,
      redis,
      postgres,
      influx,
      haproxy: h,
      port,
      url,
      services,
      watch: accounts.watch,
      apiUrls: opts.api ? apiPorts.map((p) => `http://127.0.0.1:${p}`) : [],
      apiUrl: opts.api ? `http://127.0.0.1:${apiFront}` : undefined,
      start,
      pids() {
        const out: Record<string, number> = {};
        for (const [name, s] of services) out[name] = s.pid;
        out.haproxy = h.pid;
        out.redis = redis.pid()!;
        out.postgres = postgres.pid()!;
        out.influxd = influx.pid()!;
        return out;
      },
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}
