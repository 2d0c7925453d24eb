// One way to open the SQLite file of a spool or outbox that holds what was acknowledged but not yet
// delivered (ingest's spool, the northbound spool, the gateway's outbox): WAL, so a reader never blocks
// the writer; `full` fsyncs every commit (an acknowledged message survives a power cut), `normal`
// survives a crash of the process only. Shared stores (registry, alarms) go through core/sql.ts instead.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export function openSqliteFile(path: string, options: { sync: 'full' | 'normal'; busyTimeoutMs?: number }): Database.Database {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.sync === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma(`busy_timeout = ${options.busyTimeoutMs ?? 5000}`);
  return db;
}
