// The gateway's outbox: every reading and event is written here first (SQLite, WAL) and deleted only
// once the broker acknowledged it (QoS 1). While the broker is unreachable readings pile up here with
// their poll timestamps and survive a restart of the gateway; the outbox is bounded, and when full the
// oldest telemetry is dropped, counted and logged (HW_ERR_GATEWAY_BUFFER_FULL), never silently.
import { openSqliteFile } from '../core/sqlite-file.ts';

export type OutboxChannel = 'telemetry' | 'event';

export interface OutboxRow {
  id: number;
  device: string;
  channel: OutboxChannel;
  /** JSON of one reading ({ts, values}) or one event payload. */
  body: string;
}

export interface Outbox {
  push(device: string, channel: OutboxChannel, body: unknown): void;
  /** The oldest rows, in order of arrival, excluding `skip` (rows in flight). */
  peek(limit: number): OutboxRow[];
  remove(ids: number[]): void;
  size(): number;
  /** Rows dropped because the outbox was full, since it was opened. */
  readonly dropped: number;
  close(): void;
}

export function openOutbox(path: string, options: { maxRows: number; onDrop?: (count: number) => void }): Outbox {
  // NORMAL keeps committed rows across a process crash; only a power cut may lose the last ones.
  const db = openSqliteFile(path, { sync: 'normal' });
  db.exec(`create table if not exists outbox (
    id integer primary key autoincrement,
    device text not null,
    channel text not null,
    body text not null
  )`);
  const insert = db.prepare('insert into outbox (device, channel, body) values (?, ?, ?)');
  const select = db.prepare('select id, device, channel, body from outbox order by id limit ?');
  const removeOne = db.prepare('delete from outbox where id = ?');
  // Events are rare and carry alarms: when full, telemetry goes first.
  const dropOldest = db.prepare(
    `delete from outbox where id in (select id from outbox order by (channel = 'event'), id limit ?)`,
  );
  let count = (db.prepare('select count(*) as n from outbox').get() as { n: number }).n;
  let dropped = 0;
  const removeMany = db.transaction((ids: number[]) => {
    let n = 0;
    for (const id of ids) n += removeOne.run(id).changes;
    return n;
  });

  return {
    push(device, channel, body) {
      if (count >= options.maxRows) {
        // Drop a slice at once so that a long outage does not pay one delete per insert.
        const n = Math.max(1, Math.ceil(options.maxRows / 100));
        const gone = dropOldest.run(n).changes;
        count -= gone;
        dropped += gone;
        options.onDrop?.(gone);
      }
      insert.run(device, channel, JSON.stringify(body));
      count++;
    },
    peek(limit) {
      return select.all(limit) as OutboxRow[];
    },
    remove(ids) {
      if (ids.length) count -= removeMany(ids);
    },
    size: () => count,
    get dropped() {
      return dropped;
    },
    close() {
      db.close();
    },
  };
}
