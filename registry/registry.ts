// The registry of enterprises, devices and MQTT accounts, in one SQLite file shared by every process
// on a node (WAL mode: one writer, many readers). The API and `hazwatch device` write it; the broker,
// ingest and rules read it and pick changes up within a second, without a restart.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { isDeviceClass, isValidId, PLATFORM_ENTERPRISE, type DeviceClass } from '../contract/index.ts';
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
`;

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
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

type AccountRow = { username: string; kind: AccountKind; enterprise: string | null; device: string | null; secret_hash: string; created_at: number; revoked_at: number | null };

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

  const stmt = {
    enterprise: db.prepare('select id, name, created_at as createdAt from enterprises where id = ?'),
    enterprises: db.prepare('select id, name, created_at as createdAt from enterprises order by id'),
    insertEnterprise: db.prepare('insert into enterprises (id, name, created_at) values (?, ?, ?) on conflict(id) do update set name = excluded.name'),
    device: db.prepare('select * from devices where enterprise = ? and id = ?'),
    devices: db.prepare('select * from devices order by enterprise, id'),
    devicesOf: db.prepare('select * from devices where enterprise = ? order by id'),
    insertDevice: db.prepare(
      `insert into devices (enterprise, id, class, name, site, hazard_source, interval_s, meta, created_at)
       values (@enterprise, @id, @class, @name, @site, @hazardSource, @intervalSeconds, @meta, @createdAt)
       on conflict(enterprise, id) do update set class = excluded.class, name = excluded.name, site = excluded.site,
         hazard_source = excluded.hazard_source, interval_s = excluded.interval_s, meta = excluded.meta, revoked_at = null`,
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

  let dataVersion = db.pragma('data_version', { simple: true }) as number;
  let localWrites = 0;
  let seenLocalWrites = 0;
  const listeners = new Set<() => void>();

  function changed(): void {
    localWrites++;
  }

  /** True when this or another process has changed the registry since the last call. */
  function pollChanges(): boolean {
    const version = db.pragma('data_version', { simple: true }) as number;
    const dirty = version !== dataVersion || localWrites !== seenLocalWrites;
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
            intervalSeconds: device.intervalSeconds ?? null,
            meta: JSON.stringify(device.meta ?? {}),
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
    updateDevice(enterprise: string, id: string, change: Partial<Pick<DeviceRecord, 'name' | 'site' | 'hazardSource' | 'intervalSeconds' | 'meta'>>): DeviceRecord | undefined {
      const current = registry.device(enterprise, id);
      if (!current) return undefined;
      const next = { ...current, ...change };
      db.prepare('update devices set name = ?, site = ?, hazard_source = ?, interval_s = ?, meta = ? where enterprise = ? and id = ?').run(
        next.name, next.site, next.hazardSource, next.intervalSeconds, JSON.stringify(next.meta), enterprise, id);
      changed();
      return registry.device(enterprise, id);
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
