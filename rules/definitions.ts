// Rule definitions are data: YAML (or JSON) files validated here with zod, one set of defaults per
// device class in rules/defaults/, overridden by enterprise and by device from the files named in
// the configuration. A more specific file replaces a rule of the same id field by field, or disables
// it with `disabled: true`. Thresholds may refer to the device's registry entry (`limits.HH`,
// `meta.exposureLimit*2`) so that process limits live with the device, not in the rule file.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AlarmConditionCode, AlarmLevel, type AlarmCondition } from '../contract/alarms.ts';
import { DEVICE_CLASS_IDS, EVENT_TYPES, isDeviceClass, metricSpec, type DeviceClass, type EventType } from '../contract/catalog.ts';
import { HazwatchError } from '../contract/errors.ts';
import type { DeviceRecord } from '../registry/registry.ts';

export const DEFAULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'defaults');

/** A number, or a reference to the device's registry entry: `limits.HH` (of the rule's metric), `meta.<key>`, optionally `*factor`. */
const Threshold = z.union([z.number(), z.string().regex(/^(limits\.(HH|H|L|LL)|meta\.[A-Za-z0-9_]+)(\*[0-9]+(\.[0-9]+)?)?$/, 'a number, limits.<HH|H|L|LL> or meta.<key>[*factor]')]);
export type Threshold = z.infer<typeof Threshold>;

const Debounce = {
  /** The condition must hold this long (judged on reading timestamps) before the stage becomes active. */
  onDelaySeconds: z.number().min(0).max(86_400).optional(),
  /** ... and for this many readings in a row. */
  samples: z.number().int().min(1).max(1000).optional(),
  /** The clear condition must hold this long before the stage returns to normal. */
  offDelaySeconds: z.number().min(0).max(86_400).optional(),
};

const Base = {
  id: z.string().regex(/^[a-z0-9_.-]{1,64}$/),
  condition: AlarmConditionCode,
  disabled: z.boolean().optional(),
  /**
   * The alarm's detail line instead of the composed one; {value}, {threshold}, {unit}, {metric} are
   * filled in. A plain string is the English line (the Chinese console then composes its own from the
   * code); `{ en, zh }` gives the line in each language of the console.
   */
  message: z
    .union([
      z.string().max(300),
      z.object({ en: z.string().max(300).optional(), zh: z.string().max(300).optional() }).strict().refine((m) => m.en !== undefined || m.zh !== undefined, 'give en, zh or both'),
    ])
    .optional(),
  /**
   * Conditions of the same device that cause this one (a tripped interlock after HH level, low pressure
   * after a pump fault): raised while one of them is active, this alarm goes under it, is shown beneath
   * it and acknowledged with it (docs/alarms.md, "One cause, one alarm").
   */
  groupUnder: z.array(AlarmConditionCode).max(8).nullable().optional(),
};

const Stage = z
  .object({
    level: AlarmLevel,
    raise: Threshold,
    /** Clear threshold (hysteresis); default raise ∓ deadband. */
    clear: Threshold.optional(),
    /** Which standard or design document the threshold comes from. */
    source: z.string().optional(),
  })
  .strict();

export const ThresholdRule = z
  .object({
    ...Base,
    ...Debounce,
    type: z.literal('threshold'),
    metric: z.string(),
    direction: z.enum(['high', 'low']),
    /** Absolute deadband in the metric's unit. */
    deadband: z.number().min(0).optional(),
    /** Deadband as a percentage of the threshold, used when `deadband` is absent. */
    deadbandPercent: z.number().min(0).max(50).optional(),
    stages: z.array(Stage).min(1).max(4),
  })
  .strict();

export const RateRule = z
  .object({
    ...Base,
    ...Debounce,
    type: z.literal('rate'),
    metric: z.string(),
    direction: z.enum(['rise', 'fall', 'both']),
    /** The rate is the change over this window, per minute. */
    windowSeconds: z.number().min(1).max(86_400),
    deadband: z.number().min(0).optional(),
    deadbandPercent: z.number().min(0).max(50).optional(),
    /** raise / clear are in the metric's unit per minute. */
    stages: z.array(Stage).min(1).max(4),
  })
  .strict();

export const EventRule = z
  .object({
    ...Base,
    type: z.literal('event'),
    stages: z.array(z.object({ level: AlarmLevel, event: z.enum(EVENT_TYPES), source: z.string().optional() }).strict()).min(1).max(4),
    /** Momentary events (hydrant_draw, ...) have no end: they clear after this long without a new one. */
    clearAfterSeconds: z.number().min(1).max(86_400).optional(),
    /**
     * The device's own word on a condition the platform measures (a gas detector's stages on its %LEL):
     * one alarm, not two. The event joins that condition's alarm, is recorded on it as corroboration and
     * raises its level when more severe; it raises that alarm itself when the measurement has not yet.
     * Used only when the device has a rule for that condition; else the event keeps its own condition.
     */
    corroborates: AlarmConditionCode.nullable().optional(),
  })
  .strict();

export const SilenceRule = z
  .object({
    ...Base,
    type: z.literal('silence'),
    level: AlarmLevel,
    // When a device is offline is the device's declaration (contract/presence.ts: connection mode,
    // interval, grace, tolerance), not the rule's: the console and the retained presence agree with it.
  })
  .strict();

const Term = z
  .object({
    metric: z.string(),
    above: Threshold.optional(),
    below: Threshold.optional(),
    equals: z.union([z.boolean(), z.number()]).optional(),
  })
  .strict()
  .refine((t) => [t.above, t.below, t.equals].filter((x) => x !== undefined).length === 1, 'exactly one of above, below, equals');

export const CombinationRule = z
  .object({
    ...Base,
    ...Debounce,
    type: z.literal('combination'),
    level: AlarmLevel,
    /** Raised while every term holds on the latest values of the device. */
    all: z.array(Term).min(2).max(8),
  })
  .strict();

export const Rule = z.discriminatedUnion('type', [ThresholdRule, RateRule, EventRule, SilenceRule, CombinationRule]);
export type Rule = z.infer<typeof Rule>;
export type ThresholdRule = z.infer<typeof ThresholdRule>;
export type RateRule = z.infer<typeof RateRule>;
export type EventRule = z.infer<typeof EventRule>;
export type SilenceRule = z.infer<typeof SilenceRule>;
export type CombinationRule = z.infer<typeof CombinationRule>;

/** A rule of an override file: only `id` is required; the rest replaces the same fields of the rule it overrides. */
const PartialRule = z.object({ id: z.string() }).passthrough();

export const RuleFile = z
  .object({
    /** Which devices the file is about; absent = every device of the class (or every class). */
    class: z.enum(DEVICE_CLASS_IDS as [DeviceClass, ...DeviceClass[]]).optional(),
    enterprise: z.string().optional(),
    device: z.string().optional(),
    rules: z.array(PartialRule).default([]),
  })
  .strict()
  .refine((f) => !f.device || f.enterprise, 'a device-scoped file names its enterprise too');
export type RuleFile = z.infer<typeof RuleFile>;

export interface LoadedFile extends RuleFile {
  path: string;
  scope: 0 | 1 | 2 | 3;
}

export interface RuleSet {
  files: LoadedFile[];
  loadedAt: number;
  /** Rules for one device, with references to registry limits still unresolved. */
  forDevice(device: Pick<DeviceRecord, 'enterprise' | 'id' | 'class'>): Rule[];
}

function fail(path: string, message: string): never {
  throw new HazwatchError('HW_ERR_CONFIG', `rule file ${path}: ${message}`);
}

function readRuleFile(path: string, scope?: LoadedFile['scope']): LoadedFile {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    fail(path, (err as Error).message);
  }
  const parsed = RuleFile.safeParse(raw ?? {});
  if (!parsed.success) fail(path, parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  const file = parsed.data;
  const s = scope ?? (file.device ? 3 : file.enterprise ? 2 : 1);
  return { ...file, path, scope: s as LoadedFile['scope'] };
}

function ruleFilesIn(path: string): string[] {
  const abs = resolve(path);
  if (!existsSync(abs)) throw new HazwatchError('HW_ERR_CONFIG', `rule file or directory ${abs} does not exist`);
  if (statSync(abs).isDirectory()) {
    return readdirSync(abs)
      .filter((f) => /\.(ya?ml|json)$/.test(f))
      .sort()
      .map((f) => join(abs, f));
  }
  return [abs];
}

function applies(file: LoadedFile, device: Pick<DeviceRecord, 'enterprise' | 'id' | 'class'>): boolean {
  if (file.class && file.class !== device.class) return false;
  if (file.enterprise && file.enterprise !== device.enterprise) return false;
  if (file.device && file.device !== device.id) return false;
  return true;
}

/** Checks a merged rule against the schema and the catalog (metric and events of the class). */
function validateRule(raw: Record<string, unknown>, cls: DeviceClass, where: string): Rule | undefined {
  const parsed = Rule.safeParse(raw);
  if (!parsed.success) fail(where, `rule ${String(raw.id)}: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const rule = parsed.data;
  const metrics = rule.type === 'threshold' || rule.type === 'rate' ? [rule.metric] : rule.type === 'combination' ? rule.all.map((t) => t.metric) : [];
  for (const m of metrics) if (!metricSpec(cls, m)) fail(where, `rule ${rule.id}: metric ${m} is not a metric of ${cls}`);
  return rule;
}

/**
 * Loads the defaults and the override files; throws HW_ERR_CONFIG naming the file and the rule when
 * anything is wrong, so that a bad edit never replaces a working rule set (the caller keeps the old one).
 */
export function loadRuleSet(paths: string[] = [], options: { defaultsDir?: string; now?: () => number } = {}): RuleSet {
  const files: LoadedFile[] = [];
  for (const path of ruleFilesIn(options.defaultsDir ?? DEFAULTS_DIR)) files.push(readRuleFile(path, 0));
  for (const p of paths) for (const path of ruleFilesIn(p)) files.push(readRuleFile(path));
  files.sort((a, b) => a.scope - b.scope);
  for (const f of files) {
    if (f.scope === 0 && !f.class) fail(f.path, 'a defaults file names its device class');
    if (f.class && !isDeviceClass(f.class)) fail(f.path, `unknown class ${f.class}`);
  }

  const cache = new Map<string, Rule[]>();
  // Validate every class once, so that errors surface at load time and not on the first reading.
  for (const cls of DEVICE_CLASS_IDS) merged({ enterprise: '\u0000', id: '\u0000', class: cls }, true);
  for (const f of files.filter((x) => x.scope > 0)) {
    for (const cls of f.class ? [f.class] : DEVICE_CLASS_IDS) merged({ enterprise: f.enterprise ?? '\u0000', id: f.device ?? '\u0000', class: cls }, true, f);
  }

  function merged(device: Pick<DeviceRecord, 'enterprise' | 'id' | 'class'>, checking = false, only?: LoadedFile): Rule[] {
    const byId = new Map<string, Record<string, unknown>>();
    const where = new Map<string, string>();
    for (const f of files) {
      if (!(checking && only === f) && !applies(f, device)) continue;
      for (const r of f.rules) {
        const prev = byId.get(r.id);
        if (!prev && f.scope > 0 && !('type' in r)) {
          // An override of a rule the class does not have: only an error when the file names the class.
          if (f.class) fail(f.path, `rule ${r.id} overrides no rule of class ${device.class} (give a full rule with a type)`);
          continue;
        }
        byId.set(r.id, { ...(prev ?? {}), ...r });
        where.set(r.id, f.path);
      }
    }
    const out: Rule[] = [];
    for (const [id, raw] of byId) {
      if (raw.disabled) continue;
      const rule = validateRule(raw, device.class, where.get(id) ?? '?');
      if (rule) out.push(rule);
    }
    return out;
  }

  return {
    files,
    loadedAt: (options.now ?? Date.now)(),
    forDevice(device) {
      // Devices to which the same files apply share one merged rule list (thousands of devices, few files).
      const key = `${device.class}\u0000${files.filter((f) => f.scope > 0 && applies(f, device)).map((f) => f.path).join('\u0000')}`;
      let rules = cache.get(key);
      if (!rules) {
        rules = merged(device);
        cache.set(key, rules);
      }
      return rules;
    },
  };
}

/** Resolves a threshold for one device; undefined when the device has no such limit (the stage is skipped). */
export function resolveThreshold(threshold: Threshold, device: Pick<DeviceRecord, 'meta'>, metric: string | undefined): number | undefined {
  if (typeof threshold === 'number') return threshold;
  const [ref, factorText] = threshold.split('*');
  const factor = factorText ? Number(factorText) : 1;
  let base: unknown;
  if (ref.startsWith('limits.')) {
    const limits = (device.meta?.limits ?? {}) as Record<string, Record<string, unknown> | undefined>;
    base = metric ? limits[metric]?.[ref.slice('limits.'.length)] : undefined;
  } else {
    base = device.meta?.[ref.slice('meta.'.length)];
  }
  return typeof base === 'number' && Number.isFinite(base) ? base * factor : undefined;
}

export type { AlarmCondition, EventType };
