// The deployment, checked without a Docker engine: Debian's docker-compose (installed by .ci/run)
// resolves and validates docker-compose.yml offline; the resolved file is then held against what a
// deployment needs (ports, secrets, healthchecks, volumes, settings every process understands).
// The scripts the containers run (InfluxDB retention guard, health checks, service accounts) run
// here for real.
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { environmentVariables, loadConfig } from '../../core/config.ts';
import { openRegistry } from '../../registry/registry.ts';
import { freePort } from '../../test/support/net.ts';
import { createTestPostgres } from '../../test/support/postgres.ts';
import { ownRedis } from '../../test/support/redis.ts';
import { openRedisCluster } from '../../broker/cluster.ts';
import { pino } from 'pino';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const COMPOSE_BIN = ['/usr/bin/docker-compose', '/usr/local/bin/docker-compose'].find((p) => existsSync(p));
const SECRETS = [
  'INFLUXDB_ADMIN_PASSWORD',
  'INFLUXDB_ADMIN_TOKEN',
  'PLATFORM_INFLUX_PASSWORD',
  'GRAFANA_INFLUX_PASSWORD',
  'MQTT_INGEST_PASSWORD',
  'MQTT_RULES_PASSWORD',
  'MQTT_API_PASSWORD',
  'API_ADMIN_PASSWORD',
  'GRAFANA_ADMIN_PASSWORD',
];
// Set in .env only for the cluster profile: `${X?...}` (unset is an error, empty is not, so that the
// single profile runs with the empty values of .env.example; init-cluster refuses them empty).
const CLUSTER_VARIABLES = ['POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'PARTITION_1_ENTERPRISES', 'PARTITION_2_ENTERPRISES'];
const CLUSTER_FILLED = {
  POSTGRES_PASSWORD: 'postgres-password-0123456789',
  REDIS_PASSWORD: 'redis-password-0123456789',
  PARTITION_1_ENTERPRISES: '["demo-chem","acme"]',
  PARTITION_2_ENTERPRISES: '["zeta"]',
};
// Which services each profile runs (no profile: always); a simulators profile needs its topology's.
const TOPOLOGY = {
  always: ['grafana', 'influxdb'],
  single: ['api', 'broker', 'dashboards', 'ingest', 'init', 'rules'],
  cluster: ['api-1', 'api-2', 'balancer', 'broker-1', 'broker-2', 'dashboards-cluster', 'ingest-1', 'ingest-2', 'init-cluster', 'postgres', 'redis', 'rules-1', 'rules-2'],
  simulators: ['simulators'],
  'cluster-simulators': ['simulators-cluster'],
};
const NEEDS: Record<string, string> = { simulators: 'single', 'cluster-simulators': 'cluster' };
const ONE_SHOT = ['init', 'init-cluster'];
const NOT_HAZWATCH = ['influxdb', 'grafana', 'redis', 'postgres', 'balancer'];
const tmp = mkdtempSync(join(tmpdir(), 'hw-compose-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Service = {
  image?: string;
  command?: string[];
  environment?: Record<string, string>;
  ports?: { published: number | string; target: number }[];
  volumes?: { type: string; source: string; target: string; read_only?: boolean }[];
  healthcheck?: { test: string[] };
  restart?: string;
  profiles?: string[];
  depends_on?: Record<string, { condition: string }>;
  networks?: Record<string, { aliases?: string[] } | null>;
  user?: string;
};
type Resolved = { services: Record<string, Service>; volumes: Record<string, unknown> };

/** docker-compose 1.x prints volumes in the short syntax, Compose v2 in the long one: one shape for both. */
function normalise(r: Resolved): Resolved {
  for (const s of Object.values(r.services)) {
    s.volumes = (s.volumes ?? []).map((v) => {
      if (typeof v !== 'string') return v;
      const [source, target, mode] = (v as string).split(':');
      return { type: source.startsWith('/') || source.startsWith('.') ? 'bind' : 'volume', source, target, read_only: mode === 'ro' };
    });
  }
  return r;
}

function envFile(overrides: Record<string, string> = {}): string {
  let text = readFileSync(join(ROOT, '.env.example'), 'utf8');
  for (const name of SECRETS) text = text.replace(new RegExp(`^${name}=$`, 'm'), `${name}=secret-${name.toLowerCase()}-0123456789`);
  for (const [k, v] of Object.entries(overrides)) text = text.replace(new RegExp(`^${k}=.*$`, 'm'), () => `${k}=${v}`);
  const file = join(tmp, `env-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, text);
  return file;
}

async function compose(env: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    // --project-directory keeps relative bind mounts resolved against the repository.
    const { stdout, stderr } = await run(COMPOSE_BIN!, ['--project-directory', ROOT, '-f', join(ROOT, 'docker-compose.yml'), '--env-file', env, ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: tmp },
    });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: typeof err.code === 'number' ? err.code : 1, stdout: err.stdout, stderr: err.stderr };
  }
}

/** The services a profile set runs. docker-compose 1.29 prints every service whatever the profiles. */
function active(r: Resolved, ...profiles: string[]): Record<string, Service> {
  return Object.fromEntries(Object.entries(r.services).filter(([, s]) => !s.profiles || s.profiles.some((p) => profiles.includes(p))));
}

// Single profile (with the example's empty cluster values), and everything with the cluster filled in.
let resolved: Resolved;
let clustered: Resolved;
let single: Record<string, Service>;
let cluster: Record<string, Service>;

beforeAll(async () => {
  if (!COMPOSE_BIN) {
    throw new Error("docker-compose not found: install Debian's docker-compose package (bash .ci/run installs it); it validates docker-compose.yml offline");
  }
  const [plain, full] = await Promise.all([compose(envFile(), 'config'), compose(envFile({ ...CLUSTER_FILLED, COMPOSE_PROFILES: 'cluster' }), 'config')]);
  expect(plain.code, plain.stderr).toBe(0);
  resolved = normalise(parseYaml(plain.stdout) as Resolved);
  expect(full.code, full.stderr).toBe(0);
  clustered = normalise(parseYaml(full.stdout) as Resolved);
  single = active(resolved, 'single', 'simulators');
  cluster = active(clustered, 'cluster', 'cluster-simulators');
});

describe('docker-compose.yml', () => {
  it('is valid for docker-compose and refuses to start without the secrets of .env', async () => {
    const result = await compose(join(ROOT, '.env.example'), 'config', '-q');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/set [A-Z_]+ in \.env/);
    // Each secret is required wherever it is used (docker-compose stops at the first missing one, as
    // the run above shows; running it once per secret would cost seconds for what the text tells).
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    const example = readFileSync(join(ROOT, '.env.example'), 'utf8');
    for (const secret of SECRETS) {
      const uses = [...text.matchAll(new RegExp(`\\$\\{${secret}(:?[?-][^}]*)?\\}`, 'g'))];
      expect(uses.length, `${secret} is not used`).toBeGreaterThan(0);
      for (const use of uses) expect(use[0], secret).toBe(`\${${secret}:?set ${secret} in .env}`);
      expect(example).toMatch(new RegExp(`^${secret}=$`, 'm'));
    }
    for (const name of CLUSTER_VARIABLES) {
      const uses = [...text.matchAll(new RegExp(`\\$\\{${name}(:?[?-][^}]*)?\\}`, 'g'))];
      expect(uses.length, `${name} is not used`).toBeGreaterThan(0);
      for (const use of uses) expect(use[0], name).toBe(`\${${name}?set ${name} in .env for the cluster profile}`);
      expect(example).toMatch(new RegExp(`^${name}=$`, 'm'));
    }
    expect(example).toMatch(/^COMPOSE_PROFILES=single$/m);
    const one = await compose(envFile({ API_ADMIN_PASSWORD: '' }), 'config', '-q');
    expect(one.code).not.toBe(0);
    expect(one.stderr).toContain('set API_ADMIN_PASSWORD in .env');
    // A .env from before the cluster profile (no cluster variables at all) is refused with the name.
    const old = envFile();
    writeFileSync(old, readFileSync(old, 'utf8').replace(/^POSTGRES_PASSWORD=\n/m, ''));
    const before = await compose(old, 'config', '-q');
    expect(before.code).not.toBe(0);
    expect(before.stderr).toContain('set POSTGRES_PASSWORD in .env for the cluster profile');
  });

  it('runs one of two topologies by profile, the simulators only with theirs', () => {
    const byProfile: Record<string, string[]> = {};
    for (const [name, s] of Object.entries(resolved.services)) {
      expect(s.profiles?.length ?? 1, `${name} is in more than one profile`).toBe(1);
      (byProfile[s.profiles?.[0] ?? 'always'] ??= []).push(name);
    }
    for (const list of Object.values(byProfile)) list.sort();
    expect(byProfile).toEqual(TOPOLOGY);
    // Nothing waits for a service that its profiles do not start (Compose v2 refuses to start then).
    for (const [name, s] of Object.entries(resolved.services)) {
      const mine = s.profiles?.[0];
      for (const dep of Object.keys(s.depends_on ?? {})) {
        const theirs = resolved.services[dep]?.profiles?.[0];
        expect(theirs === undefined || theirs === mine || theirs === NEEDS[mine ?? ''], `${name} (${mine}) depends on ${dep} (${theirs})`).toBe(true);
      }
    }
    expect(single.simulators.command?.[0]).toBe('simulate');
    expect(cluster['simulators-cluster'].command).toEqual(single.simulators.command);
    for (const name of ['broker', 'ingest', 'rules', 'api']) {
      expect(single[name].command?.[0]).toBe(name);
      for (const n of [1, 2]) expect(cluster[`${name}-${n}`].command?.[0]).toBe(name);
    }
    expect(resolved.services.influxdb.image).toMatch(/^influxdb:2\./);
    expect(resolved.services.grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
    expect(cluster.postgres.image).toMatch(/^postgres:\d+$/);
    expect(cluster.redis.image).toMatch(/^redis:\d+\.\d+$/);
    expect(cluster.balancer.image).toMatch(/^haproxy:\d+\.\d+$/);
  });

  it('publishes MQTT, MQTT/TLS, the API and Grafana in single, MQTT and the API through HAProxy in cluster, and nothing else', () => {
    const published = (services: Record<string, Service>) =>
      Object.entries(services)
        .flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name}:${p.target}`))
        .sort();
    expect(published(single)).toEqual(['api:8080', 'broker:1883', 'broker:8883', 'grafana:3000']);
    expect(published(cluster)).toEqual(['balancer:1883', 'balancer:8080', 'grafana:3000']);
    // Every process reaches MQTT by one name, the broker's or HAProxy's.
    expect(single.broker.networks?.default?.aliases).toEqual(['mqtt']);
    expect(cluster.balancer.networks?.default?.aliases).toEqual(['mqtt']);
    for (const s of [single, cluster]) expect(Object.entries(s).filter(([, x]) => x.networks?.default?.aliases?.includes('mqtt')).length).toBe(1);
  });

  it('has a healthcheck on every long-running service, and starts each after what it needs is healthy', () => {
    for (const [name, s] of Object.entries(clustered.services)) {
      if (ONE_SHOT.includes(name)) {
        expect(s.restart, name).toBe('no');
        continue;
      }
      if (!name.startsWith('simulators')) expect(s.healthcheck?.test.length, `${name} has no healthcheck`).toBeGreaterThan(1);
      expect(s.restart, name).toBe('unless-stopped');
    }
    const healthy = (...names: string[]) => Object.fromEntries(names.map((n) => [n, { condition: 'service_healthy' }]));
    const done = (name: string) => ({ [name]: { condition: 'service_completed_successfully' } });
    const s = single;
    expect(s.ingest.depends_on).toEqual(healthy('broker', 'influxdb'));
    expect(s.rules.depends_on).toEqual(healthy('broker', 'influxdb'));
    expect(s.api.depends_on).toEqual(healthy('broker', 'influxdb'));
    expect(s.broker.depends_on).toEqual(done('init'));
    expect(s.dashboards.depends_on).toEqual(done('init'));
    expect(s.grafana.depends_on).toEqual(healthy('influxdb'));
    const c = cluster;
    expect(c['init-cluster'].depends_on).toEqual(healthy('postgres'));
    expect(c['broker-1'].depends_on).toEqual({ ...done('init-cluster'), ...healthy('redis') });
    // One node after the other: the first creates the shared state in Redis.
    expect(c['broker-2'].depends_on).toEqual(healthy('broker-1'));
    expect(c.balancer.depends_on).toEqual(healthy('broker-1', 'broker-2'));
    for (const name of ['ingest-1', 'ingest-2', 'rules-1', 'rules-2', 'api-1', 'api-2']) expect(c[name].depends_on, name).toEqual(healthy('balancer', 'influxdb'));
    expect(c['dashboards-cluster'].depends_on).toEqual(done('init-cluster'));
    expect(s.dashboards.command).toEqual(['dashboards', '--out', '/dashboards', '--limits', 'registry', '--watch', '30']);
    expect(c['dashboards-cluster'].command).toEqual(s.dashboards.command);
    // InfluxDB 2 has no minute/hour retention policies of hazwatch's: the panels read the raw data there.
    for (const d of [s.dashboards, c['dashboards-cluster']]) expect((d.environment as Record<string, string>).HAZWATCH_DASHBOARDS_AGGREGATES).toBe('false');
    // The scenario file the simulators replay is in the image.
    expect(existsSync(join(ROOT, s.simulators.command![2]))).toBe(true);
  });

  it('keeps data in named volumes and mounts configuration read-only', () => {
    expect(Object.keys(resolved.volumes).sort()).toEqual(['grafana-dashboards', 'grafana-data', 'hazwatch-data', 'influxdb-config', 'influxdb-data', 'postgres-data', 'redis-data']);
    for (const [name, s] of Object.entries(clustered.services)) {
      for (const v of s.volumes ?? []) {
        if (v.type === 'bind') {
          expect(v.read_only, `${name}: ${v.source} must be read-only`).toBe(true);
          expect(existsSync(v.source), `${name}: ${v.source}`).toBe(true);
        } else expect(v.type).toBe('volume');
      }
    }
    for (const [name, s] of Object.entries(clustered.services)) {
      if (NOT_HAZWATCH.includes(name)) continue;
      expect(s.volumes?.some((v) => v.source === 'hazwatch-data' && v.target === '/data'), name).toBe(true);
    }
    expect(cluster.postgres.volumes?.map((v) => `${v.source}:${v.target}`)).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(cluster.redis.volumes?.map((v) => `${v.source}:${v.target}`)).toEqual(['redis-data:/data']);
    // Redis keeps what the brokers acknowledged: an append-only file, synced as set in .env.
    expect(cluster.redis.command?.join(' ')).toMatch(/--appendonly yes --appendfsync always --requirepass redis-password-0123456789/);
  });

  it('gives every hazwatch process only settings it understands, with valid values', () => {
    const known = new Set(environmentVariables().map((v) => v.name));
    for (const [name, s] of Object.entries({ ...single, ...cluster })) {
      if (NOT_HAZWATCH.includes(name)) continue;
      const env = s.environment ?? {};
      const settings = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('HAZWATCH_')));
      for (const k of Object.keys(settings)) expect(known, `${name}: ${k} is not a hazwatch setting`).toContain(k);
      // The same validation the process runs at start.
      expect(() => loadConfig({ env: settings }), name).not.toThrow();
      expect(settings.HAZWATCH_MQTT_URL, name).toBe('mqtt://mqtt:1883');
    }
    const ingest = loadConfig({ env: single.ingest.environment });
    expect(ingest.ingest.influx).toMatchObject({ kind: 'v1', url: 'http://influxdb:8086', database: 'hazwatch', createDatabase: false });
    expect(loadConfig({ env: single.api.environment }).api.host).toBe('0.0.0.0');
    for (const name of Object.keys(single)) expect(single[name].environment?.HAZWATCH_DATABASE_URL, name).toBeUndefined();
  });

  it('puts every cluster process on PostgreSQL and the brokers on Redis, each partition on one ingest and one rules process', () => {
    const cfg = (name: string) => loadConfig({ env: cluster[name].environment });
    for (const [name, s] of Object.entries(cluster)) {
      if (NOT_HAZWATCH.includes(name)) continue;
      expect(cfg(name).database.url, name).toBe(`postgres://hazwatch:${CLUSTER_FILLED.POSTGRES_PASSWORD}@postgres:5432/hazwatch`);
      expect(s.environment?.HAZWATCH_DATA_DIR).toBe('/data');
    }
    expect(cluster.postgres.environment).toMatchObject({ POSTGRES_USER: 'hazwatch', POSTGRES_DB: 'hazwatch', POSTGRES_PASSWORD: CLUSTER_FILLED.POSTGRES_PASSWORD });
    for (const n of [1, 2]) {
      const broker = cfg(`broker-${n}`).broker;
      expect(broker.cluster.redis).toBe(`redis://:${CLUSTER_FILLED.REDIS_PASSWORD}@redis:6379`);
      expect(broker.port).toBe(1883);
      const partition = JSON.parse(CLUSTER_FILLED[`PARTITION_${n}_ENTERPRISES` as keyof typeof CLUSTER_FILLED]);
      expect(cfg(`ingest-${n}`).ingest.enterprises).toEqual(partition);
      expect(cfg(`rules-${n}`).rules.enterprises).toEqual(partition);
      expect(cfg(`api-${n}`).api.port).toBe(8080);
    }
    // Own persistent sessions and spools: instance and client ids differ.
    expect(new Set(['ingest-1', 'ingest-2'].map((n) => cfg(n).ingest.instance)).size).toBe(2);
    expect(new Set(['rules-1', 'rules-2'].map((n) => cfg(n).rules.clientId)).size).toBe(2);
    for (const n of [1, 2]) expect(cfg(`rules-${n}`).rules.publish, 'every rules process may publish: they elect one').toBe(true);
  });

  it('refuses the cluster processes a start while the partitions of .env are empty', () => {
    // The example's empty values: ingest and rules stop at their configuration (an empty list would
    // mean every enterprise on each of them).
    for (const name of ['ingest-1', 'ingest-2']) expect(() => loadConfig({ env: resolved.services[name].environment }), name).toThrow(/HAZWATCH_INGEST_ENTERPRISES/);
    for (const name of ['rules-1', 'rules-2']) expect(() => loadConfig({ env: resolved.services[name].environment }), name).toThrow(/HAZWATCH_RULES_ENTERPRISES/);
  });

  it('fills every ${VARIABLE} of the Grafana provisioning and the InfluxDB scripts from the service environment', () => {
    const datasource = readFileSync(join(ROOT, 'deploy/grafana/provisioning/datasources/influxdb.yaml'), 'utf8');
    for (const m of datasource.matchAll(/\$\{(\w+)\}/g)) expect(Object.keys(resolved.services.grafana.environment ?? {})).toContain(m[1]);
    const scripts = ['lib.sh', 'entrypoint.sh', 'init/10-hazwatch.sh'].map((f) => readFileSync(join(ROOT, 'deploy/influxdb', f), 'utf8')).join('\n');
    const influxEnv = Object.keys(resolved.services.influxdb.environment ?? {});
    for (const m of scripts.matchAll(/\$\{?([A-Z][A-Z0-9_]+)/g)) {
      if (['INFLUX_TOKEN', 'INFLUX_ORG', 'INFLUX_HOST', 'HAZWATCH_MIN_RETENTION_S', 'DOCKER_INFLUXDB_INIT_RETENTION'].includes(m[1])) continue;
      expect(influxEnv, `deploy/influxdb uses $${m[1]}`).toContain(m[1]);
    }
    const provider = parseYaml(readFileSync(join(ROOT, 'deploy/grafana/provisioning/dashboards/hazwatch.yaml'), 'utf8')) as { providers: { options: { path: string } }[] };
    const mount = resolved.services.grafana.volumes?.find((v) => v.source === 'grafana-dashboards');
    expect(mount?.target).toBe(provider.providers[0].options.path);
    for (const name of ['dashboards', 'dashboards-cluster']) expect(resolved.services[name].volumes?.find((v) => v.source === 'grafana-dashboards')?.target).toBe('/dashboards');
    expect(resolved.services.grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${provider.providers[0].options.path}/overview.json`);
  });
});

describe('deploy/haproxy/haproxy.cfg', () => {
  const cfgPath = join(ROOT, 'deploy/haproxy/haproxy.cfg');
  const text = readFileSync(cfgPath, 'utf8');
  const servers = (backend: string) => {
    const body = text.split(/^backend /m).find((b) => b.startsWith(`${backend}\n`)) ?? '';
    return [...body.matchAll(/^\s+server (\S+) (\S+)/gm)].map((m) => `${m[1]} ${m[2]}`);
  };

  it('is valid for HAProxy', () => {
    const r = spawnSync('haproxy', ['-c', '-f', cfgPath], { encoding: 'utf8' });
    expect(r.status, r.stderr + r.stdout).toBe(0);
  });

  it('balances to exactly the broker and API services of the cluster profile, on the ports they listen on', () => {
    expect(servers('brokers')).toEqual(['broker-1 broker-1:1883', 'broker-2 broker-2:1883']);
    expect(servers('api')).toEqual(['api-1 api-1:8080', 'api-2 api-2:8080']);
    for (const s of [...servers('brokers'), ...servers('api')]) expect(cluster[s.split(' ')[0]], s).toBeDefined();
    // The frontends listen where the balancer's published ports point, from the mounted directory.
    expect(text).toMatch(/^frontend mqtt\n(\s+.*\n)*?\s+bind :1883$/m);
    expect(text).toMatch(/^frontend api\n(\s+.*\n)*?\s+bind :8080$/m);
    expect(cluster.balancer.volumes?.find((v) => v.target === '/usr/local/etc/haproxy')?.source).toBe(join(ROOT, 'deploy/haproxy'));
    // A node that fails its checks has its sessions cut, so its devices reconnect to the other at once.
    for (const line of text.split('\n').filter((l) => /^\s+server broker-/.test(l))) expect(line).toMatch(/check .*on-marked-down shutdown-sessions/);
  });
});

describe('Dockerfile', () => {
  const text = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  it('builds in two stages, installs production dependencies only, and runs as an unprivileged user', () => {
    expect(text.match(/^FROM /gm)?.length).toBe(2);
    expect(text).toMatch(/RUN npm ci --omit=dev/);
    expect(text).toMatch(/python3 make g\+\+/);
    expect(text).toMatch(/COPY --from=deps \/app\/node_modules/);
    const user = /^USER (\S+)$/m.exec(text)?.[1];
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user);
    // The young-generation size of bin/hazwatch.js's shebang, measured in docs/benchmarks.md.
    expect(text).toMatch(/ENTRYPOINT \["node", "--max-semi-space-size=32", "bin\/hazwatch.js"\]/);
    // tsx runs the sources at run time: it must be a production dependency.
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies.tsx).toBeDefined();
  });

  it('keeps secrets, local data and dependencies out of the build context', () => {
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.env', 'node_modules', 'data', '.git']) expect(ignore).toContain(entry);
  });
});

describe('container scripts', () => {
  const lib = join(ROOT, 'deploy/influxdb/lib.sh');
  const check = (retention: string) => spawnSync('sh', ['-c', `. "${lib}"; hazwatch_check_retention "$1"`, 'sh', retention], { encoding: 'utf8' });

  it('InfluxDB refuses a retention below the 30 days the regulations require', () => {
    for (const ok of ['30d', '90d', '720h', '5w', '2592000s', 'infinite', '0']) expect(check(ok).status, ok).toBe(0);
    for (const bad of ['29d', '719h', '4w', '7d', '1h', 'abc', '30', '']) {
      const r = check(bad);
      expect(r.status, bad).toBe(1);
      expect(r.stderr).toMatch(/INFLUXDB_RETENTION/);
    }
    const r = spawnSync('sh', [join(ROOT, 'deploy/influxdb/entrypoint.sh'), 'influxd'], { encoding: 'utf8', env: { PATH: process.env.PATH, INFLUXDB_RETENTION: '7d' } });
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/shorter than the 30 days/);
    for (const f of ['entrypoint.sh', 'init/10-hazwatch.sh']) accessSync(join(ROOT, 'deploy/influxdb', f), constants.X_OK);
  });

  it('the health check tells a listening port, an established connection and a ready HTTP endpoint apart', async () => {
    // Asynchronously: the servers below live in this process and must keep answering meanwhile.
    const hc = async (...args: string[]) => {
      try {
        await run(process.execPath, [join(ROOT, 'deploy/healthcheck.mjs'), ...args]);
        return 0;
      } catch (e) {
        return (e as { code: number }).code;
      }
    };
    const port = await freePort();
    expect(await hc('listen', String(port))).toBe(1);
    const server = createServer((s) => s.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      expect(await hc('listen', String(port))).toBe(0);
      expect(await hc('connected', String(port))).toBe(1);
      const socket = connect(port, '127.0.0.1');
      await new Promise((resolve) => socket.on('connect', resolve));
      expect(await hc('connected', String(port))).toBe(0);
      socket.destroy();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    let ready = false;
    const http = createHttpServer((_req, res) => res.writeHead(ready ? 200 : 503).end());
    const httpPort = await freePort();
    await new Promise<void>((resolve) => http.listen(httpPort, '127.0.0.1', resolve));
    try {
      expect(await hc('http', `http://127.0.0.1:${httpPort}/readyz`)).toBe(1);
      ready = true;
      expect(await hc('http', `http://127.0.0.1:${httpPort}/readyz`)).toBe(0);
    } finally {
      await new Promise((resolve) => http.close(resolve));
    }
  });

  it('the init service creates the MQTT accounts of ingest, rules and api with the passwords of .env', async () => {
    const dataDir = join(tmp, 'data');
    const env = { PATH: process.env.PATH, HAZWATCH_DATA_DIR: dataDir, MQTT_INGEST_PASSWORD: 'ingest-password-0123456789', MQTT_RULES_PASSWORD: 'rules-password-0123456789', MQTT_API_PASSWORD: 'api-password-0123456789' };
    const provision = () => spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'deploy/provision.ts')], { encoding: 'utf8', cwd: ROOT, env });
    const first = provision();
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/svc:ingest ready[\s\S]*svc:rules ready[\s\S]*svc:api ready/);
    // Again, with a changed password: still fine, and the new one is the one that works.
    env.MQTT_RULES_PASSWORD = 'rules-password-rotated-0123';
    expect(provision().status).toBe(0);
    const registry = await openRegistry(join(dataDir, 'registry.db'));
    try {
      expect(await registry.verify('svc:ingest', 'ingest-password-0123456789')).toBe('ok');
      expect(await registry.verify('svc:rules', 'rules-password-0123456789')).toBe('bad');
      expect(await registry.verify('svc:rules', 'rules-password-rotated-0123')).toBe('ok');
    } finally {
      await registry.close();
    }
    const short = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'deploy/provision.ts')], { encoding: 'utf8', cwd: ROOT, env: { ...env, MQTT_API_PASSWORD: 'short' } });
    expect(short.status).toBe(2);
    expect(short.stderr).toMatch(/MQTT_API_PASSWORD must be set to at least 16 characters/);
  });

  it('init-cluster provisions PostgreSQL and refuses a partition map that leaves an enterprise out or takes one twice', async () => {
    const db = await createTestPostgres('hw_compose');
    try {
      const base = {
        PATH: process.env.PATH,
        HAZWATCH_DATA_DIR: join(tmp, 'cluster-data'),
        HAZWATCH_DATABASE_URL: db.url,
        MQTT_INGEST_PASSWORD: 'ingest-password-0123456789',
        MQTT_RULES_PASSWORD: 'rules-password-0123456789',
        MQTT_API_PASSWORD: 'api-password-0123456789',
        ...CLUSTER_FILLED,
      };
      // Asynchronously: the registry of this process below shares the database.
      const provision = async (env: Record<string, string | undefined>) => {
        try {
          const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'deploy/provision.ts')], { cwd: ROOT, env: { ...base, ...env } });
          return { status: 0, stdout, stderr };
        } catch (e) {
          const err = e as { code: number; stdout: string; stderr: string };
          return { status: err.code, stdout: err.stdout, stderr: err.stderr };
        }
      };
      const first = await provision({});
      expect(first.status, first.stderr).toBe(0);
      expect(first.stdout).toMatch(/svc:ingest ready[\s\S]*partition 1: demo-chem, acme[\s\S]*partition 2: zeta/);
      expect(first.stdout).toContain('not registered yet: acme, demo-chem, zeta');
      const registry = await openRegistry(db.url);
      try {
        expect(await registry.verify('svc:rules', 'rules-password-0123456789')).toBe('ok');
        await registry.addEnterprise('acme', 'ACME Chemicals');
        await registry.addEnterprise('newco', 'New Co');
      } finally {
        await registry.close();
      }
      const left = await provision({});
      expect(left.status).toBe(2);
      expect(left.stderr).toMatch(/registered enterprises in no partition .*: newco;/);
      const ok = await provision({ PARTITION_2_ENTERPRISES: '["zeta","newco"]' });
      expect(ok.status, ok.stderr).toBe(0);
      const twice = await provision({ PARTITION_2_ENTERPRISES: '["zeta","newco","acme"]' });
      expect(twice.status).toBe(2);
      expect(twice.stderr).toContain('enterprise acme is in more than one partition: PARTITION_1_ENTERPRISES, PARTITION_2_ENTERPRISES');
      const empty = await provision({ PARTITION_1_ENTERPRISES: '[]', PARTITION_2_ENTERPRISES: '' });
      expect(empty.status).toBe(2);
      expect(empty.stderr).toMatch(/PARTITION_1_ENTERPRISES must list at least one enterprise/);
      expect(empty.stderr).toMatch(/PARTITION_2_ENTERPRISES must be a JSON array of enterprise ids/);
      const weak = await provision({ PARTITION_2_ENTERPRISES: '["zeta","newco"]', POSTGRES_PASSWORD: 'short', REDIS_PASSWORD: 'has/slash-in-it-0123456789' });
      expect(weak.status).toBe(2);
      expect(weak.stderr).toMatch(/POSTGRES_PASSWORD must be set to at least 16 characters/);
      expect(weak.stderr).toMatch(/REDIS_PASSWORD must be set to at least 16 characters of letters, digits/);
    } finally {
      await db.drop();
    }
  });

  it('the broker nodes reach a Redis that requires the password of .env through their URL', async () => {
    const redis = await ownRedis({ password: CLUSTER_FILLED.REDIS_PASSWORD });
    await redis.start();
    const log = pino({ level: 'silent' });
    try {
      expect(redis.url).toContain(`:${CLUSTER_FILLED.REDIS_PASSWORD}@`);
      const cluster = await openRedisCluster(redis.url, log, { timeoutMs: 5000 });
      await new Promise<void>((resolve) => cluster.mq.close(resolve));
      await cluster.close();
      await expect(openRedisCluster(redis.url.replace(CLUSTER_FILLED.REDIS_PASSWORD, 'wrong-password-0123456789'), log, { timeoutMs: 5000 })).rejects.toThrow(/broker\.cluster\.redis/);
    } finally {
      await redis.remove();
    }
  });
});
