// The durable spool between the broker and the database: one SQLite file in WAL mode. A message is
// acknowledged to the broker only after the transaction holding it has committed and been fsynced
// (afterSync); rows leave the spool only after the database has accepted them. See docs/ingest.md, "Nothing lost".
import { closeSync, existsSync, fsync, fsyncSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { openSqliteFile } from '../core/sqlite-file.ts';

export interface SpoolEntry {
  receivedAt: number;
  /** Line protocol, one point per line. */
  lines: string[];
  /** Remembered so that a QoS1 redelivery of this message is recognised (receive-time points only). */
  dedupeKey?: Buffer;
}

export interface SpoolBatch {
  /** Highest sequence number in the batch: remove(lastSeq) once the database has accepted it. */
  firstSeq: number;
  lastSeq: number;
  rows: { seq: number; receivedAt: number; lines: string }[];
  points: number;
}

export interface SpoolStats {
  messages: number;
  points: number;
  bytes: number;
  /** Receive time of the oldest message still in the spool, or undefined when empty. */
  oldestReceivedAt?: number;
  refused: number;
}

export interface SpoolOptions {
  sync?: 'full' | 'normal';
  /** Rows kept in memory for the drain while it keeps up (default 50,000); beyond, it reads the file. */
  tailMaxRows?: number;
  /**
   * Under load, at most one fsync per this many ms (default 0: back to back). Each fsync is handed to a
   * pool thread and back, two or three context switches of about 45 µs of CPU each on the benchmark VM;
   * spaced out, the commits meanwhile share it.
   */
  syncEveryMs?: number;
  /** The fsync of the WAL; replaced only by tests that need a slow or failing disk. */
  fsync?: (fd: number, done: (err: Error | null) => void) => void;
  maxBytes: number;
  maxMessages?: number;
}

const SCHEMA = `
create table if not exists spool (
  seq integer primary key autoincrement,
  received_at integer not null,
  points integer not null,
  bytes integer not null,
  lines text not null
);
create table if not exists recent (
  key blob primary key,
  seen_at integer not null
) without rowid;
create index if not exists recent_seen on recent(seen_at);
create table if not exists refused (
  seq integer primary key,
  received_at integer not null,
  failed_at integer not null,
  error text not null,
  lines text not null
);
`;

export type Spool = ReturnType<typeof openSpool>;

/** Rows per insert statement, largest first: a commit of n messages takes few statements for any n. */
const INSERT_ROWS = [32, 8, 1] as const;

export function openSpool(path: string, options: SpoolOptions) {
  // WAL with SQLite's own syncs off at commit (NORMAL); with `sync: full` the WAL is fsynced here
  // instead, on libuv's thread pool, and a commit counts as durable only once an fsync that began
  // after it has returned (afterSync). The event loop goes on validating the next messages while the
  // disk works, instead of waiting in the commit. Checkpoints still sync the WAL and the database
  // file themselves under NORMAL, so nothing committed before a checkpoint depends on our fsync.
  const db = openSqliteFile(path, { sync: 'normal' });
  db.exec(SCHEMA);
  const wal = options.sync === 'normal' || path === ':memory:' ? undefined : walSyncer(db, path, options.fsync ?? fsync, options.syncEveryMs ?? 0);

  const stmt = {
    remember: db.prepare('insert or replace into recent (key, seen_at) values (?, ?)'),
    seen: db.prepare('select 1 from recent where key = ?').pluck(),
    head: db.prepare('select seq, received_at as receivedAt, points, lines from spool order by seq limit ?'),
    oldest: db.prepare('select received_at from spool order by seq limit 1').pluck(),
    remove: db.prepare('delete from spool where seq <= ?'),
    removeOne: db.prepare('delete from spool where seq = ?'),
    refuse: db.prepare('insert or replace into refused (seq, received_at, failed_at, error, lines) values (?, ?, ?, ?, ?)'),
    prune: db.prepare('delete from recent where seen_at < ?'),
    totals: db.prepare('select count(*) as messages, coalesce(sum(points), 0) as points, coalesce(sum(bytes), 0) as bytes from spool'),
    sumUpTo: db.prepare('select count(*) as messages, coalesce(sum(points), 0) as points, coalesce(sum(bytes), 0) as bytes from spool where seq <= ?'),
    refusedCount: db.prepare('select count(*) from refused').pluck(),
    lastKeys: db.prepare('select key from recent where seen_at >= (select max(seen_at) from recent) - ?').pluck(),
  };

  const totals = stmt.totals.get() as { messages: number; points: number; bytes: number };
  let refusedCount = stmt.refusedCount.get() as number;
  const tail = memoryTail(options.tailMaxRows ?? 50_000, totals.messages === 0);

  // A commit's messages are inserted several rows per statement: per statement, not per row, go
  // better-sqlite3's call and result object and SQLite's update of the autoincrement counter (a quarter
  // of the spool's CPU per message, measured with batches of 100). The rows of one statement get
  // consecutive sequence numbers, the last of them reported.
  const inserts = INSERT_ROWS.map((rows) => ({ rows, stmt: db.prepare(`insert into spool (received_at, points, bytes, lines) values ${Array(rows).fill('(?, ?, ?, ?)').join(', ')}`) }));
  const appendTx = db.transaction((entries: SpoolEntry[], added: TailRow[]) => {
    let i = 0;
    for (const { rows, stmt: insert } of inserts) {
      for (; entries.length - i >= rows; i += rows) {
        const params: (number | string)[] = [];
        const from = added.length;
        for (let j = i; j < i + rows; j++) {
          const e = entries[j];
          const text = e.lines.length === 1 ? e.lines[0] : e.lines.join('\n');
          const bytes = Buffer.byteLength(text);
          params.push(e.receivedAt, e.lines.length, bytes, text);
          added.push({ seq: 0, receivedAt: e.receivedAt, points: e.lines.length, bytes, lines: text });
        }
        const last = insert.run(params).lastInsertRowid as number;
        for (let j = 0; j < rows; j++) added[from + j].seq = last - rows + 1 + j;
      }
    }
    for (const e of entries) if (e.dedupeKey) stmt.remember.run(e.dedupeKey, e.receivedAt);
  });

  function afterSync(done: (err: Error | null) => void): void {
    if (wal) wal.afterSync(done);
    else done(null);
  }

  return {
    path,

    /** Appends in one transaction. Committed on return, durable once `afterSync` calls back. */
    append(entries: SpoolEntry[]): void {
      const added: TailRow[] = [];
      appendTx(entries, added);
      for (const row of added) {
        totals.messages++;
        totals.points += row.points;
        totals.bytes += row.bytes;
      }
      tail.append(added);
    },

    /** Would this many more bytes / messages still fit under the limit? */
    fits(messages: number, bytes: number): boolean {
      if (totals.bytes + bytes > options.maxBytes) return false;
      if (options.maxMessages !== undefined && totals.messages + messages > options.maxMessages) return false;
      return true;
    },

    /** Fill ratio against the tighter of the two limits, 0..1. */
    fill(): number {
      const byBytes = totals.bytes / options.maxBytes;
      const byMessages = options.maxMessages ? totals.messages / options.maxMessages : 0;
      return Math.max(byBytes, byMessages);
    },

    /**
     * Calls `done` once everything committed so far is on disk (at once with `sync: normal`). Calls
     * come back in the order they were made; an error means the disk refused (nothing committed
     * since the last successful sync may be relied on).
     */
    afterSync,

    /** Resolves once every commit made so far is on disk. */
    synced(): Promise<void> {
      return new Promise((resolve, reject) => afterSync((err) => (err ? reject(err) : resolve())));
    },

    seen(key: Buffer): boolean {
      return stmt.seen.get(key) !== undefined;
    },

    /** The oldest rows, up to about `maxPoints` points (at least one row), in receive order. */
    head(maxPoints: number): SpoolBatch | undefined {
      // Live, the rows are still in memory: no need to read back what was just written.
      if (tail.complete(totals.messages)) return tail.head(maxPoints);
      const rows: SpoolBatch['rows'] = [];
      let points = 0;
      // Rows are small compared to a batch; reading a generous limit then cutting is one query.
      for (const row of stmt.head.iterate(Math.max(1, maxPoints)) as Iterable<{ seq: number; receivedAt: number; points: number; lines: string }>) {
        if (rows.length > 0 && points + row.points > maxPoints) break;
        rows.push({ seq: row.seq, receivedAt: row.receivedAt, lines: row.lines });
        points += row.points;
      }
      if (rows.length === 0) return undefined;
      return { firstSeq: rows[0].seq, lastSeq: rows[rows.length - 1].seq, rows, points };
    },

    /** Removes every row up to and including `seq`, after the database accepted them. */
    remove(seq: number): void {
      const fromFile = tail.complete(totals.messages) ? undefined : (stmt.sumUpTo.get(seq) as { messages: number; points: number; bytes: number });
      stmt.remove.run(seq);
      const fromTail = tail.remove(seq);
      const gone = fromFile ?? fromTail;
      totals.messages -= gone.messages;
      totals.points -= gone.points;
      totals.bytes -= gone.bytes;
      tail.emptied(totals.messages);
    },

    /** Moves one row the database refuses for good (400) aside, where an operator can read it. */
    refuse(row: { seq: number; receivedAt: number; lines: string }, error: string, at: number): void {
      db.transaction(() => {
        stmt.refuse.run(row.seq, row.receivedAt, at, error.slice(0, 2000), row.lines);
        stmt.removeOne.run(row.seq);
      })();
      totals.messages--;
      totals.points -= row.lines.split('\n').length;
      totals.bytes -= Buffer.byteLength(row.lines);
      refusedCount++;
      tail.drop(row.seq);
      tail.emptied(totals.messages);
    },

    /** Redelivery keys of the last `ms` before the newest one: what a killed process took last. */
    lastKeys(ms: number): Buffer[] {
      return stmt.lastKeys.all(ms) as Buffer[];
    },

    /** Forgets redelivery keys older than `before`. */
    prune(before: number): number {
      return stmt.prune.run(before).changes;
    },

    stats(): SpoolStats {
      const oldest = totals.messages === 0 ? undefined : tail.complete(totals.messages) ? tail.oldestReceivedAt() : (stmt.oldest.get() as number | undefined);
      return { ...totals, oldestReceivedAt: oldest, refused: refusedCount };
    },

    close(): void {
      db.close();
      wal?.close();
    },
  };
}

/**
 * One fsync of the WAL file at a time; callers waiting meanwhile share the next one (group commit of
 * the fsyncs themselves), which starts no sooner than `everyMs` after the previous one started. The WAL
 * file keeps its inode while the connection is open: SQLite resets it by writing from its start again,
 * never by replacing it.
 */
function walSyncer(db: { exec(sql: string): unknown }, path: string, sync: NonNullable<SpoolOptions['fsync']>, everyMs: number) {
  // The WAL file appears with the connection's first transaction.
  if (!existsSync(`${path}-wal`)) db.exec('begin immediate; commit');
  const fd = openSync(`${path}-wal`, 'r+');
  // A new file's directory entry must be durable too (SQLite does this for a WAL it creates).
  const dir = openSync(dirname(path), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
  let waiting: ((err: Error | null) => void)[] = [];
  let running = false;
  let closeWhenDone = false;
  let closed = false;
  let startedAt = -Infinity;
  let paced: NodeJS.Timeout | undefined;

  /** Starts the next fsync now, or once `everyMs` have passed since the last one started. */
  function next(): void {
    if (running || paced) return;
    const wait = startedAt + everyMs - performance.now();
    if (wait <= 0) return start();
    paced = setTimeout(() => {
      paced = undefined;
      start();
    }, wait);
  }
  function start(): void {
    running = true;
    startedAt = performance.now();
    const batch = waiting;
    waiting = [];
    sync(fd, (err) => {
      running = false;
      for (const done of batch) done(err);
      if (closeWhenDone) finish();
      else if (waiting.length > 0) next();
    });
  }
  function finish(): void {
    if (closed) return;
    closed = true;
    if (paced) clearTimeout(paced);
    closeSync(fd);
    const left = waiting;
    waiting = [];
    for (const done of left) done(new Error('spool closed before its commit was synced'));
  }
  return {
    afterSync(done: (err: Error | null) => void): void {
      if (closed || closeWhenDone) return done(new Error('spool closed'));
      waiting.push(done);
      next();
    },
    close(): void {
      if (running) closeWhenDone = true;
      else finish();
    },
  };
}

interface TailRow {
  seq: number;
  receivedAt: number;
  points: number;
  bytes: number;
  lines: string;
}

/**
 * The rows of the spool as they were appended, while the drain keeps up: the drain reads them from
 * here instead of reading back from the file what was written a moment ago. It holds every row of the
 * spool or is off: once more than `maxRows` wait (the database is slow or down), it lets go and the
 * drain reads the file until the spool is empty again; it starts off when a backlog is on disk.
 */
function memoryTail(maxRows: number, on: boolean) {
  let rows: TailRow[] = [];
  let first = 0; // index of the oldest row still in the spool
  const size = () => rows.length - first;
  return {
    complete(messages: number): boolean {
      return on && size() === messages;
    },
    append(added: TailRow[]): void {
      if (!on) return;
      if (size() + added.length > maxRows) {
        on = false;
        rows = [];
        first = 0;
        return;
      }
      for (const r of added) rows.push(r);
    },
    head(maxPoints: number): SpoolBatch | undefined {
      if (size() === 0) return undefined;
      const out: SpoolBatch['rows'] = [];
      let points = 0;
      for (let i = first; i < rows.length; i++) {
        const r = rows[i];
        if (out.length > 0 && points + r.points > maxPoints) break;
        out.push({ seq: r.seq, receivedAt: r.receivedAt, lines: r.lines });
        points += r.points;
      }
      return { firstSeq: out[0].seq, lastSeq: out[out.length - 1].seq, rows: out, points };
    },
    /** Lets go of the rows up to `seq`; returns what they held. */
    remove(seq: number): { messages: number; points: number; bytes: number } {
      const gone = { messages: 0, points: 0, bytes: 0 };
      if (!on) return gone;
      for (; first < rows.length && rows[first].seq <= seq; first++) {
        gone.messages++;
        gone.points += rows[first].points;
        gone.bytes += rows[first].bytes;
      }
      // Compact now and then rather than shifting the array at every batch.
      if (first > 4096 && first * 2 > rows.length) {
        rows = rows.slice(first);
        first = 0;
      }
      return gone;
    },
    /** One row set aside (refused): only ever the oldest, as the drain splits from the front. */
    drop(seq: number): void {
      if (!on) return;
      const i = rows.findIndex((r, k) => k >= first && r.seq === seq);
      if (i >= 0) rows.splice(i, 1);
    },
    /** The spool is empty: the tail can hold every row again from the next append on. */
    emptied(messages: number): void {
      if (messages === 0 && !on) {
        on = true;
        rows = [];
        first = 0;
      }
    },
    oldestReceivedAt(): number | undefined {
      return size() > 0 ? rows[first].receivedAt : undefined;
    },
  };
}
