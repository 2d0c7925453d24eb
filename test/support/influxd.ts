// An InfluxDB 1.x of one's own (Debian's influxd): own temporary directory, free loopback ports, its
// pid for the benchmarks' CPU and memory figures, and stop/start on the same port and data for the
// outage tests. The one way tests, fault tests, benchmarks and the global setup start influxd.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './net.ts';

export interface OwnInflux {
  url: string;
  port: number;
  pid(): number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
  query(db: string, q: string): Promise<unknown[][]>;
  /** count(field) over a query's WHERE clause; 0 when nothing matched. */
  count(db: string, from: string, where?: string, field?: string): Promise<number>;
}

export function findInfluxd(): string | undefined {
  return ['/usr/bin/influxd', '/usr/local/bin/influxd'].find((p) => existsSync(p));
}

/** Configured, not started: call start(). */
export async function ownInflux(options: { port?: number } = {}): Promise<OwnInflux> {
  const bin = findInfluxd();
  if (!bin) throw new Error("influxd not found: install Debian's influxdb package (bash .ci/run does) or set HAZWATCH_TEST_INFLUX_URL");
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-influx-'));
  const port = options.port ?? (await freePort());
  const rpc = await freePort();
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    `reporting-disabled = true
bind-address = "127.0.0.1:${rpc}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${port}"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
`,
  );
  const url = `http://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;
  const up = async () => (await fetch(`${url}/ping`).catch(() => undefined))?.status === 204;
  const self: OwnInflux = {
    url,
    port,
    pid: () => child?.pid,
    async start() {
      let stderr = '';
      child = spawn(bin, ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
      await waitFor(up, 30_000).catch(() => {
        throw new Error(`influxd did not start: ${stderr}`);
      });
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
    async remove() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async query(db, q) {
      const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(q)}`, { method: 'POST' });
      const body = (await res.json()) as { results: { series?: { values: unknown[][] }[]; error?: string }[]; error?: string };
      if (body.error) throw new Error(body.error);
      if (body.results[0]?.error) throw new Error(body.results[0].error);
      return body.results[0]?.series?.[0]?.values ?? [];
    },
    async count(db, from, where, field = 'lel') {
      const rows = await self.query(db, `SELECT count("${field}") FROM ${from}${where ? ` WHERE ${where}` : ''}`).catch(() => []);
      return Number(rows[0]?.[1] ?? 0);
    },
  };
  return self;
}

/** The values of the first row of an InfluxQL query (e.g. count(...)), without its time. */
export async function v1Count(url: string, db: string, q: string): Promise<number[]> {
  const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { results: { series?: { values: unknown[][] }[]; error?: string }[] };
  if (body.results[0].error) throw new Error(body.results[0].error);
  const row = body.results[0].series?.[0]?.values[0];
  return row ? (row.slice(1) as number[]) : [];
}
