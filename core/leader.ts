// One leader among the processes that share a store, for work that must run exactly once however many
// nodes run (the alarm outbox, notifications, expiry of shelving). The lock is held by the operating
// system or the database for as long as the holder's process (or connection) lives, so a leader that is
// killed is replaced within one retry period without any lease to expire, and a paused one cannot come
// back as a second leader: it learns it lost the lock from the same connection that held it.
//   PostgreSQL: a session advisory lock (pg_try_advisory_lock) on a connection of its own, checked
//   every `checkMs`; the server releases it when the connection ends.
//   SQLite (one machine): an exclusive transaction held open on a lock file beside the store; the
//   operating system releases the file lock when the process ends.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import pg from 'pg';
import type { Logger } from './log.ts';
import { describeTarget, isPostgresUrl, lockKey } from './sql.ts';

export interface LeaderOptions {
  /** Called when this process becomes the leader; the leadership is not reported until it resolves. */
  onElected(): Promise<void> | void;
  /** Called when the lock is lost (connection to PostgreSQL lost) or on close while leading. */
  onDeposed(): Promise<void> | void;
  log?: Logger;
  /** How often a candidate tries again, and how often the leader checks its connection (default 2 s). */
  retryMs?: number;
}

export interface Leadership {
  /** True from the end of onElected until the start of onDeposed. */
  readonly leader: boolean;
  /** Resolves once the first attempt is decided (elected or not). */
  readonly decided: Promise<void>;
  close(): Promise<void>;
}

interface Lock {
  /** True when the lock is now held. */
  tryAcquire(): Promise<boolean>;
  /** False once the lock can no longer be trusted to be held. */
  stillHeld(): Promise<boolean>;
  release(): Promise<void>;
}

/**
 * Competes for the role `role` among every process that uses `target` (a SQLite path or a postgres://
 * URL), for as long as it runs.
 */
export function electLeader(target: string, role: string, options: LeaderOptions): Leadership {
  const retryMs = options.retryMs ?? 2000;
  const lock = isPostgresUrl(target) ? postgresLock(target, role, options.log) : sqliteLock(target, role);
  let leader = false;
  let closed = false;
  let failing = false;
  let timer: NodeJS.Timeout | undefined;
  let transitions = Promise.resolve();
  let resolveDecided!: () => void;
  const decided = new Promise<void>((r) => (resolveDecided = r));

  const step = async () => {
    if (closed) return;
    try {
      if (!leader) {
        if (await lock.tryAcquire()) {
          await options.onElected();
          leader = true;
          options.log?.info({ role, store: describeTarget(target) }, `this process is the ${role} now`);
        }
      } else if (!(await lock.stillHeld())) {
        leader = false;
        options.log?.warn({ role, store: describeTarget(target) }, `lost the ${role} role (its lock connection ended); standing down and competing again`);
        await options.onDeposed();
        await lock.release();
      }
      if (failing) options.log?.info({ role }, `${role} election works again`);
      failing = false;
    } catch (err) {
      // Once per outage, not every retry period.
      if (!failing) options.log?.warn({ err: (err as Error).message, role, store: describeTarget(target) }, `${role} election failed; trying again every ${retryMs} ms`);
      failing = true;
      if (leader) {
        leader = false;
        await Promise.resolve(options.onDeposed()).catch(() => undefined);
      }
      await lock.release().catch(() => undefined);
    }
    resolveDecided();
  };
  const schedule = () => {
    if (closed) return;
    timer = setTimeout(() => {
      transitions = transitions.then(step).finally(schedule);
    }, retryMs);
    timer.unref();
  };
  transitions = transitions.then(step).finally(schedule);

  return {
    get leader() {
      return leader;
    },
    decided,
    async close() {
      closed = true;
      clearTimeout(timer);
      await transitions;
      if (leader) {
        leader = false;
        await options.onDeposed();
      }
      await lock.release();
    },
  };
}

function postgresLock(url: string, role: string, log?: Logger): Lock {
  const key = lockKey(`leader:${role}`);
  let client: pg.Client | undefined;
  let broken = false;
  const drop = async () => {
    const c = client;
    client = undefined;
    broken = false;
    // Ending the session is what releases the advisory lock.
    await c?.end().catch(() => undefined);
  };
  return {
    async tryAcquire() {
      if (!client) {
        const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, keepAlive: true, application_name: `hazwatch-leader-${role}` });
        // A lost connection emits here; without a listener it would end the process.
        c.on('error', (err) => {
          broken = true;
          log?.debug({ err: err.message, role }, 'leader lock connection error');
        });
        c.on('end', () => (broken = true));
        client = c;
        try {
          await c.connect();
        } catch (err) {
          await drop();
          throw err;
        }
      }
      const { rows } = await client.query<{ held: boolean }>('select pg_try_advisory_lock($1) as held', [key]);
      return rows[0]?.held === true;
    },
    async stillHeld() {
      if (!client || broken) return false;
      try {
        // The lock is the session's: if this answers, the session (and so the lock) is still there.
        await client.query({ text: 'select 1', query_timeout: 5000 } as pg.QueryConfig);
        return !broken;
      } catch {
        return false;
      }
    },
    release: drop,
  };
}

function sqliteLock(path: string, role: string): Lock {
  const file = path === ':memory:' ? undefined : `${path}.${role}.lock`;
  let db: Database.Database | undefined;
  return {
    async tryAcquire() {
      // An in-memory store lives in one process only: that process leads.
      if (!file) return true;
      if (!db) {
        mkdirSync(dirname(file), { recursive: true });
        db = new Database(file);
        db.pragma('busy_timeout = 0');
      }
      try {
        db.exec('BEGIN EXCLUSIVE');
        return true;
      } catch (err) {
        if ((err as { code?: string }).code === 'SQLITE_BUSY') return false;
        throw err;
      }
    },
    async stillHeld() {
      return !file || db?.inTransaction === true;
    },
    async release() {
      db?.close();
      db = undefined;
    },
  };
}
