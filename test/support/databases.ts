// The two engines a shared store runs on, for suites that must behave the same on both: a fresh SQLite
// file, or a fresh database on the test run's PostgreSQL (test/global-setup.ts).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestPostgres, postgresExec } from './postgres.ts';

export interface TestDatabase {
  /** What the stores open: a file path or a postgres:// URL. */
  target: string;
  /** Runs SQL straight on the engine, past the store (to make old schemas, or to tamper). */
  exec(sql: string): Promise<void>;
  drop(): Promise<void>;
}

export interface Backend {
  name: 'SQLite' | 'PostgreSQL';
  fresh(name?: string): Promise<TestDatabase>;
}

export const BACKENDS: Backend[] = [
  {
    name: 'SQLite',
    async fresh(name = 'store.db') {
      const dir = mkdtempSync(join(tmpdir(), 'hw-db-'));
      const target = join(dir, name);
      return {
        target,
        async exec(sql) {
          const db = new Database(target);
          try {
            db.exec(sql);
          } finally {
            db.close();
          }
        },
        async drop() {
          rmSync(dir, { recursive: true, force: true });
        },
      };
    },
  },
  {
    name: 'PostgreSQL',
    async fresh() {
      const { url, drop } = await createTestPostgres();
      return {
        target: url,
        exec: (sql) => postgresExec(url, sql),
        drop,
      };
    },
  },
];
