// Rule override files seen and edited from the console (issue 15). The rules engine reads the defaults
// (rules/defaults/) and the files or directories of `rules.files`, and reloads when one changes. Here:
// which override files are in force, a candidate file checked exactly as `hazwatch rules --check` checks
// (loadRuleSet over the whole set, the candidate in place of the file it replaces), and saving it into
// the first writable directory of `rules.files` under a name that says its scope. Nothing is written
// unless the whole set, with it, loads: a bad edit never reaches the rules engine.
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { HazwatchError } from '../contract/errors.ts';
import type { DeviceRecord } from '../registry/registry.ts';
import { loadRuleSet, resolveThreshold, type LoadedFile, type Rule, type RuleSet } from '../rules/definitions.ts';

/** Where an override applies: an enterprise, or one device of it. */
export interface OverrideScope {
  enterprise: string;
  device?: string;
}

export interface OverrideFile {
  path: string;
  name: string;
  /** 1 class-wide, 2 an enterprise, 3 a device (rules/definitions.ts). */
  scope: 1 | 2 | 3;
  class: string | null;
  enterprise: string | null;
  device: string | null;
  rules: number;
  text: string;
  /** Written by the console (its name says its scope): the one the console edits for that scope. */
  managed: boolean;
}

export interface CheckResult {
  ok: boolean;
  /** `rules ok: N files (...)` as `hazwatch rules --check` prints it, or what is wrong, naming the file and the rule. */
  message: string;
}

/**
 * The file the console keeps for a scope. Ids hold letters, digits, `_`, `.` and `-`, never `@`, so the
 * name cannot be read two ways. Top level of the directory: the rules engine does not descend.
 */
export function managedName(scope: OverrideScope): string {
  return scope.device ? `device@${scope.enterprise}@${scope.device}.yaml` : `enterprise@${scope.enterprise}.yaml`;
}
const MANAGED = /^(enterprise@[^@]+|device@[^@]+@[^@]+)\.yaml$/;

/** The rule files named by `rules.files` as the rules engine reads them (a directory: its YAML and JSON files, sorted). */
export function ruleFilePaths(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const abs = resolve(p);
    if (!existsSync(abs)) continue;
    if (statSync(abs).isDirectory()) {
      out.push(...readdirSync(abs).filter((f) => /\.(ya?ml|json)$/.test(f)).sort().map((f) => join(abs, f)));
    } else out.push(abs);
  }
  return out;
}

/**
 * Where the console may save: the first directory of `rules.files` this process can write. A single
 * file named in the configuration is an operator's own and is never rewritten from the web; no
 * directory means saving is off (check and download only).
 */
export function writableDir(paths: string[]): string | null {
  for (const p of paths) {
    const abs = resolve(p);
    try {
      if (!statSync(abs).isDirectory()) continue;
      accessSync(abs, constants.W_OK);
      return abs;
    } catch {
      continue;
    }
  }
  return null;
}

/** The override files in force (not the defaults), with their text. */
export function overrideFiles(paths: string[]): OverrideFile[] {
  const set = loadRuleSet(paths);
  return set.files
    .filter((f) => f.scope > 0)
    .map((f) => ({
      path: f.path,
      name: basename(f.path),
      scope: f.scope as 1 | 2 | 3,
      class: f.class ?? null,
      enterprise: f.enterprise ?? null,
      device: f.device ?? null,
      rules: f.rules.length,
      text: readFileSync(f.path, 'utf8'),
      managed: MANAGED.test(basename(f.path)) && f.enterprise !== undefined,
    }));
}

/** The rule files as they would be with `text` saved for the scope: every file but the one it replaces, then it (in a temporary directory). */
function withCandidate<T>(paths: string[], scope: OverrideScope, text: string, fn: (files: string[], candidate: string) => T): T {
  const name = managedName(scope);
  const dir = writableDir(paths);
  const replaced = dir ? join(dir, name) : null;
  const temp = mkdtempSync(join(tmpdir(), 'hazwatch-rules-check-'));
  try {
    const candidate = join(temp, name);
    writeFileSync(candidate, text);
    return fn([...ruleFilePaths(paths).filter((p) => p !== replaced), candidate], candidate);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

function summary(set: RuleSet, shown: (p: string) => string): string {
  const overrides = set.files.filter((f) => f.scope > 0).map((f) => shown(f.path));
  return `rules ok: ${set.files.length} files (${overrides.join(', ') || 'defaults only'})`;
}

/**
 * Checks `text` as the override of `scope`, the way `hazwatch rules --check` checks the rule files:
 * the whole set must load with it. The file must also name the scope it is saved for, so that its
 * name and its content never disagree.
 */
export function checkOverride(paths: string[], scope: OverrideScope, text: string): CheckResult {
  const dir = writableDir(paths);
  return withCandidate(paths, scope, text, (files, candidate) => {
    const shown = (p: string) => (p === candidate ? (dir ? join(dir, basename(candidate)) : basename(candidate)) : p);
    let set: RuleSet;
    try {
      set = loadRuleSet(files);
    } catch (err) {
      return { ok: false, message: (err as Error).message.replaceAll(candidate, basename(candidate)) };
    }
    const own = set.files.find((f) => f.path === candidate) as LoadedFile;
    const names = `enterprise: ${own.enterprise ?? '(none)'}${own.device ? `, device: ${own.device}` : ''}`;
    if (own.enterprise !== scope.enterprise || (own.device ?? undefined) !== (scope.device ?? undefined)) {
      return { ok: false, message: `rule file ${basename(candidate)}: it names ${names}; an override for ${scope.device ? `device ${scope.enterprise}/${scope.device}` : `enterprise ${scope.enterprise}`} must say enterprise: ${scope.enterprise}${scope.device ? ` and device: ${scope.device}` : ' and no device'}` };
    }
    return { ok: true, message: summary(set, shown) };
  });
}

/** Checks, then writes the override atomically (a temporary name the rules engine ignores, then a rename). */
export function saveOverride(paths: string[], scope: OverrideScope, text: string): { path: string; message: string } {
  const dir = writableDir(paths);
  if (!dir) throw new HazwatchError('HW_ERR_CONFLICT', 'saving rule files is off: rules.files names no directory this process can write (check the file and download it instead)');
  const check = checkOverride(paths, scope, text);
  if (!check.ok) throw new HazwatchError('HW_ERR_RULES_INVALID', check.message, { field: 'body.text' });
  const path = join(dir, managedName(scope));
  const temp = join(dir, `.${managedName(scope)}.${process.pid}.${Date.now()}.tmp`);
  writeFileSync(temp, text.endsWith('\n') ? text : `${text}\n`);
  renameSync(temp, path);
  return { path, message: check.message };
}

/** Removes the console's override of a scope (back to the defaults and the other files); checked first like a save. */
export function removeOverride(paths: string[], scope: OverrideScope): { path: string; message: string } {
  const dir = writableDir(paths);
  const path = dir ? join(dir, managedName(scope)) : '';
  if (!dir || !existsSync(path)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no override file ${managedName(scope)} saved from the console`);
  let set: RuleSet;
  try {
    set = loadRuleSet(ruleFilePaths(paths).filter((p) => p !== path));
  } catch (err) {
    throw new HazwatchError('HW_ERR_RULES_INVALID', (err as Error).message);
  }
  unlinkSync(path);
  return { path, message: summary(set, (p) => p) };
}

function appliesTo(f: LoadedFile, d: Pick<DeviceRecord, 'enterprise' | 'id' | 'class'>): boolean {
  return (!f.class || f.class === d.class) && (!f.enterprise || f.enterprise === d.enterprise) && (!f.device || f.device === d.id);
}

export interface StageView {
  level: number;
  /** The threshold in force for this device (null: the limit it refers to is not set). */
  raise: number | null;
  from: string;
  /** The class's default stage of the same level (rules/defaults), with the standard it comes from. */
  default: { raise: number | null; from: string; source: string | null } | null;
}
export interface ThresholdRuleView {
  id: string;
  condition: string;
  metric: string;
  direction: string;
  /** The file that last set this rule for the device: `defaults` or an override file's name. */
  file: string;
  stages: StageView[];
}

/**
 * The threshold rules in force for one device, each stage beside the class's default from the
 * standard: what an operator changing a threshold must see before changing it.
 */
export function thresholdsBeside(inForce: RuleSet, defaults: RuleSet, d: DeviceRecord): ThresholdRuleView[] {
  const defaultRules = new Map(defaults.forDevice(d).map((r) => [r.id, r]));
  const setBy = new Map<string, string>();
  for (const f of inForce.files) if (appliesTo(f, d)) for (const r of f.rules) setBy.set(r.id, f.scope === 0 ? 'defaults' : basename(f.path));
  const stagesOf = (r: Rule | undefined) => (r && r.type === 'threshold' ? r.stages : []);
  return inForce
    .forDevice(d)
    .flatMap((r) => (r.type === 'threshold' ? [r] : []))
    .map((r) => {
      const base = stagesOf(defaultRules.get(r.id));
      return {
        id: r.id,
        condition: r.condition,
        metric: r.metric,
        direction: r.direction,
        file: setBy.get(r.id) ?? 'defaults',
        stages: r.stages.map((st, i) => {
          const def = base.find((b) => b.level === st.level) ?? base[i];
          return {
            level: st.level,
            raise: resolveThreshold(st.raise, d, r.metric) ?? null,
            from: String(st.raise),
            default: def ? { raise: resolveThreshold(def.raise, d, r.metric) ?? null, from: String(def.raise), source: def.source ?? null } : null,
          };
        }),
      };
    });
}
