// The registry of enterprises, devices and MQTT accounts: one SQLite file shared by the processes of a
// machine, or one PostgreSQL database shared by every node. The API and `hazwatch device` write it;
// the broker, ingest and rules read it and pick changes up within a second, without a restart.
import { createHash } from 'node:crypto';
import { ConnectionSettings, isDeviceClass, isValidId, PLATFORM_ENTERPRISE, type DeviceClass } from '../contract/index.ts';
import type { Logger } from '../core/log.ts';
import { openDatabase, type Schema, type Sql } from '../core/sql.ts';
import { checkLatLon, type LatLon } from './geo.ts';
import { DEVICE_SECRET_PARAMS, generateSecret, hashSecret, verifySecret } from './secrets.ts';

export type AccountKind = 'device' | 'gateway' | 'service';

export interface DeviceRecord {
  enterprise: string;
  id: string;
  class: DeviceClass;
  name: string;
  site: string;
  hazardSource: string | null;
  /** Expected reporting interval in seconds; null = the class default. */
  intervalSeconds: number | null;
  /** Free-form attributes (e.g. the gas of a toxic gas detector, the rated current of a circuit). */
  meta: Record<string, unknown>;
  /** How it connects (contract/presence.ts); null or a field left out = its class default. */
  connection: ConnectionSettings | null;
  createdAt: number;
  revokedAt: number | null;
}

export interface Account {
  username: string;
  kind: AccountKind;
  enterprise: string | null;
  device: string | null;
  createdAt: number;
  revokedAt: number | null;
  /** Changes whenever the password is set again (rotated): sessions opened with an older one are closed. */
  secretVersion: string;
}

export interface Credentials {
  username: string;
  password: string;
  /** Client id the account must connect with (or a `<clientId>:<suffix>` of it). */
  clientId: string;
}

export interface NewDevice {
  enterprise: string;
  id: string;
  class: DeviceClass;
  name?: string;
  site?: string;
  hazardSource?: string | null;
  intervalSeconds?: number | null;
  meta?: Record<string, unknown>;
  connection?: ConnectionSettings | null;
}

/** When a device was last heard from and how the platform judges it, as rules last wrote it. */
export interface PresenceRecord {
  enterprise: string;
  device: string;
  state: 'online' | 'offline';
  reason: string | null;
  /** null: not heard from since the rules process started watching. */
  heardAt: number | null;
  nextExpectedAt: number;
  offlineAt: number;
  updatedAt: number;
}

export type VerifyResult = 'ok' | 'bad' | 'revoked' | 'unknown';

const SCHEMA: Schema = {
  tables: `
create table if not exists enterprises (
  id text primary key,
  name text not null,
  created_at bigint not null
);
create table if not exists devices (
  enterprise text not null references enterprises(id),
  id text not null,
  class text not null,
  name text not null default '',
  site text not null default '',
  hazard_source text,
  interval_s integer,
  meta text not null default '{}',
  connection text,
  created_at bigint not null,
  revoked_at bigint,
  primary key (enterprise, id)
);
create table if not exists accounts (
  username text primary key,
  kind text not null check (kind in ('device', 'gateway', 'service')),
  enterprise text,
  device text,
  secret_hash text not null,
  created_at bigint not null,
  revoked_at bigint
);
create table if not exists revision (
  id integer primary key check (id = 1),
  n bigint not null
);
insert into revision (id, n) values (1, 0) on conflict do nothing;
create table if not exists presence (
  enterprise text not null,
  device text not null,
  state text not null,
  reason text,
  heard_at bigint,
  next_expected_at bigint not null,
  offline_at bigint not null,
  updated_at bigint not null,
  primary key (enterprise, device)
);
`,
  // Columns added after a registry may have been created. `rev`: the revision that last changed the
  // row, so that every process follows the changes of others by reading only what changed.
  addedColumns: [
    ['devices', 'connection', 'text'],
    ['enterprises', 'rev', 'bigint not null default 0'],
    ['devices', 'rev', 'bigint not null default 0'],
    ['accounts', 'rev', 'bigint not null default 0'],
    // Where the enterprise is (WGS-84, decimal degrees), for the map (issue 17); null: not known.
    ['enterprises', 'lat', 'double precision'],
    ['enterprises', 'lon', 'double precision'],
  ],
};

function checkConnection(c: ConnectionSettings | null | undefined): string | null {
  if (c === null || c === undefined) return null;
  const parsed = ConnectionSettings.safeParse(c);
  if (!parsed.success) throw new Error(`connection: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'} ${i.message}`).join('; ')}`);
  return Object.keys(parsed.data).length ? JSON.stringify(parsed.data) : null;
}

function checkInterval(seconds: number | null | undefined): number | null {
  if (seconds === null || seconds === undefined) return null;
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 7 * 86_400) throw new Error(`reporting interval ${seconds} s: expected whole seconds from 1 to 604800 (a week)`);
  return seconds;
}

export function deviceUsername(enterprise: string, device: string): string {
  return `${enterprise}/${device}`;
}

export function serviceUsername(name: string): string {
  return `svc:${name}`;
}

function assertId(what: string, id: string): void {
  if (!isValidId(id)) throw new Error(`${what} "${id}" is not a valid id (letters, digits, _ . -, at most 64, starting with a letter or digit)`);
  if (what === 'enterprise' && id === PLATFORM_ENTERPRISE) throw new Error(`enterprise "${id}" is reserved for alarms about the platform itself`);
}

type DeviceRow = {
  enterprise: string;
  id: string;
  class: string;
  name: string;
  site: string;
  hazard_source: string | null;
  interval_s: number | null;
  meta: string;
  connection: string | null;
  created_at: number;
  revoked_at: number | null;
};

function toDevice(row: DeviceRow): DeviceRecord {
  return {
    enterprise: row.enterprise,
    id: row.id,
    class: row.class as DeviceClass,
    name: row.name,
    site: row.site,
    hazardSource: row.hazard_source,
    intervalSeconds: row.interval_s,
    meta: JSON.parse(row.meta) as Record<string, unknown>,
    connection: row.connection ? (JSON.parse(row.connection) as ConnectionSettings) : null,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

type AccountRow = { username: string; kind: AccountKind; enterprise: string | null; device: string | null; secret_hash: string; created_at: number; revoked_at: number | null };

type PresenceRow = { enterprise: string; device: string; state: 'online' | 'offline'; reason: string | null; heard_at: number | null; next_expected_at: number; offline_at: number; updated_at: number };

function toPresence(r: PresenceRow): PresenceRecord {
  return { enterprise: r.enterprise, device: r.device, state: r.state, reason: r.reason, heardAt: r.heard_at, nextExpectedAt: r.next_expected_at, offlineAt: r.offline_at, updatedAt: r.updated_at };
}

/** A fingerprint of the stored secret (of its salted hash): tells that it changed, reveals nothing of it. */
function secretVersionOf(secretHash: string): string {
  return createHash('sha256').update(secretHash).digest('base64url').slice(0, 16);
}

function toAccount(row: AccountRow): Account {
  return { username: row.username, kind: row.kind, enterprise: row.enterprise, device: row.device, createdAt: row.created_at, revokedAt: row.revoked_at, secretVersion: secretVersionOf(row.secret_hash) };
}

export interface Enterprise {
  id: string;
  name: string;
  createdAt: number;
  /** WGS-84 position in decimal degrees (registry/geo.ts); absent: not known. */
  lat?: number;
  lon?: number;
}

const UPSERT_ENTERPRISE = 'insert into enterprises (id, name, created_at, rev) values (?, ?, ?, ?) on conflict(id) do update set name = excluded.name, rev = excluded.rev';
const UPSERT_DEVICE = `insert into devices (enterprise, id, class, name, site, hazard_source, interval_s, meta, connection, created_at, rev)
  values (@enterprise, @id, @class, @name, @site, @hazardSource, @intervalSeconds, @meta, @connection, @createdAt, @rev)
  on conflict(enterprise, id) do update set class = excluded.class, name = excluded.name, site = excluded.site,
    hazard_source = excluded.hazard_source, interval_s = excluded.interval_s, meta = excluded.meta,
    connection = excluded.connection, revoked_at = null, rev = excluded.rev`;
const UPSERT_ACCOUNT = `insert into accounts (username, kind, enterprise, device, secret_hash, created_at, rev) values (?, ?, ?, ?, ?, ?, ?)
  on conflict(username) do update set kind = excluded.kind, enterprise = excluded.enterprise, device = excluded.device,
    secret_hash = excluded.secret_hash, revoked_at = null, rev = excluded.rev`;
const PRESENCE_FIELDS = ['enterprise', 'device', 'state', 'reason', 'heardAt', 'nextExpectedAt', 'offlineAt', 'updatedAt'] as const;
/**
 * The presence upsert in a few fixed numbers of rows, each prepared once. Several rows a statement, because rules
 * writes thousands every few seconds: one statement a row cost a crossing into SQLite each, and on
 * PostgreSQL a round trip each while the registry's write lock is held.
 */
const UPSERT_PRESENCE = [50, 10, 1].map((rows) => ({
  rows,
  text: `insert into presence (enterprise, device, state, reason, heard_at, next_expected_at, offline_at, updated_at)
  values ${Array(rows).fill('(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}
  on conflict(enterprise, device) do update set state = excluded.state, reason = excluded.reason, heard_at = coalesce(excluded.heard_at, presence.heard_at),
    next_expected_at = excluded.next_expected_at, offline_at = excluded.offline_at, updated_at = excluded.updated_at`,
}));

export interface RegistryOptions {
  now?: () => number;
  log?: Logger;
}

export type Registry = Awaited<ReturnType<typeof openRegistry>>;

/**
 * Opens the registry: a SQLite file (the processes of one machine) or a PostgreSQL database (every
 * node). Each process keeps the enterprises, devices and accounts in memory, so the hot path reads
 * them without a query; it follows the changes other processes make when pollChanges() is called
 * (every second by the services), reading only the rows whose revision is newer than its own.
 */
export async function openRegistry(target: string, options: RegistryOptions = {}) {
  const now = options.now ?? Date.now;
  const db = await openDatabase(target, { lock: 'registry', log: options.log, schema: SCHEMA });

  const enterprises = new Map<string, Enterprise>();
  const devices = new Map<string, DeviceRecord>();
  const accounts = new Map<string, Account>();
  let seen = -1;
  const listeners = new Set<() => void>();
  let polling: Promise<boolean> | undefined;
  let closed = false;

  /** Applies every row changed since the last call; true when something changed. */
  async function refresh(): Promise<boolean> {
    if (closed) return false;
    const n = (await db.get<{ n: number }>('select n from revision where id = 1'))!.n;
    if (n === seen) return false;
    const [e, d, a] = await Promise.all([
      db.all<{ id: string; name: string; created_at: number; lat: number | null; lon: number | null }>('select id, name, created_at, lat, lon from enterprises where rev > ?', [seen]),
      db.all<DeviceRow>('select * from devices where rev > ?', [seen]),
      db.all<AccountRow>('select * from accounts where rev > ?', [seen]),
    ]);
    for (const r of e) enterprises.set(r.id, { id: r.id, name: r.name, createdAt: r.created_at, ...(r.lat !== null && r.lon !== null ? { lat: r.lat, lon: r.lon } : {}) });
    for (const r of d) devices.set(`${r.enterprise}/${r.id}`, toDevice(r));
    for (const r of a) accounts.set(r.username, toAccount(r));
    seen = n;
    for (const listener of listeners) listener();
    return true;
  }

  function pollChanges(): Promise<boolean> {
    polling ??= refresh().finally(() => (polling = undefined));
    return polling;
  }

  /** A change of devices or accounts: bumps the revision its rows carry, then updates this process's view. */
  async function change<R>(fn: (sql: Sql, rev: number) => Promise<R>): Promise<R> {
    const result = await db.write(async (sql) => {
      await sql.run('update revision set n = n + 1 where id = 1');
      const rev = (await sql.get<{ n: number }>('select n from revision where id = 1'))!.n;
      return fn(sql, rev);
    });
    // A poll already running may have read the revision before this change: the next one sees it.
    await polling?.catch(() => undefined);
    await pollChanges();
    return result;
  }

  await refresh();

  async function setSecret(username: string, kind: AccountKind, enterprise: string | null, device: string | null, password: string): Promise<void> {
    const hash = await hashSecret(password, DEVICE_SECRET_PARAMS);
    await change((sql, rev) => sql.run(UPSERT_ACCOUNT, [username, kind, enterprise, device, hash, now(), rev]));
  }

  const registry = {
    /** Where it lives, password masked. */
    where: db.where,
    dialect: db.dialect,

    async addEnterprise(id: string, name = id): Promise<void> {
      assertId('enterprise', id);
      await change((sql, rev) => sql.run(UPSERT_ENTERPRISE, [id, name, now(), rev]));
    },

    /** Sets (or with null clears) where the enterprise is; false when there is no such enterprise. */
    async setEnterpriseLocation(id: string, position: LatLon | null): Promise<boolean> {
      const p = checkLatLon(position?.lat, position?.lon);
      return change(async (sql, rev) => (await sql.run('update enterprises set lat = ?, lon = ?, rev = ? where id = ?', [p?.lat ?? null, p?.lon ?? null, rev, id])) > 0);
    },

    enterprise(id: string): Enterprise | undefined {
      return enterprises.get(id);
    },

    enterprises(): Enterprise[] {
      return [...enterprises.values()].sort((x, y) => x.id.localeCompare(y.id));
    },

    /** Registers (or re-registers) a device and issues new credentials; the password is returned once. */
    async addDevice(device: NewDevice): Promise<Credentials> {
      return (await registry.addDevices([device]))[0];
    },

    /** Registers many devices in one transaction; for fleets and simulators. */
    async addDevices(list: NewDevice[]): Promise<Credentials[]> {
      const rows = list.map((device) => {
        assertId('enterprise', device.enterprise);
        assertId('device', device.id);
        if (!isDeviceClass(device.class)) throw new Error(`unknown device class "${device.class}"`);
        return {
          enterprise: device.enterprise,
          id: device.id,
          class: device.class,
          name: device.name ?? '',
          site: device.site ?? '',
          hazardSource: device.hazardSource ?? null,
          intervalSeconds: checkInterval(device.intervalSeconds),
          meta: JSON.stringify(device.meta ?? {}),
          connection: checkConnection(device.connection),
          createdAt: now(),
        };
      });
      const secrets = await Promise.all(rows.map(async () => {
        const password = generateSecret();
        return { password, hash: await hashSecret(password, DEVICE_SECRET_PARAMS) };
      }));
      return change(async (sql, rev) => {
        const out: Credentials[] = [];
        for (const [i, row] of rows.entries()) {
          await sql.run('insert into enterprises (id, name, created_at, rev) values (?, ?, ?, ?) on conflict(id) do nothing', [row.enterprise, row.enterprise, now(), rev]);
          await sql.run(UPSERT_DEVICE, { ...row, rev });
          const username = deviceUsername(row.enterprise, row.id);
          await sql.run(UPSERT_ACCOUNT, [username, 'device', row.enterprise, row.id, secrets[i].hash, now(), rev]);
          out.push({ username, password: secrets[i].password, clientId: username });
        }
        return out;
      });
    },

    /** An enterprise gateway account: it may publish for every device of its enterprise. */
    async addGateway(enterprise: string, id: string): Promise<Credentials> {
      assertId('enterprise', enterprise);
      assertId('gateway', id);
      if (!registry.enterprise(enterprise)) await registry.addEnterprise(enterprise);
      const username = deviceUsername(enterprise, id);
      const existing = registry.account(username);
      if (existing && existing.kind === 'device') throw new Error(`${username} is a device, not a gateway`);
      const password = generateSecret();
      await setSecret(username, 'gateway', enterprise, null, password);
      return { username, password, clientId: username };
    },

    /** A platform service account (ingest, rules, api, ...): reads every device topic. */
    async setService(name: string, password: string = generateSecret()): Promise<Credentials> {
      assertId('service', name);
      const username = serviceUsername(name);
      await setSecret(username, 'service', null, null, password);
      return { username, password, clientId: username };
    },

    /** New secret for an existing account; the old one stops working at the next connection. */
    async rotate(username: string): Promise<Credentials> {
      const account = registry.account(username);
      if (!account) throw new Error(`no account ${username}`);
      const password = generateSecret();
      await setSecret(username, account.kind, account.enterprise, account.device, password);
      return { username, password, clientId: username };
    },

    /** Changes a device's attributes without touching its credentials; undefined when it does not exist. */
    async updateDevice(enterprise: string, id: string, patch: Partial<Pick<DeviceRecord, 'name' | 'site' | 'hazardSource' | 'intervalSeconds' | 'meta' | 'connection'>>): Promise<DeviceRecord | undefined> {
      const current = registry.device(enterprise, id);
      if (!current) return undefined;
      const next = { ...current, ...patch };
      const interval = checkInterval(next.intervalSeconds);
      const connection = checkConnection(next.connection);
      await change((sql, rev) =>
        sql.run('update devices set name = ?, site = ?, hazard_source = ?, interval_s = ?, meta = ?, connection = ?, rev = ? where enterprise = ? and id = ?', [
          next.name, next.site, next.hazardSource, interval, JSON.stringify(next.meta), connection, rev, enterprise, id,
        ]),
      );
      return registry.device(enterprise, id);
    },

    /**
     * Rules' judgement of devices' presence, written in batches; not a change listeners hear of. At most one
     * record per device (a statement may not update a row twice).
     */
    async writePresence(records: PresenceRecord[]): Promise<void> {
      if (!records.length) return;
      await db.write(async (sql) => {
        let at = 0;
        for (const { rows, text } of UPSERT_PRESENCE) {
          for (; records.length - at >= rows; at += rows) {
            const values: unknown[] = [];
            for (let i = at; i < at + rows; i++) for (const f of PRESENCE_FIELDS) values.push(records[i][f]);
            await sql.run(text, values);
          }
        }
      });
    },

    async presence(enterprise: string, device: string): Promise<PresenceRecord | undefined> {
      const row = await db.get<PresenceRow>('select * from presence where enterprise = ? and device = ?', [enterprise, device]);
      return row ? toPresence(row) : undefined;
    },

    async presences(): Promise<PresenceRecord[]> {
      return (await db.all<PresenceRow>('select * from presence order by enterprise, device')).map(toPresence);
    },

    device(enterprise: string, id: string): DeviceRecord | undefined {
      return devices.get(`${enterprise}/${id}`);
    },

    devices(enterprise?: string): DeviceRecord[] {
      const all = [...devices.values()].filter((d) => enterprise === undefined || d.enterprise === enterprise);
      return all.sort((x, y) => (x.enterprise === y.enterprise ? x.id.localeCompare(y.id) : x.enterprise.localeCompare(y.enterprise)));
    },

    account(username: string): Account | undefined {
      return accounts.get(username);
    },

    accounts(): Account[] {
      return [...accounts.values()].sort((x, y) => x.username.localeCompare(y.username));
    },

    /** Revokes a device and its credentials; its history stays. */
    async revokeDevice(enterprise: string, id: string): Promise<boolean> {
      const at = now();
      return change(async (sql, rev) => {
        const a = await sql.run('update devices set revoked_at = ?, rev = ? where enterprise = ? and id = ? and revoked_at is null', [at, rev, enterprise, id]);
        const b = await sql.run('update accounts set revoked_at = ?, rev = ? where username = ? and revoked_at is null', [at, rev, deviceUsername(enterprise, id)]);
        return a + b > 0;
      });
    },

    async revokeAccount(username: string): Promise<boolean> {
      const at = now();
      return change(async (sql, rev) => (await sql.run('update accounts set revoked_at = ?, rev = ? where username = ? and revoked_at is null', [at, rev, username])) > 0);
    },

    /** Checks against the stored hash, read fresh: a rotation or revocation counts from the next connection. */
    async verify(username: string, password: string): Promise<VerifyResult> {
      return (await registry.verifyVersion(username, password)).result;
    },

    /** verify(), and the version of the secret that matched (Account.secretVersion), read together. */
    async verifyVersion(username: string, password: string): Promise<{ result: VerifyResult; secretVersion?: string }> {
      const row = await db.get<AccountRow>('select * from accounts where username = ?', [username]);
      if (!row) return { result: 'unknown' };
      if (row.revoked_at !== null) return { result: 'revoked' };
      return (await verifySecret(password, row.secret_hash)) ? { result: 'ok', secretVersion: secretVersionOf(row.secret_hash) } : { result: 'bad' };
    },

    /** Reads what other processes changed; true when devices, accounts or enterprises changed. */
    pollChanges,

    /** Called after any change seen by pollChanges(); returns a function that removes the listener. */
    onChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** The database, for stores that keep tables beside the registry's (hazard sources, site plan). */
    database: db,

    async close(): Promise<void> {
      closed = true;
      listeners.clear();
      await polling?.catch(() => undefined);
      await db.close();
    },
  };
  return registry;
}

/**
 * A read-through, in-memory view of the devices for the hot path (broker, ingest, rules): lookups cost
 * a map access; the view reloads when the registry file changes, checked at most once per `checkMs`.
 */
export function deviceDirectory(registry: Registry, options: { checkMs?: number; now?: () => number } = {}) {
  const checkMs = options.checkMs ?? 1000;
  const now = options.now ?? Date.now;
  // By enterprise, then id: the hot path looks devices up with the topic's own (remembered) strings,
  // whose hashes V8 keeps, instead of hashing a key string built per message.
  let devices = new Map<string, Map<string, DeviceRecord>>();
  let checkedAt = -Infinity;
  const load = () => {
    const next = new Map<string, Map<string, DeviceRecord>>();
    for (const d of registry.devices()) {
      let ofEnterprise = next.get(d.enterprise);
      if (!ofEnterprise) next.set(d.enterprise, (ofEnterprise = new Map()));
      ofEnterprise.set(d.id, d);
    }
    devices = next;
  };
  load();
  registry.onChange(load);
  let lastOf: typeof devices | undefined;
  let lastEnterprise = '';
  let lastId = '';
  let lastDevice: DeviceRecord | undefined;
  return {
    /** The active (not revoked) device, or undefined. */
    get(enterprise: string, id: string): DeviceRecord | undefined {
      const t = now();
      if (t - checkedAt >= checkMs) {
        checkedAt = t;
        void registry.pollChanges().catch(() => undefined);
      }
      // The same device twice in a row (the sender check, then the handler): two string comparisons
      // instead of two probes of maps that are seldom in the CPU's caches (see contract/topics.ts).
      if (id !== lastId || enterprise !== lastEnterprise || lastOf !== devices) {
        lastOf = devices;
        lastEnterprise = enterprise;
        lastId = id;
        lastDevice = devices.get(enterprise)?.get(id);
      }
      const device = lastDevice;
      return device && device.revokedAt === null ? device : undefined;
    },
    all(): DeviceRecord[] {
      const out: DeviceRecord[] = [];
      for (const ofEnterprise of devices.values()) for (const d of ofEnterprise.values()) out.push(d);
      return out;
    },
    /** True for an active enterprise gateway account: its own status is stored, not refused. */
    gateway(enterprise: string, id: string): boolean {
      const account = registry.account(deviceUsername(enterprise, id));
      return account?.kind === 'gateway' && account.revokedAt === null;
    },
  };
}

/**
 * Wraps a message handler so that a device registered a moment ago is known when its first messages
 * arrive: when `known` says no (and the registry was not just read for that reason), this message and
 * every one after it wait until the registry has been read once more (at most maxWaitMs), then go
 * through in arrival order.
 * Messages of a device that is still unknown after that are handled (and refused) as before.
 * `holding()` is undefined while nothing waits, else resolves once what waits now has been handled.
 */
export function heldForRegistry<A extends unknown[]>(
  registry: Pick<Registry, 'pollChanges'>,
  known: (...args: A) => boolean,
  handle: (...args: A) => void,
  options: { now?: () => number; minGapMs?: number; maxWaitMs?: number } = {},
): ((...args: A) => void) & { holding(): Promise<void> | undefined } {
  const now = options.now ?? Date.now;
  const minGapMs = options.minGapMs ?? 100;
  // With the database unreachable the read may take long: the messages do not wait for it beyond this.
  const maxWaitMs = options.maxWaitMs ?? 2000;
  let held: A[] | undefined;
  let released: Promise<void> | undefined;
  let readAt = -Infinity;
  const handler = (...args: A) => {
    if (held) {
      held.push(args);
      return;
    }
    if (known(...args) || now() - readAt < minGapMs) {
      handle(...args);
      return;
    }
    readAt = now();
    held = [args];
    let timer: NodeJS.Timeout | undefined;
    released = Promise.race([registry.pollChanges().catch(() => false), new Promise((r) => (timer = setTimeout(r, maxWaitMs)))])
      .then(() => {
        clearTimeout(timer);
        const queue = held!;
        held = undefined;
        released = undefined;
        for (const a of queue) handle(...a);
      });
  };
  return Object.assign(handler, { holding: () => released });
}

/**
 * A long-running command whose service reads the registry for its whole life (`hazwatch broker`,
 * `ingest`, `rules`, `api`): the registry closes after the service, or at once when it fails to start.
 */
export async function serveWithRegistry<S extends { close(): Promise<void> }>(
  path: string,
  name: string,
  start: (registry: Registry) => Promise<S>,
): Promise<{ name: string; service: S; close(): Promise<void> }> {
  const registry = await openRegistry(path);
  let service: S;
  try {
    service = await start(registry);
  } catch (err) {
    await registry.close();
    throw err;
  }
  return {
    name,
    service,
    async close() {
      await service.close();
      await registry.close();
    },
  };
}
