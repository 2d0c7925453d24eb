// An InfluxDB 1.x of the test's own (same approach as test/global-setup.ts) that the test may stop
// and start again on the same port and data directory: the database outage of the outage tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from '../../test/support/net.ts';

export interface OwnInflux {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
}

export async function ownInflux(options: { port?: number } = {}): Promise<OwnInflux> {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-ingest-influx-'));
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
    async start() {
      let stderr = '';
      child = spawn('/usr/bin/influxd', ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
      await waitFor(up, 30_000).catch(() => {
        throw new Error(`influxd did not start: ${stderr}`);
      });
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
    async remove() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}

export async function v1Count(url: string, db: string, q: string): Promise<number[]> {
  const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { results: { series?: { values: unknown[][] }[]; error?: string }[] };
  if (body.results[0].error) throw new Error(body.results[0].error);
  const row = body.results[0].series?.[0]?.values[0];
  return row ? (row.slice(1) as number[]) : [];
}
