// Starts the real servers the integration tests use, unless they are already given:
// InfluxDB 1.x (Debian's influxd) on a free loopback port with its data in a temporary directory.
// HAZWATCH_TEST_INFLUX_URL points the tests at a server that is already running instead.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './support/net.ts';

let influxd: ChildProcess | undefined;
let dir: string | undefined;

function findInfluxd(): string | undefined {
  return ['/usr/bin/influxd', '/usr/local/bin/influxd'].find((p) => existsSync(p));
}

export async function setup(): Promise<void> {
  if (process.env.HAZWATCH_TEST_INFLUX_URL) return;
  const bin = findInfluxd();
  if (!bin) throw new Error('influxd not found: install Debian\'s influxdb package (bash .ci/run does) or set HAZWATCH_TEST_INFLUX_URL');
  dir = mkdtempSync(join(tmpdir(), 'hazwatch-influx-'));
  const port = await freePort();
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
  influxd = spawn(bin, ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  influxd.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${url}/ping`).catch(() => undefined))?.status === 204, 30_000).catch(() => {
    throw new Error(`influxd did not start: ${stderr}`);
  });
  process.env.HAZWATCH_TEST_INFLUX_URL = url;
}

export async function teardown(): Promise<void> {
  influxd?.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
}
