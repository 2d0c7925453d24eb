// Configuration: defaults < file (--config or HAZWATCH_CONFIG, YAML or JSON) < HAZWATCH_* environment
// < command-line flags. Validated once, at start; a wrong setting stops the process with a message
// that names the setting, where it came from, and what was expected (HW_ERR_CONFIG).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HazwatchError } from '../contract/errors.ts';
import { LOG_LEVELS } from './log.ts';
import { brokerConfig } from '../broker/config.ts';
import { ingestConfig } from '../ingest/config.ts';
import { rulesConfig } from '../rules/config.ts';
import { apiConfig } from '../api/config.ts';
import { simulateConfig } from '../simulators/config.ts';
import { gatewayConfig } from '../gateway/config.ts';
import { dashboardsConfig } from '../dashboards/config.ts';
import { sparkplugConfig } from '../sparkplug/config.ts';
import { vendorConfig } from '../vendor/config.ts';
import { northboundConfig } from '../northbound/config.ts';
import { resourcesConfig } from '../resources/config.ts';
import { warningsConfig } from '../warnings/config.ts';
import { dispatchConfig } from './dispatch/config.ts';
import { dangersConfig } from '../dangers/config.ts';

export const mqttClientConfig = z
  .object({
    url: z.string().url().default('mqtt://127.0.0.1:1883').describe('Broker URL the platform services connect to'),
    username: z.string().optional().describe('Service account user name (hazwatch start provisions one by itself)'),
    password: z.string().optional().describe('Service account password'),
  })
  .strict()
  .prefault({});
export type MqttClientConfig = z.infer<typeof mqttClientConfig>;

export const Config = z
  .object({
    dataDir: z.string().default('./data').describe('Directory for the registry, spool, alarm store and broker persistence'),
    nice: z
      .number()
      .int()
      .min(-20)
      .max(19)
      .optional()
      .describe(
        "CPU priority of this process (nice, -20 highest .. 19 lowest), set at start; unset: left as started. On a shared machine put the alarm path first: broker and rules -5, ingest 5 (docs/deploy.md). Raising it needs CAP_SYS_NICE (root, systemd AmbientCapabilities, compose cap_add); refused, it is logged and the process runs as it was",
      ),
    log: z
      .object({ level: z.enum(LOG_LEVELS).default('info') })
      .strict()
      .prefault({}),
    database: z
      .object({
        url: z
          .string()
          .regex(/^postgres(ql)?:\/\/.+/, 'expected a postgres:// URL')
          .optional()
          .describe('PostgreSQL shared by every node for the registry, alarm store, console accounts and audit (postgres://user:password@host:5432/db); unset: SQLite files in dataDir'),
      })
      .strict()
      .prefault({}),
    registry: z
      .object({ path: z.string().optional().describe('SQLite file of enterprises, devices and credentials (default <dataDir>/registry.db; ignored when database.url is set)') })
      .strict()
      .prefault({}),
    mqtt: mqttClientConfig,
    ops: z
      .object({
        host: z.string().default('127.0.0.1').describe('Address of the /healthz, /readyz and /metrics endpoints of broker, ingest, rules and gateway processes'),
        port: z
          .union([z.number().int().min(0).max(65535), z.literal(false)])
          .default(false)
          .describe('Port of those endpoints (false: off; the API serves its own on its HTTP port)'),
      })
      .strict()
      .prefault({}),
    broker: brokerConfig,
    ingest: ingestConfig,
    rules: rulesConfig,
    api: apiConfig,
    simulate: simulateConfig,
    gateway: gatewayConfig,
    dashboards: dashboardsConfig,
    sparkplug: sparkplugConfig,
    vendor: vendorConfig,
    northbound: northboundConfig,
    resources: resourcesConfig,
    // The duty roster (registry/roster.ts): units, people, shifts, handovers.
    roster: z
      .object({ path: z.string().optional().describe('SQLite file of the duty roster (default <dataDir>/roster.db; ignored when database.url is set)') })
      .strict()
      .prefault({}),
    dangers: dangersConfig,
    // Where messages to people go (core/dispatch): SMS gateways, mail, robots, webhooks, MQTT displays.
    dispatch: dispatchConfig,
    // Warning publication (warnings/): audiences, approval levels, templates.
    warnings: warningsConfig,
  })
  .strict();
export type Config = z.infer<typeof Config>;

/** Absolute path of a file in the data directory. */
export function dataPath(config: Pick<Config, 'dataDir'>, ...parts: string[]): string {
  return resolve(join(config.dataDir, ...parts));
}

/** Where the registry lives: database.url, else its SQLite file. */
export function registryTarget(config: Pick<Config, 'dataDir' | 'database' | 'registry'>): string {
  return config.database.url ?? (config.registry.path ? resolve(config.registry.path) : dataPath(config, 'registry.db'));
}

/** Where the alarm store lives for the rules processes (`given`: api.alarmsPath for the API ones). */
export function alarmStoreTarget(config: Pick<Config, 'dataDir' | 'database' | 'rules'>, given?: string): string {
  return config.database.url ?? resolve(given ?? config.rules.storePath ?? dataPath(config, 'alarms.db'));
}

/** Where the emergency resources live (resources/store.ts). */
export function resourcesTarget(config: Pick<Config, 'dataDir' | 'database' | 'resources'>): string {
  return config.database.url ?? (config.resources.path ? resolve(config.resources.path) : dataPath(config, 'resources.db'));
}

/** Where warnings and the outbox of messages to people live (warnings/store.ts, core/dispatch/store.ts). */
export function warningsTarget(config: Pick<Config, 'dataDir' | 'database'>): string {
  return config.database.url ?? dataPath(config, 'warnings.db');
}

/** Where hidden dangers and their evidence live (dangers/store.ts). */
export function dangersTarget(config: Pick<Config, 'dataDir' | 'database' | 'dangers'>): string {
  return config.database.url ?? (config.dangers.path ? resolve(config.dangers.path) : dataPath(config, 'dangers.db'));
}

/** Where the duty roster lives (registry/roster.ts). */
export function rosterTarget(config: Pick<Config, 'dataDir' | 'database' | 'roster'>): string {
  return config.database.url ?? (config.roster.path ? resolve(config.roster.path) : dataPath(config, 'roster.db'));
}

/** Where device commands and their steps live (api/commands-store.ts). */
export function commandsTarget(config: Pick<Config, 'dataDir' | 'database'>): string {
  return config.database.url ?? dataPath(config, 'commands.db');
}

/** Where the console's accounts, sessions and audit log live. */
export function accountsTarget(config: Pick<Config, 'dataDir' | 'database' | 'api'>): string {
  return config.database.url ?? (config.api.dbPath ? resolve(config.api.dbPath) : dataPath(config, 'api.db'));
}

type Leaf = { path: string[]; kind: 'string' | 'number' | 'boolean' | 'json' };

function unwrap(schema: z.ZodType): z.ZodType {
  let s = schema as z.ZodType & { _zod: { def: { type: string; innerType?: z.ZodType; in?: z.ZodType } } };
  for (;;) {
    const def = s._zod.def;
    if (def.innerType && ['default', 'prefault', 'optional', 'nullable', 'readonly', 'catch'].includes(def.type)) s = def.innerType as typeof s;
    else if (def.type === 'pipe' && def.in) s = def.in as typeof s;
    else return s;
  }
}

function leaves(schema: z.ZodType, path: string[] = []): Leaf[] {
  const s = unwrap(schema) as z.ZodType & { _zod: { def: { type: string } }; shape?: Record<string, z.ZodType> };
  const type = s._zod.def.type;
  if (type === 'object' && s.shape && Object.keys(s.shape).length > 0) {
    return Object.entries(s.shape).flatMap(([key, child]) => leaves(child, [...path, key]));
  }
  const kind = type === 'string' || type === 'enum' || type === 'literal' ? 'string' : type === 'number' || type === 'int' ? 'number' : type === 'boolean' ? 'boolean' : 'json';
  return [{ path, kind }];
}

export function envName(path: string[]): string {
  return 'HAZWATCH_' + path.map((p) => p.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()).join('_');
}

/** Every environment variable the configuration understands, with the setting it fills. */
export function environmentVariables(): { name: string; path: string }[] {
  return leaves(Config).map((leaf) => ({ name: envName(leaf.path), path: leaf.path.join('.') }));
}

/** Variables that are not settings and must not be reported as unknown. */
const RESERVED_ENV = /^HAZWATCH_(CONFIG|TEST_.*|BENCH_.*|FAULT_.*)$/;

function envValue(raw: string, kind: Leaf['kind'], name: string): unknown {
  switch (kind) {
    case 'string':
      return raw;
    case 'number':
      return raw.trim() === '' ? raw : Number(raw);
    case 'boolean':
      if (/^(true|1|yes|on)$/i.test(raw)) return true;
      if (/^(false|0|no|off)$/i.test(raw)) return false;
      return raw;
    default:
      try {
        return JSON.parse(raw);
      } catch {
        throw new HazwatchError('HW_ERR_CONFIG', `${name}: expected JSON, got ${JSON.stringify(raw)}`);
      }
  }
}

function setPath(target: Record<string, unknown>, path: string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    if (typeof node[key] !== 'object' || node[key] === null) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1]] = value;
}

function merge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(over)) {
    const prev = out[key];
    out[key] =
      value && typeof value === 'object' && !Array.isArray(value) && prev && typeof prev === 'object' && !Array.isArray(prev)
        ? merge(prev as Record<string, unknown>, value as Record<string, unknown>)
        : value;
  }
  return out;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `cannot read configuration file ${file}: ${(err as Error).message}`);
  }
  try {
    const parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    return (parsed ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `configuration file ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
}

export interface LoadOptions {
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Settings from command-line flags, as a partial configuration object. */
  overrides?: Record<string, unknown>;
}

/** Loads and validates the configuration; throws HazwatchError(HW_ERR_CONFIG) naming every wrong setting. */
export function loadConfig(options: LoadOptions = {}): Config {
  const env = options.env ?? process.env;
  const file = options.file ?? env.HAZWATCH_CONFIG;
  const sources = new Map<string, string>();
  let raw: Record<string, unknown> = {};
  if (file) raw = readConfigFile(file);

  const known = new Map(leaves(Config).map((leaf) => [envName(leaf.path), leaf]));
  const fromEnv: Record<string, unknown> = {};
  const unknown: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('HAZWATCH_') || value === undefined || RESERVED_ENV.test(name)) continue;
    const leaf = known.get(name);
    if (!leaf) {
      unknown.push(name);
      continue;
    }
    setPath(fromEnv, leaf.path, envValue(value, leaf.kind, name));
    sources.set(leaf.path.join('.'), name);
  }
  if (unknown.length) {
    throw new HazwatchError('HW_ERR_CONFIG', `unknown environment variable${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (see README, Configuration)`);
  }
  raw = merge(merge(raw, fromEnv), options.overrides ?? {});
  const result = Config.safeParse(raw);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => {
      const path = issue.path.join('.');
      const from = sources.get(path) ?? (file ? `file ${file}` : 'settings');
      return `${path || '(root)'}: ${issue.message} (from ${from})`;
    });
    throw new HazwatchError('HW_ERR_CONFIG', `invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return result.data;
}
