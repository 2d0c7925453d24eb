// Console and API accounts, their sessions, and the audit log, in one SQLite file (<dataDir>/api.db).
// Passwords are chosen by people: scrypt with the human-password cost. Session tokens are random
// 256-bit strings stored only as SHA-256 hashes, so a copy of the file does not let anyone sign in.
// The audit table is append-only: triggers refuse UPDATE and DELETE.
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { HazwatchError } from '../contract/errors.ts';
import { isValidId } from '../contract/topics.ts';
import { HUMAN_PASSWORD_PARAMS, hashSecret, verifySecret } from '../registry/secrets.ts';
export const ROLES = ['operator', 'supervisor', 'administrator', 'enterprise'];
const SCHEMA = `
create table if not exists users (
  username text primary key,
  role text not null check (role in ('operator', 'supervisor', 'administrator', 'enterprise')),
  enterprise text,
  display_name text not null default '',
  password_hash text not null,
  created_at integer not null,
  disabled_at integer,
  check ((role = 'enterprise') = (enterprise is not null))
);
create table if not exists sessions (
  token_hash text primary key,
  username text not null references users(username),
  created_at integer not null,
  expires_at integer not null
);
create index if not exists sessions_expiry on sessions(expires_at);
create table if not exists audit (
  seq integer primary key autoincrement,
  at integer not null,
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
create trigger if not exists audit_no_update before update on audit begin select raise(abort, 'audit log is append-only'); end;
create trigger if not exists audit_no_delete before delete on audit begin select raise(abort, 'audit log is append-only'); end;
`;
function toUser(row) {
    return { username: row.username, role: row.role, enterprise: row.enterprise, displayName: row.display_name, createdAt: row.created_at, disabledAt: row.disabled_at };
}
function tokenHash(token) {
    return createHash('sha256').update(token).digest('base64url');
}
export function openAccounts(path, options) {
    const now = options.now ?? Date.now;
    if (path !== ':memory:')
        mkdirSync(dirname(path), { recursive: true });
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 5000');
    db.pragma('foreign_keys = ON');
    db.exec(SCHEMA);
    const stmt = {
        user: db.prepare('select * from users where username = ?'),
        users: db.prepare('select * from users order by username'),
        count: db.prepare('select count(*) as n from users'),
        insertUser: db.prepare('insert into users (username, role, enterprise, display_name, password_hash, created_at) values (?, ?, ?, ?, ?, ?)'),
        setPassword: db.prepare('update users set password_hash = ? where username = ?'),
        setRole: db.prepare('update users set role = ?, enterprise = ?, display_name = ? where username = ?'),
        disable: db.prepare('update users set disabled_at = ? where username = ? and disabled_at is null'),
        enable: db.prepare('update users set disabled_at = null where username = ?'),
        insertSession: db.prepare('insert into sessions (token_hash, username, created_at, expires_at) values (?, ?, ?, ?)'),
        session: db.prepare('select s.expires_at, u.* from sessions s join users u on u.username = s.username where s.token_hash = ?'),
        touch: db.prepare('update sessions set expires_at = ? where token_hash = ?'),
        deleteSession: db.prepare('delete from sessions where token_hash = ?'),
        deleteSessionsOf: db.prepare('delete from sessions where username = ?'),
        purge: db.prepare('delete from sessions where expires_at <= ?'),
        audit: db.prepare('insert into audit (at, username, role, enterprise, action, method, path, status, target, detail, ip) values (@at, @username, @role, @enterprise, @action, @method, @path, @status, @target, @detail, @ip)'),
    };
    function checkUser(user) {
        if (!isValidId(user.username))
            throw new HazwatchError('HW_ERR_VALIDATION', 'username: letters, digits, _ . -, at most 64', { field: 'username' });
        if (user.role === 'enterprise' && !user.enterprise)
            throw new HazwatchError('HW_ERR_VALIDATION', 'enterprise: required for role enterprise', { field: 'enterprise' });
        if (user.role !== 'enterprise' && user.enterprise)
            throw new HazwatchError('HW_ERR_VALIDATION', 'enterprise: only enterprise users belong to an enterprise', { field: 'enterprise' });
    }
    const store = {
        get(username) {
            const row = stmt.user.get(username);
            return row ? toUser(row) : undefined;
        },
        list() {
            return stmt.users.all().map(toUser);
        },
        isEmpty() {
            return stmt.count.get().n === 0;
        },
        async create(user) {
            checkUser(user);
            if (store.get(user.username))
                throw new HazwatchError('HW_ERR_CONFLICT', `user ${user.username} already exists`, { field: 'username' });
            const hash = await hashSecret(user.password, HUMAN_PASSWORD_PARAMS);
            stmt.insertUser.run(user.username, user.role, user.enterprise ?? null, user.displayName ?? '', hash, now());
            return store.get(user.username);
        },
        update(username, change) {
            const user = store.get(username);
            if (!user)
                throw new HazwatchError('HW_ERR_NOT_FOUND', `no user ${username}`);
            const role = change.role ?? user.role;
            const enterprise = change.enterprise !== undefined ? change.enterprise : role === 'enterprise' ? user.enterprise : null;
            checkUser({ username, role, enterprise });
            stmt.setRole.run(role, enterprise, change.displayName ?? user.displayName, username);
            // A changed role or scope takes effect now, not at the next login.
            stmt.deleteSessionsOf.run(username);
            return store.get(username);
        },
        async setPassword(username, password) {
            if (!store.get(username))
                throw new HazwatchError('HW_ERR_NOT_FOUND', `no user ${username}`);
            stmt.setPassword.run(await hashSecret(password, HUMAN_PASSWORD_PARAMS), username);
            stmt.deleteSessionsOf.run(username);
        },
        setDisabled(username, disabled) {
            if (!store.get(username))
                throw new HazwatchError('HW_ERR_NOT_FOUND', `no user ${username}`);
            if (disabled) {
                stmt.disable.run(now(), username);
                stmt.deleteSessionsOf.run(username);
            }
            else
                stmt.enable.run(username);
            return store.get(username);
        },
        /** Checks a password; returns the user, or undefined for a wrong name, password, or a disabled account. */
        async authenticate(username, password) {
            const row = stmt.user.get(username);
            // Hash anyway for an unknown user, so the answer time does not tell which names exist.
            const ok = await verifySecret(password, row?.password_hash ?? 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
            if (!row || !ok || row.disabled_at !== null)
                return undefined;
            return toUser(row);
        },
        openSession(username) {
            const token = randomBytes(32).toString('base64url');
            const expiresAt = now() + options.sessionTtlMs;
            stmt.purge.run(now());
            stmt.insertSession.run(tokenHash(token), username, now(), expiresAt);
            return { token, expiresAt };
        },
        /** The session of a token, extended (sliding expiry) while in use; undefined when unknown or expired. */
        session(token) {
            const hash = tokenHash(token);
            const row = stmt.session.get(hash);
            if (!row)
                return undefined;
            const t = now();
            if (row.expires_at <= t || row.disabled_at !== null) {
                stmt.deleteSession.run(hash);
                return undefined;
            }
            let expiresAt = row.expires_at;
            // Extend at most once a minute: no write per request.
            if (t + options.sessionTtlMs - expiresAt > 60000) {
                expiresAt = t + options.sessionTtlMs;
                stmt.touch.run(expiresAt, hash);
            }
            return { user: toUser(row), expiresAt };
        },
        closeSession(token) {
            stmt.deleteSession.run(tokenHash(token));
        },
        audit(entry) {
            stmt.audit.run({ ...entry, at: now(), detail: entry.detail ? JSON.stringify(entry.detail) : null });
        },
        auditLog(filter) {
            const where = [];
            const args = {};
            if (filter.from !== undefined)
                (where.push('at >= @from'), (args.from = filter.from));
            if (filter.to !== undefined)
                (where.push('at <= @to'), (args.to = filter.to));
            if (filter.username)
                (where.push('username = @username'), (args.username = filter.username));
            if (filter.enterprise)
                (where.push('enterprise = @enterprise'), (args.enterprise = filter.enterprise));
            if (filter.action)
                (where.push('action = @action'), (args.action = filter.action));
            if (filter.beforeSeq !== undefined)
                (where.push('seq < @beforeSeq'), (args.beforeSeq = filter.beforeSeq));
            args.limit = filter.limit ?? 200;
            const rows = db
                .prepare(`select * from audit ${where.length ? 'where ' + where.join(' and ') : ''} order by seq desc limit @limit`)
                .all(args);
            return rows.map((r) => ({ ...r, detail: r.detail ? JSON.parse(r.detail) : null }));
        },
        close() {
            db.close();
        },
    };
    return store;
}
