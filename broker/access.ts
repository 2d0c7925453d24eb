// Access rules as data, in the spirit of Mosquitto's acl_file: each rule names who it is for (account
// kind, enterprise, user name), what it grants (read, write, readwrite, or deny) and a topic pattern with
// substitutions. The built-in set (broker/access-default.ts) is today's hw/v1 contract; `broker.aclFile`
// adds rules to it or replaces it. Rules are compiled once per connection (substitutions filled in), so a
// PUBLISH is checked against a handful of split patterns and nothing is parsed on the hot path.
//
// Substitutions, replaced by the connecting account's values; a rule that uses one its account lacks
// (%d for a gateway, %u for an anonymous client) does not apply to it:
//   %u user name   %c client id   %e enterprise   %d device id (device accounts)   %g gateway id
// A substituted value holding `+`, `#` or `/` never matches (a client id "a/#" cannot widen a rule).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { HazwatchError } from '../contract/errors.ts';
import type { Identity } from './acl.ts';
import { DEFAULT_ACCESS } from './access-default.ts';

export const ACCOUNT_KINDS = ['device', 'gateway', 'service', 'anonymous'] as const;
export type AccountKind = (typeof ACCOUNT_KINDS)[number];

const SUBSTITUTION = /%[ucedg]/g;

export const accessRule = z
  .object({
    kind: z.union([z.enum(ACCOUNT_KINDS), z.array(z.enum(ACCOUNT_KINDS)).min(1)]).optional().describe('Account kinds the rule is for (default: every kind)'),
    enterprise: z.string().min(1).optional().describe('Only accounts of this enterprise'),
    username: z.string().min(1).optional().describe('Only this account'),
    access: z.enum(['read', 'write', 'readwrite', 'deny']).describe('read: subscribe; write: publish; deny: neither, whatever other rules grant'),
    topic: z
      .string()
      .min(1)
      .max(65_535)
      .refine((t) => validFilter(t), 'not a valid MQTT topic filter: "#" only as the last level, "+" and "#" alone in their level [MQTT-4.7.1-2, MQTT-4.7.1-3]')
      .refine((t) => !/%[^ucedg]/.test(t), 'unknown substitution: use %u, %c, %e, %d or %g')
      .describe('Topic pattern: an MQTT filter (+, #) with %u %c %e %d %g'),
  })
  .strict();
export type AccessRule = z.infer<typeof accessRule>;

export const accessFile = z
  .object({
    /** true: the file's rules are the whole set; false: they come in addition to the built-in hw/v1 rules. */
    replaceDefaults: z.boolean().default(false),
    rules: z.array(accessRule),
  })
  .strict();
export type AccessFile = z.infer<typeof accessFile>;

function validFilter(filter: string): boolean {
  const levels = filter.split('/');
  return levels.every((l, i) => (l === '#' ? i === levels.length - 1 : l === '+' || !/[+#]/.test(l)));
}

/** What one connection may do, from the rules that apply to it. */
export interface Access {
  mayPublish(topic: string): boolean;
  /** Granted when a read rule covers every topic of the filter and no deny rule covers the filter. */
  maySubscribe(filter: string): boolean;
  /** A granted filter that some deny rule overlaps: its messages must be checked one by one (mayRead). */
  needsDeliveryCheck(filter: string): boolean;
  /** May a message on this topic be delivered to the client (no deny rule matches it)? */
  mayRead(topic: string): boolean;
}

interface Compiled {
  levels: string[];
  read: boolean;
  write: boolean;
  deny: boolean;
}

function valuesOf(who: Identity, clientId: string): Record<string, string | undefined> {
  const enterprise = who.kind === 'device' || who.kind === 'gateway' ? who.enterprise : undefined;
  return {
    '%u': who.username,
    '%c': clientId,
    '%e': enterprise,
    '%d': who.kind === 'device' ? who.device : undefined,
    '%g': who.kind === 'gateway' ? who.gateway : undefined,
  };
}

function appliesTo(rule: AccessRule, who: Identity): boolean {
  if (rule.kind !== undefined && !(Array.isArray(rule.kind) ? rule.kind : [rule.kind]).includes(who.kind)) return false;
  if (rule.username !== undefined && rule.username !== who.username) return false;
  if (rule.enterprise !== undefined && !((who.kind === 'device' || who.kind === 'gateway') && who.enterprise === rule.enterprise)) return false;
  return true;
}

/** The rules of `set` that apply to this account, substitutions filled in. */
export function compileAccess(set: readonly AccessRule[], who: Identity, clientId: string): Access {
  const values = valuesOf(who, clientId);
  const rules: Compiled[] = [];
  for (const rule of set) {
    if (!appliesTo(rule, who)) continue;
    let usable = true;
    const topic = rule.topic.replace(SUBSTITUTION, (s) => {
      const v = values[s];
      if (v === undefined || v === '' || /[+#/]/.test(v)) usable = false;
      return v ?? '';
    });
    if (!usable) continue;
    rules.push({ levels: topic.split('/'), read: rule.access === 'read' || rule.access === 'readwrite', write: rule.access === 'write' || rule.access === 'readwrite', deny: rule.access === 'deny' });
  }
  const denies = rules.filter((r) => r.deny);
  const writes = rules.filter((r) => r.write);
  const reads = rules.filter((r) => r.read);
  const denied = (levels: string[]) => denies.some((r) => topicMatches(r.levels, levels));
  return {
    mayPublish(topic) {
      const levels = topic.split('/');
      return !denied(levels) && writes.some((r) => topicMatches(r.levels, levels));
    },
    maySubscribe(filter) {
      const levels = filter.split('/');
      return !denies.some((r) => filterCovers(r.levels, levels)) && reads.some((r) => filterCovers(r.levels, levels));
    },
    needsDeliveryCheck(filter) {
      // As Mosquitto does: `#` stays allowed beside `deny secret/#`, and secret/... is kept from it.
      const levels = filter.split('/');
      return denies.some((r) => filtersOverlap(r.levels, levels));
    },
    mayRead(topic) {
      return !denied(topic.split('/'));
    },
  };
}

/**
 * Does the filter `pattern` match the concrete `topic`? [MQTT-4.7.1-2] `#` matches the parent level and
 * any number of children; `+` exactly one level; [MQTT-4.7.2-1] a filter starting with a wildcard does
 * not match a topic starting with `$`.
 */
export function topicMatches(pattern: readonly string[], topic: readonly string[]): boolean {
  if (topic[0]?.startsWith('$') && (pattern[0] === '+' || pattern[0] === '#')) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '#') return true;
    if (i >= topic.length) return false;
    if (p !== '+' && p !== topic[i]) return false;
  }
  return pattern.length === topic.length;
}

/** Is every topic the filter `sub` can match also matched by `pattern`? (May it be subscribed to.) */
export function filterCovers(pattern: readonly string[], sub: readonly string[]): boolean {
  if (sub[0]?.startsWith('$') && (pattern[0] === '+' || pattern[0] === '#')) return false;
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '#') return true;
    if (i >= sub.length) return false;
    const s = sub[i];
    if (s === '#') return false;
    if (p === '+') continue;
    if (s === '+' || s !== p) return false;
  }
  return pattern.length === sub.length;
}

/** Is there a topic both filters match? */
export function filtersOverlap(a: readonly string[], b: readonly string[]): boolean {
  const dollar = (x: readonly string[]) => x[0]?.startsWith('$');
  if ((dollar(a) && (b[0] === '+' || b[0] === '#')) || (dollar(b) && (a[0] === '+' || a[0] === '#'))) return false;
  const n = Math.max(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = b[i];
    if (x === '#' || y === '#') return true;
    // `a/#` also matches `a`: one side ended where the other has `#` next (handled above) or not at all.
    if (x === undefined || y === undefined) return false;
    if (x !== '+' && y !== '+' && x !== y) return false;
  }
  return true;
}

/**
 * The rules the broker applies: the built-in set, with the rules of `file` (YAML or JSON, `broker.aclFile`)
 * added or instead (`replaceDefaults: true`). Checked once, here: every problem named with its rule.
 */
export function loadAccess(file: string | undefined): readonly AccessRule[] {
  if (!file) return DEFAULT_ACCESS;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `broker.aclFile: cannot read ${file}: ${(err as Error).message}`);
  }
  let data: unknown;
  try {
    data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `broker.aclFile ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const parsed = accessFile.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '') || '(file)'}: ${i.message}`);
    throw new HazwatchError('HW_ERR_CONFIG', `broker.aclFile ${file}: ${problems.join('; ')}`);
  }
  return parsed.data.replaceDefaults ? parsed.data.rules : [...DEFAULT_ACCESS, ...parsed.data.rules];
}

/** `rules` as an access file (`replaceDefaults: true`, so that it stands alone). */
export function accessFileText(rules: readonly AccessRule[]): string {
  const lines = rules.map((r) => `  - { ${Object.entries(r).map(([k, v]) => `${k}: ${JSON.stringify(v)}`).join(', ')} }`);
  return `# hazwatch broker access rules (docs/broker.md, "Access file")\nreplaceDefaults: true\nrules:\n${lines.join('\n')}\n`;
}
