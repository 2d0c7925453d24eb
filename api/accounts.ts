// Console and API accounts, their sessions, and the audit log: one SQLite file (<dataDir>/api.db), or
// the PostgreSQL database every API node shares, so that any node serves any signed-in operator.
// Passwords are chosen by people: scrypt with the human-password cost. Session tokens are random
// 256-bit strings stored only as SHA-256 hashes, so a copy of the database does not let anyone sign in.
// The audit table is append-only: triggers refuse UPDATE and DELETE.
import { createHash, randomBytes } from 'node:crypto';
import { HazwatchError } from '../contract/errors.ts';
import { isValidId } from '../contract/topics.ts';
import type { Logger } from '../core/log.ts';
import { openDatabase, type Schema, type Sql } from '../core/sql.ts';
import { HUMAN_PASSWORD_PARAMS, hashSecret, verifySecret } from '../registry/secrets.ts';

export const ROLES = ['operator', 'supervisor', 'administrator', 'enterprise'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  username: string;
  role: Role;
  /** Set for enterprise users: the one enterprise they see and manage. */
  enterprise: string | null;
  /**
   * Regulator roles: the jurisdiction node (registry/jurisdictions.ts) whose enterprises they see and
   * act on; null: the whole platform. Always null for enterprise users.
   */
  jurisdiction: string | null;
  displayName: string;
  createdAt: number;
  disabledAt: number | null;
}

export interface Session {
  user: User;
  expiresAt: number;
}

export interface AuditEntry {
  seq: number;
  at: number;
  username: string;
  role: string;
  enterprise: string | null;
  action: string;
  method: string;
  path: string;
  status: number;
  target: string | null;
  detail: Record<string, unknown> | null;
  ip: string | null;
}

const SCHEMA: Schema = {
  tables: `
create table if not exists users (
  username text primary key,
  role text not null check (role in ('operator', 'supervisor', 'administrator', 'enterprise')),
  enterprise text,
  display_name text not null default '',
  password_hash text not null,
  created_at bigint not null,
  disabled_at bigint,
  check ((role = 'enterprise') = (enterprise is not null))
);
create table if not exists sessions (
  token_hash text primary key,
  username text not null references users(username),
  created_at bigint not null,
  expires_at bigint not null
);
create index if not exists sessions_expiry on sessions(expires_at);
create table if not exists audit (
  seq {serial},
  at bigint not null,
  username text not null,
  role text not null,
  enterprise text,
  action text not null,
  method text not null,
  path text not null,
  status integer not null,
  target text,
  detail text,
  ip text
);
create index if not exists audit_at on audit(at);
`,
  appendOnly: [{ table: 'audit', what: 'audit log' }],
  // The jurisdiction node of a regulator account (issue 15), added to databases made before.
  addedColumns: [['users', 'jurisdiction', 'text']],
};

type UserRow = { username: string; role: Role; enterprise: string | null; jurisdiction: string | null; display_name: string; password_hash: string; created_at: number; disabled_at: number | null };

function toUser(row: UserRow): User {
  return { username: row.username, role: row.role, enterprise: row.enterprise, jurisdiction: row.jurisdiction ?? null, displayName: row.display_name, createdAt: row.created_at, disabledAt: row.disabled_at };
}

function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

export interface NewUser {
  username: string;
  password: string;
  role: Role;
  enterprise?: string | null;
  jurisdiction?: string | null;
  displayName?: string;
}

export type AccountStore = Awaited<ReturnType<typeof openAccounts>>;

/** Opens the accounts, sessions and audit log: a SQLite file, or the PostgreSQL database every API node shares. */
export async function openAccounts(target: string, options: { sessionTtlMs: number; now?: () => number; log?: Logger }) {
  const now = options.now ?? Date.now;
  const db = await openDatabase(target, { lock: 'accounts', log: options.log, schema: SCHEMA });
  const deleteSessionsOf = (sql: Sql, username: string) => sql.run('delete from sessions where username = ?', [username]);

  function checkUser(user: Omit<NewUser, 'password'>): void {
    if (!isValidId(user.username)) throw new HazwatchError('HW_ERR_VALIDATION', 'username: letters, digits, _ . -, at most 64', { field: 'username' });
    if (user.role === 'enterprise' && !user.enterprise) throw new HazwatchError('HW_ERR_VALIDATION', 'enterprise: required for role enterprise', { field: 'enterprise' });
    if (user.role !== 'enterprise' && user.enterprise) throw new HazwatchError('HW_ERR_VALIDATION', 'enterprise: only enterprise users belong to an enterprise', { field: 'enterprise' });
    if (user.role === 'enterprise' && user.jurisdiction) throw new HazwatchError('HW_ERR_VALIDATION', 'jurisdiction: an enterprise user belongs to its enterprise, not to a jurisdiction', { field: 'jurisdiction' });
  }

  async function existing(username: string): Promise<User> {
    const user = await store.get(username);
    if (!user) throw new HazwatchError('HW_ERR_NOT_FOUND', `no user ${username}`);
    return user;
  }

  const store = {
    async get(username: string): Promise<User | undefined> {
      const row = await db.get<UserRow>('select * from users where username = ?', [username]);
      return row ? toUser(row) : undefined;
    },
    async list(): Promise<User[]> {
      return (await db.all<UserRow>('select * from users order by username')).map(toUser);
    },
    async isEmpty(): Promise<boolean> {
      return (await db.get<{ n: number }>('select count(*) as n from users'))!.n === 0;
    },
    async create(user: NewUser): Promise<User> {
      checkUser(user);
      const hash = await hashSecret(user.password, HUMAN_PASSWORD_PARAMS);
      await db.write(async (sql) => {
        if (await sql.get('select 1 as x from users where username = ?', [user.username])) throw new HazwatchError('HW_ERR_CONFLICT', `user ${user.username} already exists`, { field: 'username' });
        await sql.run('insert into users (username, role, enterprise, jurisdiction, display_name, password_hash, created_at) values (?, ?, ?, ?, ?, ?, ?)', [user.username, user.role, user.enterprise ?? null, user.jurisdiction ?? null, user.displayName ?? '', hash, now()]);
      });
      return (await store.get(user.username))!;
    },
    async update(username: string, change: { role?: Role; enterprise?: string | null; jurisdiction?: string | null; displayName?: string }): Promise<User> {
      const user = await existing(username);
      const role = change.role ?? user.role;
      const enterprise = change.enterprise !== undefined ? change.enterprise : role === 'enterprise' ? user.enterprise : null;
      const jurisdiction = change.jurisdiction !== undefined ? change.jurisdiction : role === 'enterprise' ? null : user.jurisdiction;
      checkUser({ username, role, enterprise, jurisdiction });
      await db.write(async (sql) => {
        await sql.run('update users set role = ?, enterprise = ?, jurisdiction = ?, display_name = ? where username = ?', [role, enterprise, jurisdiction, change.displayName ?? user.displayName, username]);
        // A changed role or scope takes effect now, not at the next login.
        await deleteSessionsOf(sql, username);
      });
      return (await store.get(username))!;
    },
    async setPassword(username: string, password: string): Promise<void> {
      await existing(username);
      const hash = await hashSecret(password, HUMAN_PASSWORD_PARAMS);
      await db.write(async (sql) => {
        await sql.run('update users set password_hash = ? where username = ?', [hash, username]);
        await deleteSessionsOf(sql, username);
      });
    },
    async setDisabled(username: string, disabled: boolean): Promise<User> {
      await existing(username);
      await db.write(async (sql) => {
        if (disabled) {
          await sql.run('update users set disabled_at = ? where username = ? and disabled_at is null', [now(), username]);
          await deleteSessionsOf(sql, username);
        } else await sql.run('update users set disabled_at = null where username = ?', [username]);
      });
      return (await store.get(username))!;
    },
    /** Checks a password; returns the user, or undefined for a wrong name, password, or a disabled account. */
    async authenticate(username: string, password: string): Promise<User | undefined> {
      const row = await db.get<UserRow>('select * from users where username = ?', [username]);
      // Hash anyway for an unknown user, so the answer time does not tell which names exist.
      const ok = await verifySecret(password, row?.password_hash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
      if (!row || !ok || row.disabled_at !== null) return undefined;
      return toUser(row);
    },
    async openSession(username: string): Promise<{ token: string; expiresAt: number }> {
      const token = randomBytes(32).toString('base64url');
      const t = now();
      const expiresAt = t + options.sessionTtlMs;
      await db.write(async (sql) => {
        await sql.run('delete from sessions where expires_at <= ?', [t]);
        await sql.run('insert into sessions (token_hash, username, created_at, expires_at) values (?, ?, ?, ?)', [tokenHash(token), username, t, expiresAt]);
      });
      return { token, expiresAt };
    },
    /** The session of a token, extended (sliding expiry) while in use; undefined when unknown or expired. */
    async session(token: string): Promise<Session | undefined> {
      const hash = tokenHash(token);
      const row = await db.get<UserRow & { expires_at: number }>('select s.expires_at, u.* from sessions s join users u on u.username = s.username where s.token_hash = ?', [hash]);
      if (!row) return undefined;
      const t = now();
      if (row.expires_at <= t || row.disabled_at !== null) {
        await db.write((sql) => sql.run('delete from sessions where token_hash = ?', [hash]));
        return undefined;
      }
      let expiresAt = row.expires_at;
      // Extend at most once a minute: no write per request.
      if (t + options.sessionTtlMs - expiresAt > 60_000) {
        expiresAt = t + options.sessionTtlMs;
        await db.write((sql) => sql.run('update sessions set expires_at = ? where token_hash = ?', [expiresAt, hash]));
      }
      return { user: toUser(row), expiresAt };
    },
    async closeSession(token: string): Promise<void> {
      await db.write((sql) => sql.run('delete from sessions where token_hash = ?', [tokenHash(token)]));
    },
    async audit(entry: Omit<AuditEntry, 'seq' | 'at' | 'detail'> & { detail?: Record<string, unknown> | null }): Promise<void> {
      const { username, role, enterprise, action, method, path, status, target, ip } = entry;
      await db.write((sql) =>
        sql.run(
          'insert into audit (at, username, role, enterprise, action, method, path, status, target, detail, ip) values (@at, @username, @role, @enterprise, @action, @method, @path, @status, @target, @detail, @ip)',
          { at: now(), username, role, enterprise, action, method, path, status, target, ip, detail: entry.detail ? JSON.stringify(entry.detail) : null },
        ),
      );
    },
    /** `enterprises`: only entries about these (a jurisdiction's scope; empty: none). */
    async auditLog(filter: { from?: number; to?: number; username?: string; enterprise?: string; enterprises?: readonly string[]; action?: string; limit?: number; beforeSeq?: number }): Promise<AuditEntry[]> {
      const where: string[] = [];
      const args: Record<string, unknown> = {};
      if (filter.from !== undefined) (where.push('at >= @from'), (args.from = filter.from));
      if (filter.to !== undefined) (where.push('at <= @to'), (args.to = filter.to));
      if (filter.username) (where.push('username = @username'), (args.username = filter.username));
      if (filter.enterprise) (where.push('enterprise = @enterprise'), (args.enterprise = filter.enterprise));
      if (filter.enterprises) {
        where.push(filter.enterprises.length ? `enterprise in (${filter.enterprises.map((_, i) => `@e${i}`).join(', ')})` : '1 = 0');
        filter.enterprises.forEach((e, i) => (args[`e${i}`] = e));
      }
      if (filter.action) (where.push('action = @action'), (args.action = filter.action));
      if (filter.beforeSeq !== undefined) (where.push('seq < @beforeSeq'), (args.beforeSeq = filter.beforeSeq));
      args.limit = filter.limit ?? 200;
      const rows = await db.all<Omit<AuditEntry, 'detail'> & { detail: string | null }>(`select * from audit ${where.length ? 'where ' + where.join(' and ') : ''} order by seq desc limit @limit`, args);
      return rows.map((r) => ({ ...r, detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null }));
    },
    async close(): Promise<void> {
      await db.close();
    },
  };
  return store;
}
