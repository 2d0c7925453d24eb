// The gateway's outbox: every reading and event is written here first (SQLite, WAL) and deleted only
// once the broker acknowledged it (QoS 1). While the broker is unreachable readings pile up here with
// their poll timestamps and survive a restart of the gateway; the outbox is bounded, and when full the
// oldest telemetry is dropped, counted and logged (HW_ERR_GATEWAY_BUFFER_FULL), never silently.
import Database from 'better-sqlite3';
export function openOutbox(path, options) {
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    // NORMAL keeps committed rows across a process crash; only a power cut may lose the last ones.
    db.pragma('synchronous = NORMAL');
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
    const dropOldest = db.prepare(`delete from outbox where id in (select id from outbox order by (channel = 'event'), id limit ?)`);
    let count = db.prepare('select count(*) as n from outbox').get().n;
    let dropped = 0;
    const removeMany = db.transaction((ids) => {
        let n = 0;
        for (const id of ids)
            n += removeOne.run(id).changes;
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
            return select.all(limit);
        },
        remove(ids) {
            if (ids.length)
                count -= removeMany(ids);
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
