// The durable spool between the broker and the database: one SQLite file in WAL mode. A message is
// acknowledged to the broker only after the transaction holding it has committed; rows leave the
// spool only after the database has accepted them. See docs/ingest.md, "Nothing lost".
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

export function openSpool(path: string, options: SpoolOptions) {
  // WAL + FULL: each commit is fsynced, so an acknowledged message survives a power cut; group
  // commit makes that one fsync per batch of messages, not per message.
  const db = openSqliteFile(path, { sync: options.sync === 'normal' ? 'normal' : 'full' });
  db.exec(SCHEMA);

  const stmt = {
    insert: db.prepare('insert into spool (received_at, points, bytes, lines) values (?, ?, ?, ?)'),
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

  const appendTx = db.transaction((entries: SpoolEntry[]) => {
    for (const e of entries) {
      const text = e.lines.join('\n');
      const bytes = Buffer.byteLength(text);
      stmt.insert.run(e.receivedAt, e.lines.length, bytes, text);
      if (e.dedupeKey) stmt.remember.run(e.dedupeKey, e.receivedAt);
      totals.messages++;
      totals.points += e.lines.length;
      totals.bytes += bytes;
    }
  });

  return {
    path,

    /** Appends in one transaction (one fsync); returns once the entries are durable. */
    append(entries: SpoolEntry[]): void {
      const before = { ...totals };
      try {
        appendTx(entries);
      } catch (err) {
        Object.assign(totals, before);
        throw err;
      }
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

    seen(key: Buffer): boolean {
      return stmt.seen.get(key) !== undefined;
    },

    /** The oldest rows, up to about `maxPoints` points (at least one row), in receive order. */
    head(maxPoints: number): SpoolBatch | undefined {
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
      const gone = stmt.sumUpTo.get(seq) as { messages: number; points: number; bytes: number };
      stmt.remove.run(seq);
      totals.messages -= gone.messages;
      totals.points -= gone.points;
      totals.bytes -= gone.bytes;
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
      const oldest = totals.messages > 0 ? (stmt.oldest.get() as number | undefined) : undefined;
      return { ...totals, oldestReceivedAt: oldest, refused: refusedCount };
    },

    close(): void {
      db.close();
    },
  };
}
