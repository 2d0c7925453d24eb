// Debian's InfluxDB 1.x (`influxd`) run and supervised as a child process: what `hazwatch start` uses
// to store readings with nothing else to set up (ingest.influx.kind `auto`), and the one way tests and
// benchmarks start their own. Loopback only; data, WAL and meta under one directory.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Logger } from './log.ts';

export function findInfluxd(): string | undefined {
  return ['/usr/bin/influxd', '/usr/local/bin/influxd'].find((p) => existsSync(p));
}

/** influxdb.conf for one loopback instance whose files all live under `dir`. */
export function influxdConfig(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
`;
}

export interface Influxd {
  url: string;
  pid(): number | undefined;
  /** Resolves once /ping answers. */
  start(): Promise<void>;
  /** SIGTERM and wait; no restart afterwards. */
  stop(): Promise<void>;
}

export interface InfluxdOptions {
  bin: string;
  dir: string;
  httpPort: number;
  rpcPort: number;
  /** Start it again when it exits by itself (1 s, doubling to 30 s); ingest spools meanwhile. */
  supervise?: boolean;
  log?: Logger;
  startTimeoutMs?: number;
}

export function influxd(options: InfluxdOptions): Influxd {
  mkdirSync(options.dir, { recursive: true });
  const conf = join(options.dir, 'influxdb.conf');
  writeFileSync(conf, influxdConfig(options.dir, options.httpPort, options.rpcPort));
  const url = `http://127.0.0.1:${options.httpPort}`;
  let child: ChildProcess | undefined;
  let stopping = false;
  let delay = 1000;
  let restartTimer: NodeJS.Timeout | undefined;
  const up = async () => (await fetch(`${url}/ping`).catch(() => undefined))?.status === 204;

  function spawnOnce(): { stderr: () => string } {
    let stderr = '';
    const c = spawn(options.bin, ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child = c;
    c.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    c.on('error', (err) => options.log?.error({ err: err.message }, 'influxd could not be started'));
    c.on('exit', (code, signal) => {
      if (child === c) child = undefined;
      if (stopping || !options.supervise) return;
      options.log?.error({ code, signal, restartInMs: delay, stderr: stderr.slice(-500) }, 'influxd exited; starting it again (readings wait in the spool)');
      restartTimer = setTimeout(() => {
        restartTimer = undefined;
        if (stopping) return;
        spawnOnce();
        void waitUp(30_000).then((ok) => {
          if (ok) {
            delay = 1000;
            options.log?.info({ url, pid: child?.pid }, 'influxd is back');
          }
        });
      }, delay);
      delay = Math.min(delay * 2, 30_000);
    });
    return { stderr: () => stderr };
  }

  async function waitUp(ms: number): Promise<boolean> {
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (await up()) return true;
      if (!child) return false;
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  }

  return {
    url,
    pid: () => child?.pid,
    async start() {
      stopping = false;
      const { stderr } = spawnOnce();
      if (!(await waitUp(options.startTimeoutMs ?? 30_000))) throw new Error(`influxd did not start: ${stderr()}`);
    },
    async stop() {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGTERM');
      });
    },
  };
}

/** A free TCP port on loopback, for an influxd of one's own. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
