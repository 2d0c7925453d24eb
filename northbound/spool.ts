// The forwarder's durable spool: one SQLite file (WAL, fsync per commit). What an incoming message
// gives is committed here before the message is acknowledged to the broker; a row leaves the outbox
// only after the upper platform took it (or refused it for good: then it moves to `refused`).
//
//   outbox   what is to be sent, in order (id); `key` is the device (enterprise/device) or `base`
//   pending  readings of an interval not yet over: the latest value of each metric, per device and interval
//   refused  rows the upper platform refused for good (4xx, or an answer that says not taken)
//   alarm_seen  alarm changes (alarm id and seq) already queued: the alarm topic is at-least-once
import { openSqliteFile } from '../core/sqlite-file.ts';
import type { MessageKind } from './fields.ts';
import type { Context } from './template.ts';

export const BASE_KEY = 'base';

export interface OutboxRow {
  id: number;
  kind: MessageKind;
  key: string;
  ctx: Context;
  queuedAt: number;
  attempts: number;
}

export interface NewRow {
  kind: MessageKind;
  key: string;
  ctx: Context;
}

export interface SpoolStats {
  rows: number;
  oldestQueuedAt?: number;
  pending: number;
  refused: number;
}

/** Values of one device in one interval, as kept in `pending`: the device's fields and the latest value per metric. */
export interface PendingInterval {
  device: Context;
  values: Record<string, Context>;
}

const SCHEMA = `
create table if not exists outbox (
  id integer primary key autoincrement,
  kind text not null,
  key text not null,
  ctx text not null,
  queued_at integer not null,
  attempts integer not null default 0,
  last_error text
);
create table if not exists pending (
  key text not null,
  start integer not null,
  end integer not null,
  data text not null,
  primary key (key, start)
);
create table if not exists refused (
  id integer primary key,
  kind text not null,
  key text not null,
  ctx text not null,
  queued_at integer not null,
  failed_at integer not null,
  error text not null
);
create table if not exists alarm_seen (
  change text primary key,
  seen_at integer not null
) without rowid;
create index if not exists alarm_seen_at on alarm_seen(seen_at);
`;

export type NorthboundSpool = ReturnType<typeof openNorthboundSpool>;

export function openNorthboundSpool(path: string, options: { sync?: 'full' | 'normal'; now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  const db = openSqliteFile(path, { sync: options.sync ?? 'full' });
  db.exec(SCHEMA);

  const stmt = {
    insert: db.prepare('insert into outbox (kind, key, ctx, queued_at) values (?, ?, ?, ?)'),
    head: db.prepare('select id, kind, key, ctx, queued_at as queuedAt, attempts from outbox order by id limit ?'),
    remove: db.prepare('delete from outbox where id = ?'),
    failed: db.prepare('update outbox set attempts = attempts + 1, last_error = ? where id = ?'),
    refuse: db.prepare('insert or replace into refused (id, kind, key, ctx, queued_at, failed_at, error) select id, kind, key, ctx, queued_at, ?, ? from outbox where id = ?'),
    count: db.prepare('select count(*) from outbox').pluck(),
    oldest: db.prepare('select queued_at from outbox order by id limit 1').pluck(),
    pendingCount: db.prepare('select count(*) from pending').pluck(),
    refusedCount: db.prepare('select count(*) from refused').pluck(),
    pendingGet: db.prepare('select data from pending where key = ? and start = ?').pluck(),
    pendingPut: db.prepare('insert or replace into pending (key, start, end, data) values (?, ?, ?, ?)'),
    pendingDue: db.prepare('select key, start, end, data from pending where end <= ? order by start, key'),
    pendingRemove: db.prepare('delete from pending where key = ? and start = ?'),
    seen: db.prepare('insert or ignore into alarm_seen (change, seen_at) values (?, ?)'),
    forget: db.prepare('delete from alarm_seen where seen_at < ?'),
  };

  const enqueueAll = (rows: NewRow[]) => {
    const at = now();
    for (const r of rows) stmt.insert.run(r.kind, r.key, JSON.stringify(r.ctx), at);
  };

  return {
    path,

    /** Runs `fn` in one transaction (one commit, one fsync): what one incoming message gives. */
    transaction<T>(fn: () => T): T {
      return db.transaction(fn)();
    },

    /** Appends rows to the outbox (inside or outside a transaction). */
    enqueue(rows: NewRow[]): void {
      if (rows.length) db.transaction(enqueueAll)(rows);
    },

    /** The oldest rows, in order. */
    head(limit: number): OutboxRow[] {
      return (stmt.head.all(limit) as Array<Omit<OutboxRow, 'ctx'> & { ctx: string }>).map((r) => ({ ...r, ctx: JSON.parse(r.ctx) as Context }));
    },

    delivered(id: number): void {
      stmt.remove.run(id);
    },

    failed(id: number, error: string): void {
      stmt.failed.run(error.slice(0, 1000), id);
    },

    /** Moves a row the upper platform will never take out of the way of the rows after it. */
    refuse(id: number, error: string): void {
      db.transaction(() => {
        stmt.refuse.run(now(), error.slice(0, 2000), id);
        stmt.remove.run(id);
      })();
    },

    /** Merges values into a device's interval (inside the message's transaction). */
    mergePending(key: string, start: number, end: number, device: Context, values: Context[]): void {
      const raw = stmt.pendingGet.get(key, start) as string | undefined;
      const current: PendingInterval = raw ? (JSON.parse(raw) as PendingInterval) : { device, values: {} };
      current.device = device;
      for (const v of values) {
        const metric = v.metric as string;
        const had = current.values[metric];
        // The latest value of the interval; of two at the same time, the one received last.
        if (!had || (had.ts as number) <= (v.ts as number)) current.values[metric] = v;
      }
      stmt.pendingPut.run(key, start, end, JSON.stringify(current));
    },

    /** Intervals over by `until`, oldest first; `take` turns each into outbox rows, in the same transaction. */
    closeIntervals(until: number, take: (key: string, interval: { start: number; end: number }, data: PendingInterval) => NewRow[]): number {
      return db.transaction(() => {
        const due = stmt.pendingDue.all(until) as Array<{ key: string; start: number; end: number; data: string }>;
        for (const d of due) {
          enqueueAll(take(d.key, { start: d.start, end: d.end }, JSON.parse(d.data) as PendingInterval));
          stmt.pendingRemove.run(d.key, d.start);
        }
        return due.length;
      })();
    },

    /** True the first time an alarm change (`<alarm id>:<seq>`) is seen (inside the message's transaction). */
    firstSeen(change: string): boolean {
      return stmt.seen.run(change, now()).changes === 1;
    },

    forgetSeenBefore(at: number): void {
      stmt.forget.run(at);
    },

    stats(): SpoolStats {
      const oldest = stmt.oldest.get() as number | undefined;
      return {
        rows: stmt.count.get() as number,
        ...(oldest !== undefined ? { oldestQueuedAt: oldest } : {}),
        pending: stmt.pendingCount.get() as number,
        refused: stmt.refusedCount.get() as number,
      };
    },

    close(): void {
      db.close();
    },
  };
}
