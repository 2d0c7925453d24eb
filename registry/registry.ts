// The registry of enterprises, devices and MQTT accounts, in one SQLite file shared by every process
// on a node (WAL mode: one writer, many readers). The API and `hazwatch device` write it; the broker,
// ingest and rules read it and pick changes up within a second, without a restart.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConnectionSettings, isDeviceClass, isValidId, PLATFORM_ENTERPRISE, type DeviceClass } from '../contract/index.ts';
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

const SCHEMA = `
create table if not exists enterprises (
  id text primary key,
  name text not null,
  created_at integer not null
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
  created_at integer not null,
  revoked_at integer,
  primary key (enterprise, id)
);
create table if not exists accounts (
  username text primary key,
  kind text not null check (kind in ('device', 'gateway', 'service')),
  enterprise text,
  device text,
  secret_hash text not null,
  created_at integer not null,
  revoked_at integer
);
create table if not exists revision (
  id integer primary key check (id = 1),
  n integer not null
);
insert or ignore into revision (id, n) values (1, 0);
create table if not exists presence (
  enterprise text not null,
  device text not null,
  state text not null,
  reason text,
  heard_at integer,
  next_expected_at integer not null,
  offline_at integer not null,
  updated_at integer not null,
  primary key (enterprise, device)
);
`;

/** Columns added after a registry file may have been created: [table, column, definition]. */
const MIGRATIONS: [string, string, string][] = [['devices', 'connection', 'text']];

function migrate(db: Database.Database): void {
  for (const [table, column, definition] of MIGRATIONS) {
    const columns = db.prepare(`pragma table_info(${table})`).all() as { name: string }[];
    if (!columns.some((c) => c.name === column)) db.exec(`alter table ${table} add column ${column} ${definition}`);
  }
}

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

function toAccount(row: AccountRow): Account {
  return { username: row.username, kind: row.kind, enterprise: row.enterprise, device: row.device, createdAt: row.created_at, revokedAt: row.revoked_at };
}

export type Registry = ReturnType<typeof openRegistry>;

export function openRegistry(path: string, options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  db.exec(SCHEMA);
  migrate(db);

  const stmt = {
    enterprise: db.prepare('select id, name, created_at as createdAt from enterprises where id = ?'),
    enterprises: db.prepare('select id, name, created_at as createdAt from enterprises order by id'),
    insertEnterprise: db.prepare('insert into enterprises (id, name, created_at) values (?, ?, ?) on conflict(id) do update set name = excluded.name'),
    device: db.prepare('select * from devices where enterprise = ? and id = ?'),
    devices: db.prepare('select * from devices order by enterprise, id'),
    devicesOf: db.prepare('select * from devices where enterprise = ? order by id'),
    insertDevice: db.prepare(
      `insert into devices (enterprise, id, class, name, site, hazard_source, interval_s, meta, connection, created_at)
       values (@enterprise, @id, @class, @name, @site, @hazardSource, @intervalSeconds, @meta, @connection, @createdAt)
       on conflict(enterprise, id) do update set class = excluded.class, name = excluded.name, site = excluded.site,
         hazard_source = excluded.hazard_source, interval_s = excluded.interval_s, meta = excluded.meta,
         connection = excluded.connection, revoked_at = null`,
    ),
    presence: db.prepare('select * from presence where enterprise = ? and device = ?'),
    presences: db.prepare('select * from presence'),
    upsertPresence: db.prepare(
      `insert into presence (enterprise, device, state, reason, heard_at, next_expected_at, offline_at, updated_at)
       values (@enterprise, @device, @state, @reason, @heardAt, @nextExpectedAt, @offlineAt, @updatedAt)
       on conflict(enterprise, device) do update set state = excluded.state, reason = excluded.reason, heard_at = coalesce(excluded.heard_at, presence.heard_at),
         next_expected_at = excluded.next_expected_at, offline_at = excluded.offline_at, updated_at = excluded.updated_at`,
    ),
    revokeDevice: db.prepare('update devices set revoked_at = ? where enterprise = ? and id = ? and revoked_at is null'),
    account: db.prepare('select * from accounts where username = ?'),
    accounts: db.prepare('select * from accounts order by username'),
    upsertAccount: db.prepare(
      `insert into accounts (username, kind, enterprise, device, secret_hash, created_at) values (?, ?, ?, ?, ?, ?)
       on conflict(username) do update set kind = excluded.kind, enterprise = excluded.enterprise, device = excluded.device,
         secret_hash = excluded.secret_hash, revoked_at = null`,
    ),
    revokeAccount: db.prepare('update accounts set revoked_at = ? where username = ? and revoked_at is null'),
  };

  // Devices and accounts count their changes in `revision`, so that rules' presence writes (the same
  // file, every few seconds) do not make every process reload every device.
  const readRevision = db.prepare('select n from revision where id = 1').pluck();
  const bumpRevision = db.prepare('update revision set n = n + 1 where id = 1');
  let dataVersion = db.pragma('data_version', { simple: true }) as number;
  let revision = readRevision.get() as number;
  let localWrites = 0;
  let seenLocalWrites = 0;
  const listeners = new Set<() => void>();

  function changed(): void {
    bumpRevision.run();
    localWrites++;
  }

  /** True when this or another process has changed devices or accounts since the last call. */
  function pollChanges(): boolean {
    const version = db.pragma('data_version', { simple: true }) as number;
    let dirty = localWrites !== seenLocalWrites;
    if (version !== dataVersion) {
      const n = readRevision.get() as number;
      dirty ||= n !== revision;
      revision = n;
    }
    dataVersion = version;
    seenLocalWrites = localWrites;
    if (dirty) for (const listener of listeners) listener();
    return dirty;
  }

  async function setSecret(username: string, kind: AccountKind, enterprise: string | null, device: string | null, password: string): Promise<void> {
    const hash = await hashSecret(password, DEVICE_SECRET_PARAMS);
    stmt.upsertAccount.run(username, kind, enterprise, device, hash, now());
    changed();
  }

  const registry = {
    path,

    addEnterprise(id: string, name = id): void {
      assertId('enterprise', id);
      stmt.insertEnterprise.run(id, name, now());
      changed();
    },

    enterprise(id: string): { id: string; name: string; createdAt: number } | undefined {
      return stmt.enterprise.get(id) as { id: string; name: string; createdAt: number } | undefined;
    },

    enterprises(): { id: string; name: string; createdAt: number }[] {
      return stmt.enterprises.all() as { id: string; name: string; createdAt: number }[];
    },

    /** Registers (or re-registers) a device and issues new credentials; the password is returned once. */
    async addDevice(device: NewDevice): Promise<Credentials> {
      return (await registry.addDevices([device]))[0];
    },

    /** Registers many devices in one transaction; for fleets and simulators. */
    async addDevices(devices: NewDevice[]): Promise<Credentials[]> {
      const secrets = await Promise.all(devices.map(async () => {
        const password = generateSecret();
        return { password, hash: await hashSecret(password, DEVICE_SECRET_PARAMS) };
      }));
      const insert = db.transaction(() =>
        devices.map((device, i) => {
          assertId('enterprise', device.enterprise);
          assertId('device', device.id);
          if (!isDeviceClass(device.class)) throw new Error(`unknown device class "${device.class}"`);
          if (!registry.enterprise(device.enterprise)) stmt.insertEnterprise.run(device.enterprise, device.enterprise, now());
          stmt.insertDevice.run({
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
          });
          const username = deviceUsername(device.enterprise, device.id);
          stmt.upsertAccount.run(username, 'device', device.enterprise, device.id, secrets[i].hash, now());
          return { username, password: secrets[i].password, clientId: username };
        }),
      );
      const out = insert();
      changed();
      return out;
    },

    /** An enterprise gateway account: it may publish for every device of its enterprise. */
    async addGateway(enterprise: string, id: string): Promise<Credentials> {
      assertId('enterprise', enterprise);
      assertId('gateway', id);
      if (!registry.enterprise(enterprise)) registry.addEnterprise(enterprise);
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
    updateDevice(enterprise: string, id: string, change: Partial<Pick<DeviceRecord, 'name' | 'site' | 'hazardSource' | 'intervalSeconds' | 'meta' | 'connection'>>): DeviceRecord | undefined {
      const current = registry.device(enterprise, id);
      if (!current) return undefined;
      const next = { ...current, ...change };
      db.prepare('update devices set name = ?, site = ?, hazard_source = ?, interval_s = ?, meta = ?, connection = ? where enterprise = ? and id = ?').run(
        next.name, next.site, next.hazardSource, checkInterval(next.intervalSeconds), JSON.stringify(next.meta), checkConnection(next.connection), enterprise, id);
      changed();
      return registry.device(enterprise, id);
    },

    /** Rules' judgement of devices' presence, written in batches; not a change listeners hear of. */
    writePresence(records: PresenceRecord[]): void {
      if (!records.length) return;
      db.transaction(() => {
        for (const r of records) stmt.upsertPresence.run(r);
      })();
    },

    presence(enterprise: string, device: string): PresenceRecord | undefined {
      const row = stmt.presence.get(enterprise, device) as PresenceRow | undefined;
      return row ? toPresence(row) : undefined;
    },

    presences(): PresenceRecord[] {
      return (stmt.presences.all() as PresenceRow[]).map(toPresence);
    },

    device(enterprise: string, id: string): DeviceRecord | undefined {
      const row = stmt.device.get(enterprise, id) as DeviceRow | undefined;
      return row ? toDevice(row) : undefined;
    },

    devices(enterprise?: string): DeviceRecord[] {
      const rows = (enterprise ? stmt.devicesOf.all(enterprise) : stmt.devices.all()) as DeviceRow[];
      return rows.map(toDevice);
    },

    account(username: string): Account | undefined {
      const row = stmt.account.get(username) as AccountRow | undefined;
      return row ? toAccount(row) : undefined;
    },

    accounts(): Account[] {
      return (stmt.accounts.all() as AccountRow[]).map(toAccount);
    },

    /** Revokes a device and its credentials; its history stays. */
    revokeDevice(enterprise: string, id: string): boolean {
      const at = now();
      const tx = db.transaction(() => {
        const a = stmt.revokeDevice.run(at, enterprise, id).changes;
        const b = stmt.revokeAccount.run(at, deviceUsername(enterprise, id)).changes;
        return a + b > 0;
      });
      const done = tx();
      changed();
      return done;
    },

    revokeAccount(username: string): boolean {
      const done = stmt.revokeAccount.run(now(), username).changes > 0;
      changed();
      return done;
    },

    async verify(username: string, password: string): Promise<VerifyResult> {
      const row = stmt.account.get(username) as AccountRow | undefined;
      if (!row) return 'unknown';
      if (row.revoked_at !== null) return 'revoked';
      return (await verifySecret(password, row.secret_hash)) ? 'ok' : 'bad';
    },

    pollChanges,

    /** Called after any change seen by pollChanges(); returns a function that removes the listener. */
    onChange(listener: () => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    close(): void {
      listeners.clear();
      db.close();
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
  let devices = new Map<string, DeviceRecord>();
  let checkedAt = -Infinity;
  const load = () => {
    devices = new Map(registry.devices().map((d) => [`${d.enterprise}/${d.id}`, d]));
  };
  load();
  registry.onChange(load);
  return {
    /** The active (not revoked) device, or undefined. */
    get(enterprise: string, id: string): DeviceRecord | undefined {
      const t = now();
      if (t - checkedAt >= checkMs) {
        checkedAt = t;
        registry.pollChanges();
      }
      const device = devices.get(`${enterprise}/${id}`);
      return device && device.revokedAt === null ? device : undefined;
    },
    all(): DeviceRecord[] {
      return [...devices.values()];
    },
    /** True for an active enterprise gateway account: its own status is stored, not refused. */
    gateway(enterprise: string, id: string): boolean {
      const account = registry.account(deviceUsername(enterprise, id));
      return account?.kind === 'gateway' && account.revokedAt === null;
    },
  };
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
  const registry = openRegistry(path);
  let service: S;
  try {
    service = await start(registry);
  } catch (err) {
    registry.close();
    throw err;
  }
  return {
    name,
    service,
    async close() {
      await service.close();
      registry.close();
    },
  };
}
