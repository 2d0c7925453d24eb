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
const HAZWATCH_SERVICES = ['init', 'dashboards', 'broker', 'ingest', 'rules', 'api', 'simulators'];
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
  for (const [k, v] of Object.entries(overrides)) text = text.replace(new RegExp(`^${k}=.*$`, 'm'), `${k}=${v}`);
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

let resolved: Resolved;
let withSimulators: Resolved;

beforeAll(async () => {
  if (!COMPOSE_BIN) {
    throw new Error("docker-compose not found: install Debian's docker-compose package (bash .ci/run installs it); it validates docker-compose.yml offline");
  }
  const env = envFile();
  const [plain, sim] = await Promise.all([compose(env, 'config'), compose(env, '--profile', 'simulators', 'config')]);
  expect(plain.code, plain.stderr).toBe(0);
  resolved = normalise(parseYaml(plain.stdout) as Resolved);
  expect(sim.code, sim.stderr).toBe(0);
  withSimulators = normalise(parseYaml(sim.stdout) as Resolved);
});

describe('docker-compose.yml', () => {
  it('is valid for docker-compose and refuses to start without the secrets of .env', async () => {
    const result = await compose(join(ROOT, '.env.example'), 'config', '-q');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/set [A-Z_]+ in \.env/);
    // Each secret is required wherever it is used (docker-compose stops at the first missing one, as
    // the run above shows; running it once per secret would cost seconds for what the text tells).
    const text = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
    for (const secret of SECRETS) {
      const uses = [...text.matchAll(new RegExp(`\\$\\{${secret}(:[^}]*)?\\}`, 'g'))];
      expect(uses.length, `${secret} is not used`).toBeGreaterThan(0);
      for (const use of uses) expect(use[0], secret).toBe(`\${${secret}:?set ${secret} in .env}`);
      expect(readFileSync(join(ROOT, '.env.example'), 'utf8')).toMatch(new RegExp(`^${secret}=$`, 'm'));
    }
    const one = await compose(envFile({ API_ADMIN_PASSWORD: '' }), 'config', '-q');
    expect(one.code).not.toBe(0);
    expect(one.stderr).toContain('set API_ADMIN_PASSWORD in .env');
  });

  it('runs the whole platform, and the simulators only under their profile', () => {
    expect(Object.keys(withSimulators.services).sort()).toEqual(['api', 'broker', 'dashboards', 'grafana', 'influxdb', 'ingest', 'init', 'rules', 'simulators']);
    for (const [name, s] of Object.entries(withSimulators.services)) expect(s.profiles, name).toEqual(name === 'simulators' ? ['simulators'] : undefined);
    expect(withSimulators.services.simulators.command?.[0]).toBe('simulate');
    for (const name of ['broker', 'ingest', 'rules', 'api']) expect(resolved.services[name].command?.[0]).toBe(name);
    expect(resolved.services.influxdb.image).toMatch(/^influxdb:2\./);
    expect(resolved.services.grafana.image).toMatch(/^grafana\/grafana:\d+\.\d+\.\d+$/);
  });

  it('publishes MQTT, MQTT/TLS, the API and Grafana, and nothing else', () => {
    const published = Object.entries(resolved.services).flatMap(([name, s]) => (s.ports ?? []).map((p) => `${name}:${p.target}`));
    expect(published.sort()).toEqual(['api:8080', 'broker:1883', 'broker:8883', 'grafana:3000']);
  });

  it('has a healthcheck on every long-running service, and starts each after what it needs is healthy', () => {
    const oneShot = ['init'];
    for (const [name, s] of Object.entries(withSimulators.services)) {
      if (oneShot.includes(name)) {
        expect(s.restart, name).toBe('no');
        continue;
      }
      if (name !== 'simulators') expect(s.healthcheck?.test.length, `${name} has no healthcheck`).toBeGreaterThan(1);
      expect(s.restart, name).toBe('unless-stopped');
    }
    const s = resolved.services;
    expect(s.ingest.depends_on).toEqual({ broker: { condition: 'service_healthy' }, influxdb: { condition: 'service_healthy' } });
    expect(s.rules.depends_on).toEqual({ broker: { condition: 'service_healthy' }, influxdb: { condition: 'service_healthy' } });
    expect(s.broker.depends_on).toEqual({ init: { condition: 'service_completed_successfully' } });
    expect(s.grafana.depends_on?.dashboards).toEqual({ condition: 'service_healthy' });
    expect(s.dashboards.command).toEqual(['dashboards', '--out', '/dashboards', '--limits', 'registry', '--watch', '30']);
    // The scenario file the simulators replay is in the image.
    expect(existsSync(join(ROOT, withSimulators.services.simulators.command![2]))).toBe(true);
  });

  it('keeps data in named volumes and mounts configuration read-only', () => {
    expect(Object.keys(resolved.volumes).sort()).toEqual(['grafana-dashboards', 'grafana-data', 'hazwatch-data', 'influxdb-config', 'influxdb-data']);
    for (const [name, s] of Object.entries(resolved.services)) {
      for (const v of s.volumes ?? []) {
        if (v.type === 'bind') {
          expect(v.read_only, `${name}: ${v.source} must be read-only`).toBe(true);
          expect(existsSync(v.source), `${name}: ${v.source}`).toBe(true);
        } else expect(v.type).toBe('volume');
      }
    }
    for (const name of ['broker', 'ingest', 'rules', 'api', 'init', 'dashboards']) {
      expect(resolved.services[name].volumes?.some((v) => v.source === 'hazwatch-data' && v.target === '/data'), name).toBe(true);
    }
  });

  it('gives every hazwatch process only settings it understands, with valid values', () => {
    const known = new Set(environmentVariables().map((v) => v.name));
    for (const name of HAZWATCH_SERVICES) {
      const s = withSimulators.services[name];
      const env = s.environment ?? {};
      const settings = Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith('HAZWATCH_')));
      for (const k of Object.keys(settings)) expect(known, `${name}: ${k} is not a hazwatch setting`).toContain(k);
      // The same validation the process runs at start.
      expect(() => loadConfig({ env: settings }), name).not.toThrow();
    }
    const ingest = loadConfig({ env: resolved.services.ingest.environment });
    expect(ingest.ingest.influx).toMatchObject({ kind: 'v1', url: 'http://influxdb:8086', database: 'hazwatch', createDatabase: false });
    expect(loadConfig({ env: resolved.services.api.environment }).api.host).toBe('0.0.0.0');
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
    expect(resolved.services.dashboards.volumes?.find((v) => v.source === 'grafana-dashboards')?.target).toBe('/dashboards');
    expect(resolved.services.grafana.environment?.GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH).toBe(`${provider.providers[0].options.path}/overview.json`);
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
    expect(text).toMatch(/ENTRYPOINT \["node", "bin\/hazwatch.js"\]/);
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
});
