// `hazwatch device add|list|revoke|rotate` and `hazwatch device gateway|service`: the operator's
// handle on the registry. Credentials are printed once and never stored in clear.
import { CONNECTION_MODES, DEVICE_CLASS_IDS, isDeviceClass, presencePolicy, type ConnectionSettings } from '../contract/index.ts';
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { openRegistry, deviceUsername, type DeviceRecord, type PresenceRecord } from './registry.ts';

const SETTINGS = `[--interval <s>] [--connection always|intermittent] [--grace <s>] [--tolerance <n>] [--meta <key>=<value> ...]`;
const USAGE = `device add <enterprise>/<device> --class <class> [--site <site>] [--name <name>] [--hazard-source <id>]
         ${SETTINGS}
       hazwatch device set <enterprise>/<device> ${SETTINGS}
       hazwatch device gateway <enterprise>/<gateway>
       hazwatch device list [<enterprise>] [--json]
       hazwatch device revoke <enterprise>/<device>
       hazwatch device rotate <enterprise>/<device>`;

function number(flag: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(`--${flag} must be a number, got "${String(value)}"`);
  return n;
}

/** `--connection`, `--grace`, `--tolerance` over what the device declared before. */
function connectionFrom(flags: Record<string, unknown>, before: ConnectionSettings | null): ConnectionSettings | null {
  const mode = flags.connection as string | undefined;
  if (mode !== undefined && !(CONNECTION_MODES as readonly string[]).includes(mode)) throw new Error(`--connection must be one of ${CONNECTION_MODES.join(', ')}`);
  const next: ConnectionSettings = { ...(before ?? {}) };
  if (mode !== undefined) next.mode = mode as ConnectionSettings['mode'];
  const grace = number('grace', flags.grace);
  if (grace !== undefined) next.graceSeconds = grace;
  const tolerance = number('tolerance', flags.tolerance);
  if (tolerance !== undefined) next.tolerance = tolerance;
  return Object.keys(next).length ? next : null;
}

/** `--meta limits.level.HH=9.5 --meta gas=H2S`: dotted keys nest, values are JSON where they parse as JSON. */
export function metaFrom(pairs: readonly string[], before: Record<string, unknown> = {}): Record<string, unknown> {
  const meta = structuredClone(before);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`--meta expects <key>=<value>, got "${pair}"`);
    const path = pair.slice(0, eq).split('.');
    if (path.some((k) => !/^[A-Za-z0-9_]+$/.test(k))) throw new Error(`--meta key "${pair.slice(0, eq)}": letters, digits and _ separated by dots`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      /* a plain string such as H2S */
    }
    let node = meta;
    for (const key of path.slice(0, -1)) {
      if (typeof node[key] !== 'object' || node[key] === null || Array.isArray(node[key])) node[key] = {};
      node = node[key] as Record<string, unknown>;
    }
    if (raw === '') delete node[path[path.length - 1]];
    else node[path[path.length - 1]] = value;
  }
  return meta;
}

function when(ms: number | null | undefined, now: number): string {
  if (ms === undefined || ms === null) return '-';
  const s = Math.round((ms - now) / 1000);
  return s <= 0 ? `${-s} s ago` : `in ${s} s`;
}

function row(d: DeviceRecord, p: PresenceRecord | undefined, now: number): string {
  const policy = presencePolicy(d);
  const connection = `${policy.mode}/${policy.intervalSeconds}s`;
  const presence = p ? `${p.state}${p.reason ? ` (${p.reason})` : ''}` : 'never heard';
  return `${`${d.enterprise}/${d.id}`.padEnd(32)} ${d.class.padEnd(16)} ${d.site.padEnd(12)} ${(d.revokedAt ? 'revoked' : 'active').padEnd(8)} ${connection.padEnd(18)} ${when(p?.heardAt, now).padEnd(12)} ${when(p?.nextExpectedAt, now).padEnd(12)} ${presence}`;
}

function splitId(arg: string | undefined): [string, string] {
  const parts = (arg ?? '').split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) throw new Error(`expected <enterprise>/<device>, got "${arg ?? ''}"`);
  return [parts[0], parts[1]];
}

export const deviceCommand: Command = {
  name: 'device',
  summary: 'Register devices and gateways, list them, rotate or revoke their MQTT credentials',
  usage: USAGE,
  options: {
    class: { type: 'string' },
    site: { type: 'string' },
    name: { type: 'string' },
    'hazard-source': { type: 'string' },
    interval: { type: 'string' },
    connection: { type: 'string' },
    grace: { type: 'string' },
    tolerance: { type: 'string' },
    meta: { type: 'string', multiple: true },
    json: { type: 'boolean' },
  },
  async run({ config, args, flags, out }) {
    const registry = await openRegistry(registryTarget(config));
    try {
      const [action, target] = args;
      switch (action) {
        case 'add': {
          const [enterprise, id] = splitId(target);
          const cls = String(flags.class ?? '');
          if (!isDeviceClass(cls)) throw new Error(`--class must be one of ${DEVICE_CLASS_IDS.join(', ')}`);
          const creds = await registry.addDevice({
            enterprise,
            id,
            class: cls,
            site: flags.site as string | undefined,
            name: flags.name as string | undefined,
            hazardSource: flags['hazard-source'] as string | undefined,
            intervalSeconds: number('interval', flags.interval) ?? null,
            connection: connectionFrom(flags, null),
            meta: metaFrom((flags.meta as string[] | undefined) ?? []),
          });
          out.write(flags.json ? JSON.stringify(creds) + '\n' : `device ${enterprise}/${id} (${cls}) registered; these credentials are shown only once:\n  client id: ${creds.clientId}\n  username:  ${creds.username}\n  password:  ${creds.password}\n`);
          return;
        }
        case 'set': {
          const [enterprise, id] = splitId(target);
          const before = registry.device(enterprise, id);
          if (!before) throw new Error(`${enterprise}/${id} is not registered`);
          const interval = number('interval', flags.interval);
          const after = await registry.updateDevice(enterprise, id, {
            ...(interval !== undefined ? { intervalSeconds: interval === 0 ? null : interval } : {}),
            connection: connectionFrom(flags, before.connection),
            meta: metaFrom((flags.meta as string[] | undefined) ?? [], before.meta),
          });
          if (!after) throw new Error(`${enterprise}/${id} is not registered`);
          const policy = presencePolicy(after);
          out.write(flags.json ? JSON.stringify(after) + '\n' : `device ${enterprise}/${id}: ${policy.mode}, reports every ${policy.intervalSeconds} s, offline after ${policy.mode === 'always' ? `${policy.graceSeconds} s without connection or ` : ''}${policy.intervalSeconds * policy.tolerance} s without a message; meta ${JSON.stringify(after.meta)}\n`);
          return;
        }
        case 'gateway': {
          const [enterprise, id] = splitId(target);
          const creds = await registry.addGateway(enterprise, id);
          out.write(flags.json ? JSON.stringify(creds) + '\n' : `gateway ${enterprise}/${id} registered; these credentials are shown only once:\n  client id: ${creds.clientId}\n  username:  ${creds.username}\n  password:  ${creds.password}\n`);
          return;
        }
        case 'rotate': {
          const [enterprise, id] = splitId(target);
          const creds = await registry.rotate(deviceUsername(enterprise, id));
          out.write(flags.json ? JSON.stringify(creds) + '\n' : `new password for ${creds.username} (shown only once): ${creds.password}\n`);
          return;
        }
        case 'revoke': {
          const [enterprise, id] = splitId(target);
          const done = await registry.revokeDevice(enterprise, id) || await registry.revokeAccount(deviceUsername(enterprise, id));
          if (!done) throw new Error(`${enterprise}/${id} is not registered or already revoked`);
          out.write(`${enterprise}/${id} revoked; connected sessions are closed by the broker within seconds\n`);
          return;
        }
        case 'list': {
          const devices = registry.devices(target);
          const presence = new Map((await registry.presences()).map((p) => [`${p.enterprise}/${p.device}`, p]));
          if (flags.json) {
            out.write(JSON.stringify(devices.map((d) => ({ ...d, presence: presence.get(`${d.enterprise}/${d.id}`) ?? null })), null, 2) + '\n');
            return;
          }
          const t = Date.now();
          out.write(`${'DEVICE'.padEnd(32)} ${'CLASS'.padEnd(16)} ${'SITE'.padEnd(12)} ${'ACCESS'.padEnd(8)} ${'CONNECTION'.padEnd(18)} ${'LAST HEARD'.padEnd(12)} ${'NEXT DUE'.padEnd(12)} PRESENCE\n`);
          for (const d of devices) out.write(row(d, presence.get(`${d.enterprise}/${d.id}`), t) + '\n');
          return;
        }
        default:
          throw new Error(`usage: hazwatch ${USAGE}`);
      }
    } finally {
      await registry.close();
    }
  },
};
