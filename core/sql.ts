// One relational database for the stores that several processes share (registry, alarm store, API
// accounts): the embedded SQLite file of `npm start`, or PostgreSQL for several nodes, chosen by the
// target (a path, or a postgres:// URL). The stores write their SQL once, in the subset both engines
// speak; this module hides the rest: placeholders, integer types, the single-writer transaction, and
// PostgreSQL's restarts (retried, so an outage delays a change rather than losing it).
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import pg from 'pg';
import type { Logger } from './log.ts';

export type Dialect = 'sqlite' | 'postgres';

/** `?` placeholders with an array, or `@name` placeholders with an object. */
export type Params = readonly unknown[] | Record<string, unknown>;

export interface Sql {
  all<T>(text: string, params?: Params): Promise<T[]>;
  get<T>(text: string, params?: Params): Promise<T | undefined>;
  /** Rows changed. */
  run(text: string, params?: Params): Promise<number>;
}

export interface SqlDatabase extends Sql {
  dialect: Dialect;
  /** Where it lives, without a password: for logs and `hazwatch status`. */
  where: string;
  /**
   * One writer at a time across every process of the deployment, in one transaction: SQLite's
   * BEGIN IMMEDIATE, a transaction-scoped advisory lock on PostgreSQL. Changes therefore commit in the
   * order of their ids, which is what lets an append-only history serve as an outbox.
   */
  write<R>(fn: (sql: Sql) => Promise<R>): Promise<R>;
  /** Creates what is missing, under the write lock so that processes starting together do not race. */
  migrate(schema: Schema): Promise<void>;
  close(): Promise<void>;
}

export interface Schema {
  /** DDL in the common subset; `{serial}` stands for an auto-numbered primary key. */
  tables: string;
  /** Columns added after a database may have been created: [table, column, definition]. */
  addedColumns?: [string, string, string][];
  /** DDL that needs the added columns (their indexes), run after them. */
  afterColumns?: string;
  /** Tables whose rows can be added but never changed or deleted, with what they are (for the error). */
  appendOnly?: { table: string; what: string }[];
}

export interface OpenOptions {
  /** Names the single-writer lock, one per store sharing a PostgreSQL database. */
  lock: string;
  log?: Logger;
  /** How long a statement is retried while PostgreSQL is unreachable (default 60 s). */
  retryForMs?: number;
  /** SQLite busy timeout (default 10 s). */
  busyTimeoutMs?: number;
  /** The store's schema: created or migrated before the database is handed out. */
  schema?: Schema;
}

export function isPostgresUrl(target: string): boolean {
  return /^postgres(ql)?:\/\//.test(target);
}

/** A URL (or a file path) as logs may show it: any password masked. */
export function describeTarget(target: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) return target;
  try {
    const url = new URL(target);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return `${target.split(':')[0]}://(unparsable url)`;
  }
}

type Compiled = { text: string; names: string[] | null };

/** `@name` → `$n` (PostgreSQL) or `?` (SQLite); `?` → `$n` on PostgreSQL. */
function compiler(dialect: Dialect) {
  const cache = new Map<string, Compiled>();
  return (text: string, params: Params | undefined): { text: string; values: unknown[] } => {
    const named = params !== undefined && !Array.isArray(params);
    const key = (named ? 'n:' : 'p:') + text;
    let c = cache.get(key);
    if (!c) {
      if (named) {
        const names: string[] = [];
        const out = text.replace(/@([A-Za-z_]\w*)/g, (_, name: string) => {
          if (dialect === 'sqlite') {
            names.push(name);
            return '?';
          }
          let i = names.indexOf(name);
          if (i < 0) i = names.push(name) - 1;
          return `$${i + 1}`;
        });
        c = { text: out, names };
      } else {
        let n = 0;
        c = { text: dialect === 'postgres' ? text.replace(/\?/g, () => `$${++n}`) : text, names: null };
      }
      cache.set(key, c);
    }
    const values = c.names ? c.names.map((n) => bind((params as Record<string, unknown>)[n])) : ((params as unknown[] | undefined) ?? []).map(bind);
    return { text: c.text, values };
  };
}

function bind(v: unknown): unknown {
  if (v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return v;
}

export async function openDatabase(target: string, options: OpenOptions): Promise<SqlDatabase> {
  const db = isPostgresUrl(target) ? await openPostgres(target, options) : openSqlite(target, options);
  if (!options.schema) return db;
  try {
    await db.migrate(options.schema);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}

function expand(schema: Schema, dialect: Dialect): string {
  const serial = dialect === 'sqlite' ? 'integer primary key autoincrement' : 'bigint generated by default as identity primary key';
  const triggers = (schema.appendOnly ?? []).map(({ table, what }) =>
    dialect === 'sqlite'
      ? `create trigger if not exists ${table}_no_update before update on ${table} begin select raise(abort, '${what} is append-only'); end;
create trigger if not exists ${table}_no_delete before delete on ${table} begin select raise(abort, '${what} is append-only'); end;`
      : `create or replace function hazwatch_${table}_append_only() returns trigger language plpgsql as $$
begin raise exception '${what} is append-only'; end $$;
create or replace trigger ${table}_append_only before update or delete on ${table} for each row execute function hazwatch_${table}_append_only();`,
  );
  return [schema.tables.replaceAll('{serial}', serial), ...triggers].join('\n');
}

const fileLocks = new Map<string, { queue: Promise<unknown> }>();

/** The write queue of one SQLite file, shared by every connection this process opens on it. */
function fileLock(path: string): { queue: Promise<unknown> } {
  if (path === ':memory:') return { queue: Promise.resolve() };
  const key = resolve(path);
  let lock = fileLocks.get(key);
  if (!lock) fileLocks.set(key, (lock = { queue: Promise.resolve() }));
  return lock;
}

function openSqlite(path: string, options: OpenOptions): SqlDatabase {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 10_000}`);
  db.pragma('foreign_keys = ON');
  const compile = compiler('sqlite');
  const statements = new Map<string, Database.Statement>();
  const prepare = (text: string) => {
    let s = statements.get(text);
    if (!s) statements.set(text, (s = db.prepare(text)));
    return s;
  };
  // better-sqlite3 is synchronous, but the stores' transactions are async functions: a queue keeps a
  // second caller out of a transaction that is open. The queue is the file's, not the connection's: a
  // second connection of this process (rules and API in `hazwatch start`) waiting synchronously on
  // the file lock would stop the very event loop that is to release it.
  const lock = fileLock(path);
  let inWrite = false;
  const direct: Sql = {
    async all<T>(text: string, params?: Params) {
      const c = compile(text, params);
      return prepare(c.text).all(...c.values) as T[];
    },
    async get<T>(text: string, params?: Params) {
      const c = compile(text, params);
      return prepare(c.text).get(...c.values) as T | undefined;
    },
    async run(text: string, params?: Params) {
      const c = compile(text, params);
      const s = prepare(c.text);
      if (s.reader) return s.all(...c.values).length;
      return s.run(...c.values).changes;
    },
  };
  const outside = <K extends keyof Sql>(k: K): Sql[K] =>
    (async (text: string, params?: Params) => {
      if (inWrite) await lock.queue.catch(() => undefined);
      return (direct[k] as (t: string, p?: Params) => Promise<unknown>)(text, params);
    }) as Sql[K];

  const write = <R>(fn: (sql: Sql) => Promise<R>): Promise<R> => {
    const run = lock.queue.catch(() => undefined).then(async () => {
      inWrite = true;
      db.exec('begin immediate');
      try {
        const result = await fn(direct);
        db.exec('commit');
        return result;
      } catch (err) {
        if (db.inTransaction) db.exec('rollback');
        throw err;
      } finally {
        inWrite = false;
      }
    });
    lock.queue = run;
    return run;
  };

  return {
    dialect: 'sqlite',
    where: path,
    all: outside('all'),
    get: outside('get'),
    run: outside('run'),
    write,
    async migrate(schema) {
      await write(async () => {
        db.exec(expand(schema, 'sqlite'));
        for (const [table, column, definition] of schema.addedColumns ?? []) {
          const columns = db.prepare(`pragma table_info(${table})`).all() as { name: string }[];
          if (!columns.some((c) => c.name === column)) db.exec(`alter table ${table} add column ${column} ${definition}`);
        }
        if (schema.afterColumns) db.exec(schema.afterColumns);
      });
    },
    async close() {
      await lock.queue.catch(() => undefined);
      if (db.open) db.close();
    },
  };
}

// 8-byte integers (epoch milliseconds, counts, ids) as numbers: every value the stores keep fits in 2^53.
const NUMBER_TYPES = new Set([20, 1700]);
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    NUMBER_TYPES.has(oid) ? (v: string) => (v === null ? null : Number(v)) : pg.types.getTypeParser(oid, format as 'text')) as never,
};

/** Errors after which the same statement may succeed: the server restarting, a dropped connection. */
function transient(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  if (typeof e?.code === 'string') {
    if (/^(08|57P0[123]|53300|40001|40P01)/.test(e.code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(e.code)) return true;
  }
  return /Connection terminated|connection timeout|Client has encountered a connection error|the database system is (starting|shutting) up/i.test(e?.message ?? '');
}

/** A stable 64-bit advisory lock key for a lock name. */
export function lockKey(name: string): string {
  let h = 0xcbf29ce484222325n;
  for (const b of Buffer.from(`hazwatch:${name}`)) h = BigInt.asIntN(64, (h ^ BigInt(b)) * 0x100000001b3n);
  return h.toString();
}

async function openPostgres(url: string, options: OpenOptions): Promise<SqlDatabase> {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 5000, idleTimeoutMillis: 30_000, types, application_name: `hazwatch-${options.lock}` });
  // An idle client whose server went away emits here; without a listener that would end the process.
  pool.on('error', (err) => options.log?.warn({ err: err.message, database: describeTarget(url) }, 'PostgreSQL connection lost; reconnecting on next use'));
  const compile = compiler('postgres');
  const retryForMs = options.retryForMs ?? 60_000;
  const key = lockKey(options.lock);
  let closed = false;

  async function retrying<R>(what: string, fn: () => Promise<R>): Promise<R> {
    const started = Date.now();
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      try {
        const result = await fn();
        if (attempt > 1) options.log?.info({ what, attempts: attempt, waitedMs: Date.now() - started, database: describeTarget(url) }, 'PostgreSQL reachable again');
        return result;
      } catch (err) {
        if (closed || !transient(err) || Date.now() - started + delay > retryForMs) throw err;
        // One warning per operation, not one per attempt: an outage would otherwise flood the log.
        if (attempt === 1) options.log?.warn({ err: (err as Error).message, code: (err as { code?: string }).code, retryForMs, database: describeTarget(url) }, `PostgreSQL ${what} failed; retrying`);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  const on = (q: (text: string, values: unknown[]) => Promise<pg.QueryResult>): Sql => ({
    async all<T>(text: string, params?: Params) {
      const c = compile(text, params);
      return (await q(c.text, c.values)).rows as T[];
    },
    async get<T>(text: string, params?: Params) {
      const c = compile(text, params);
      return (await q(c.text, c.values)).rows[0] as T | undefined;
    },
    async run(text: string, params?: Params) {
      const c = compile(text, params);
      return (await q(c.text, c.values)).rowCount ?? 0;
    },
  });
  const direct = on((text, values) => retrying('query', () => pool.query(text, values)));

  async function write<R>(fn: (sql: Sql) => Promise<R>): Promise<R> {
    return retrying('transaction', async () => {
      const client = await pool.connect();
      let broken = false;
      try {
        await client.query('begin');
        await client.query('select pg_advisory_xact_lock($1)', [key]);
        const result = await fn(on((text, values) => client.query(text, values)));
        await client.query('commit');
        return result;
      } catch (err) {
        broken = transient(err);
        if (!broken) await client.query('rollback').catch(() => (broken = true));
        throw err;
      } finally {
        client.release(broken);
      }
    });
  }

  const db: SqlDatabase = {
    dialect: 'postgres',
    where: describeTarget(url),
    ...direct,
    write,
    async migrate(schema) {
      await write(async (sql) => {
        await sql.run(`select pg_advisory_xact_lock(${lockKey('migrate')})`);
        await sql.run(expand(schema, 'postgres'));
        for (const [table, column, definition] of schema.addedColumns ?? []) await sql.run(`alter table ${table} add column if not exists ${column} ${definition}`);
        if (schema.afterColumns) await sql.run(schema.afterColumns);
      });
    },
    async close() {
      closed = true;
      await pool.end();
    },
  };
  return db;
}
