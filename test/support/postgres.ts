// A PostgreSQL of one's own (Debian's postgresql package): a cluster in a temporary directory on a
// free loopback port, trust authentication, started and stopped on the same data for the outage tests.
// The server refuses to run as root, so as root it runs as the `postgres` system user.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './net.ts';
import { childServer } from './server.ts';

export interface OwnPostgres {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  pid(): number | undefined;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): connections are terminated, as in a restart. */
  stop(): Promise<void>;
  remove(): Promise<void>;
}

export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'postgres'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : undefined;
}

function systemUser(name: string): { uid: number; gid: number } | undefined {
  try {
    return { uid: Number(execFileSync('id', ['-u', name]).toString().trim()), gid: Number(execFileSync('id', ['-g', name]).toString().trim()) };
  } catch {
    return undefined;
  }
}

/** Configured (initdb done), not started: call start(). */
export async function ownPostgres(options: { port?: number } = {}): Promise<OwnPostgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error("PostgreSQL not found: install Debian's postgresql package (bash .ci/run does) or set HAZWATCH_TEST_POSTGRES_URL");
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-pg-'));
  const user = process.getuid?.() === 0 ? systemUser('postgres') : undefined;
  if (process.getuid?.() === 0 && !user) throw new Error('running as root and there is no postgres system user to run PostgreSQL as');
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  execFileSync(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C'], { stdio: 'pipe', ...(user ?? {}) });
  const port = options.port ?? (await freePort());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;

  async function ready(): Promise<boolean> {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  const server = childServer({
    name: 'postgres',
    command: join(bin, 'postgres'),
    args: ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off', '-c', 'max_connections=200'],
    spawn: user ?? {},
    ready,
    // Fast shutdown: connections are terminated, as in a restart.
    stopSignal: 'SIGINT',
  });
  const self: OwnPostgres = {
    url,
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

export function postgresUrl(): string {
  const url = process.env.HAZWATCH_TEST_POSTGRES_URL;
  if (!url) throw new Error('HAZWATCH_TEST_POSTGRES_URL is not set: run the tests with vitest (global setup starts PostgreSQL)');
  return url;
}

/** A new, empty database on the test server; its URL and a function that drops it. */
export async function createTestPostgres(prefix = 'hw_test'): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = postgresUrl();
  await postgresExec(admin, `create database ${name}`);
  const url = new URL(admin);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => postgresExec(admin, `drop database if exists ${name} with (force)`) };
}

/** Runs SQL on its own connection, straight on the server (no store in between). */
export async function postgresExec(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
