// A Redis of one's own (Debian's redis-server): a free loopback port, its files in a temporary
// directory, nothing saved to disk; stop/start on the same port for the outage tests.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';
import { childServer } from './server.ts';

export interface OwnRedis {
  url: string;
  port: number;
  pid(): number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
}

export function findRedisServer(): string | undefined {
  return ['/usr/bin/redis-server', '/usr/local/bin/redis-server'].find((p) => existsSync(p));
}

/**
 * True once the Redis on `port` answers and is the process `pid`: another test's Redis that took the
 * port first (freePort is only free when asked) also answers PING, and sharing it would be a flake.
 */
function answersAs(port: number, pid: number | undefined, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    let answer = '';
    socket.once('error', () => resolve(false));
    // A connection closed without an answer is not ready either (else start() would wait past its timeout).
    socket.once('close', () => resolve(false));
    socket.once('connect', () => socket.write(`${password ? `AUTH ${password}\r\n` : ''}INFO server\r\n`));
    socket.on('data', (d) => {
      answer += d.toString();
      const id = /process_id:(\d+)/.exec(answer);
      if (!id && !answer.includes('-ERR') && !answer.includes('-NOAUTH')) return;
      socket.destroy();
      resolve(id !== null && Number(id[1]) === pid);
    });
  });
}

/** Configured, not started: call start(). With `password`, clients must AUTH (`requirepass`). */
export async function ownRedis(options: { password?: string } = {}): Promise<OwnRedis> {
  const bin = findRedisServer();
  if (!bin) throw new Error("redis-server not found: install Debian's redis-server package (bash .ci/run does)");
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-redis-'));
  const port = await freePort();
  const server = childServer({
    name: 'redis-server',
    command: bin,
    args: ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no', ...(options.password ? ['--requirepass', options.password] : [])],
    ready: () => answersAs(port, server.pid(), options.password),
  });
  const self: OwnRedis = {
    url: options.password ? `redis://:${options.password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    port,
    pid: server.pid,
    start: server.start,
    stop: server.stop,
    async remove() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return self;
}
