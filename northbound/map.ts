// A northbound map: how one upper-level platform (a province's hazardous-chemicals risk monitoring
// and early-warning platform, a park's platform) wants hazwatch's data. A province's variant of the
// data-access specification is a file, not code. Checked once at start: every problem is reported
// with the file and the field (HW_ERR_CONFIG), so a map never fails half-way through a day.
//
//   name: example-province            # id of the upper platform (spool file, metrics, state topic)
//   utcOffset: "+08:00"               # local time of {ts:yyyyMMddHHmmss}
//   transport: { kind: mqtt, url: mqtts://..., clientId: ..., username: ..., password: "${NB_PASSWORD}", qos: 1 }
//          or  { kind: https, url: https://.../api, headers: { Authorization: "Bearer ${NB_TOKEN}" }, timeoutMs: 10000 }
//   tables:                            # codes of the upper platform, by hazwatch value ("*": any other)
//     level: { 1: "01", 2: "02", 3: "03", 4: "04" }
//   messages:                          # enterprise, hazardSource, device, reading, alarm (each optional)
//     alarm:
//       topic: "up/{enterprise|enterpriseCode}/alarm"      # https: path, appended to the url
//       body: { level: "{alarm.level|level}", time: "{ts:yyyyMMddHHmmss}" }
//     reading:
//       per: device                    # one message per device and interval (metric: one per value)
//       body: { datas: { $each: values, item: { code: "{metric|quota}", value: "{value}" } } }
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ALARM_ACTIONS } from '../contract/alarms.ts';
import { HazwatchError } from '../contract/errors.ts';
import { ID_PATTERN } from '../contract/topics.ts';
import { DEFAULT_ALARM_ACTIONS, FIELDS, MESSAGE_KINDS, TIME_FIELDS, VALUE_FIELDS, fieldDomain, hasDeviceFields, type MessageKind } from './fields.ts';
import { parseTemplate, timeFormat, type Node, type Part, type Template } from './template.ts';

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

const MqttTransport = z
  .object({
    kind: z.literal('mqtt'),
    url: z.string().min(1).describe('mqtt://, mqtts://, ws:// or wss:// of the upper platform\'s broker'),
    clientId: z.string().min(1).describe('Client id the upper platform assigned (often the enterprise or platform code)'),
    username: z.string().optional(),
    password: z.string().optional(),
    qos: z.union([z.literal(0), z.literal(1), z.literal(2)]).default(1).describe('QoS of the publishes: 1 or 2 for a delivery the upper broker acknowledges'),
    ca: z.string().min(1).optional().describe('PEM file of the CA that signed the upper broker\'s certificate'),
    timeoutMs: z.number().int().positive().default(10_000).describe('Longest wait for a PUBACK (and for a connection)'),
  })
  .strict();

const HttpsTransport = z
  .object({
    kind: z.literal('https'),
    url: z.string().min(1).describe('https:// (or http:// inside a closed network) base URL; each message\'s path is appended'),
    method: z.enum(['POST', 'PUT']).default('POST'),
    headers: z.record(z.string(), z.string()).default({}).describe('Request headers (Content-Type is application/json)'),
    ca: z.string().min(1).optional().describe('PEM file of the CA that signed the upper platform\'s certificate'),
    timeoutMs: z.number().int().positive().default(10_000).describe('Longest wait for an answer'),
    accept: z
      .object({
        field: z.string().min(1).describe('Field of the JSON answer that says whether the message was taken, e.g. code'),
        values: z.array(Scalar).min(1).describe('Its values that mean taken, e.g. [0, 200]'),
      })
      .strict()
      .optional()
      .describe('A 2xx answer whose JSON body does not say "taken" counts as refused'),
  })
  .strict();

const MessageSpec = z
  .object({
    topic: z.string().min(1).optional().describe('mqtt transport: the topic, a template'),
    path: z.string().min(1).optional().describe('https transport: appended to transport.url, a template'),
    per: z.enum(['device', 'metric']).optional().describe('reading: one message per device and interval (default), or one per metric'),
    actions: z.array(z.enum(ALARM_ACTIONS)).min(1).optional().describe('alarm: the changes sent (default: every change)'),
    body: z.unknown().optional(),
  })
  .strict();

export const NorthboundMapFile = z
  .object({
    name: z.string().regex(ID_PATTERN, 'expected 1 to 64 letters, digits, "_", "." or "-"'),
    description: z.string().optional(),
    utcOffset: z.string().optional().describe('+HH:MM of the local times the upper platform wants'),
    transport: z.discriminatedUnion('kind', [MqttTransport, HttpsTransport], { error: 'expected kind: mqtt or kind: https' }),
    tables: z.record(z.string(), z.record(z.string(), Scalar)).default({}),
    messages: z.object(Object.fromEntries(MESSAGE_KINDS.map((k) => [k, MessageSpec.optional()])) as Record<MessageKind, z.ZodOptional<typeof MessageSpec>>).strict(),
  })
  .strict();

export type MqttTransportSpec = z.infer<typeof MqttTransport>;
export type HttpsTransportSpec = z.infer<typeof HttpsTransport>;
export type TransportSpec = MqttTransportSpec | HttpsTransportSpec;

export interface CompiledMessage {
  kind: MessageKind;
  /** Topic (mqtt) or path (https). */
  target: Template;
  body: Node;
  per: 'device' | 'metric';
  actions: ReadonlySet<string>;
}

export interface NorthboundMap {
  name: string;
  source: string;
  transport: TransportSpec;
  tables: Record<string, Record<string, unknown>>;
  messages: Partial<Record<MessageKind, CompiledMessage>>;
}

const TABLE_NAME = /^[A-Za-z][A-Za-z0-9_-]*$/;
const UTC_OFFSET = /^[+-](0\d|1[0-4]):[0-5]\d$/;
const ENV_REF = /\$\{([^}]*)\}/g;

/** `${NAME}` in transport strings: secrets stay out of the file. */
function substituteEnv(text: string, where: string, env: NodeJS.ProcessEnv, problems: string[]): string {
  return text.replace(ENV_REF, (_, name: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      problems.push(`${where}: "\${${name}}" is not an environment variable name`);
      return '';
    }
    if (name.startsWith('HAZWATCH_')) {
      problems.push(`${where}: \${${name}}: HAZWATCH_* variables are settings of hazwatch; give the secret another name (e.g. NB_PASSWORD)`);
      return '';
    }
    const value = env[name];
    if (value === undefined) {
      problems.push(`${where}: environment variable ${name} is not set`);
      return '';
    }
    return value;
  });
}

function checkUrl(text: string, schemes: string[], where: string, problems: string[]): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    problems.push(`${where}: "${text}" is not a URL`);
    return;
  }
  if (!schemes.includes(url.protocol)) problems.push(`${where}: "${text}": expected ${schemes.map((s) => `${s}//`).join(', ')}`);
}

function resolveTransport(t: TransportSpec, source: string, env: NodeJS.ProcessEnv, problems: string[]): TransportSpec {
  const sub = (v: string, field: string) => substituteEnv(v, `${source}: transport.${field}`, env, problems);
  if (t.kind === 'mqtt') {
    const out: MqttTransportSpec = { ...t, url: sub(t.url, 'url'), clientId: sub(t.clientId, 'clientId') };
    if (t.username !== undefined) out.username = sub(t.username, 'username');
    if (t.password !== undefined) out.password = sub(t.password, 'password');
    if (t.url.match(ENV_REF) === null) checkUrl(out.url, ['mqtt:', 'mqtts:', 'ws:', 'wss:'], `${source}: transport.url`, problems);
    if (t.ca !== undefined) checkReadable(t.ca, `${source}: transport.ca`, problems);
    return out;
  }
  const headers = Object.fromEntries(Object.entries(t.headers).map(([k, v]) => [k, sub(v, `headers.${k}`)]));
  const out: HttpsTransportSpec = { ...t, url: sub(t.url, 'url'), headers };
  if (t.url.match(ENV_REF) === null) checkUrl(out.url, ['https:', 'http:'], `${source}: transport.url`, problems);
  if (t.ca !== undefined) checkReadable(t.ca, `${source}: transport.ca`, problems);
  return out;
}

function checkReadable(path: string, where: string, problems: string[]): void {
  try {
    readFileSync(path);
  } catch (err) {
    problems.push(`${where}: cannot read ${path}: ${(err as Error).message}`);
  }
}

interface Scope {
  kind: MessageKind;
  /** Inside `$each: values`, or a reading sent per metric: the value's own fields are there. */
  values: boolean;
  inEach: boolean;
}

/** Compiles every template of a message, collecting problems; the map's state is needed to check tables and formats. */
function compiler(file: z.infer<typeof NorthboundMapFile>, source: string, problems: string[]) {
  // A malformed utcOffset is reported once, not again at every local time that needs it.
  const utcOffset = file.utcOffset === undefined || UTC_OFFSET.test(file.utcOffset) ? file.utcOffset : '+00:00';

  function template(text: string, where: string, scope: Scope): Template {
    const parsed = parseTemplate(text);
    if (typeof parsed === 'string') {
      problems.push(`${where}: ${parsed}`);
      return { text, parts: [] };
    }
    const parts: Part[] = parsed.parts.map((p) => {
      if ('text' in p) return p;
      const allowed = FIELDS[scope.kind].includes(p.ref) || (scope.values && VALUE_FIELDS.includes(p.ref)) || (hasDeviceFields(scope.kind) && /^device\.meta\.[^.]+$/.test(p.ref));
      if (!allowed) {
        if (VALUE_FIELDS.includes(p.ref) && scope.kind === 'reading') {
          problems.push(`${where}: {${p.ref}} is a field of one value: use it inside { $each: values, item: ... }, or send the readings per: metric`);
        } else {
          const offered = [...FIELDS[scope.kind], ...(scope.values ? VALUE_FIELDS : []), ...(hasDeviceFields(scope.kind) ? ['device.meta.<key>'] : [])];
          problems.push(`${where}: {${p.ref}} is not a field of ${scope.kind} messages (fields: ${offered.join(', ')})`);
        }
        return { ref: p.ref };
      }
      if (p.formatText !== undefined) {
        if (!TIME_FIELDS.has(p.ref)) {
          problems.push(`${where}: {${p.ref}:${p.formatText}}: only times take a format (${[...TIME_FIELDS].join(', ')})`);
          return { ref: p.ref };
        }
        const format = timeFormat(p.formatText, utcOffset);
        if (typeof format === 'string') {
          problems.push(`${where}: {${p.ref}:${p.formatText}}: ${format}`);
          return { ref: p.ref };
        }
        return { ref: p.ref, format, formatText: p.formatText };
      }
      if (p.table !== undefined) {
        const table = file.tables[p.table];
        if (!table) {
          problems.push(`${where}: {${p.ref}|${p.table}}: no table "${p.table}" in tables (${Object.keys(file.tables).join(', ') || 'none'})`);
          return { ref: p.ref };
        }
        const actions = file.messages.alarm?.actions ?? DEFAULT_ALARM_ACTIONS;
        const domain = fieldDomain(p.ref, actions);
        if (domain && !Object.hasOwn(table, '*')) {
          const missing = domain.filter((v) => !Object.hasOwn(table, v));
          if (missing.length) problems.push(`${where}: {${p.ref}|${p.table}}: table ${p.table} lacks ${missing.join(', ')} (map every value, or give "*" for the rest)`);
        }
        return { ref: p.ref, table: p.table };
      }
      return { ref: p.ref };
    });
    return { text, parts };
  }

  function node(value: unknown, where: string, scope: Scope): Node {
    if (typeof value === 'string') {
      const t = template(value, where, scope);
      return t.parts.every((p) => 'text' in p) ? { kind: 'literal', value: t.parts.map((p) => ('text' in p ? p.text : '')).join('') } : { kind: 'template', template: t };
    }
    if (Array.isArray(value)) return { kind: 'array', items: value.map((v, i) => node(v, `${where}[${i}]`, scope)) };
    if (value !== null && typeof value === 'object') {
      const obj = value as Record<string, unknown>;
      if ('$each' in obj) {
        const extra = Object.keys(obj).filter((k) => k !== '$each' && k !== 'item');
        if (scope.kind !== 'reading') problems.push(`${where}.$each: only reading messages have values to iterate`);
        else if (obj.$each !== 'values') problems.push(`${where}.$each: "${String(obj.$each)}": the one list to iterate is values`);
        else if (scope.inEach) problems.push(`${where}.$each: already inside $each`);
        if (extra.length) problems.push(`${where}: an object with $each has only $each and item (found ${extra.join(', ')})`);
        if (!('item' in obj)) problems.push(`${where}.item: missing: the element sent for each value`);
        return { kind: 'each', source: 'values', item: node(obj.item, `${where}.item`, { ...scope, values: true, inEach: true }) };
      }
      const entries: [string, Node][] = [];
      for (const [k, v] of Object.entries(obj)) {
        if (k.startsWith('$')) problems.push(`${where}.${k}: keys starting with $ are reserved ($each)`);
        entries.push([k, node(v, `${where}.${k}`, scope)]);
      }
      return { kind: 'object', entries };
    }
    return { kind: 'literal', value: value ?? null };
  }

  return { template, node };
}

/** Compiles one map file's content; `problems` gets every error, each with the file and field in front. */
export function compileNorthboundMap(data: unknown, source: string, problems: string[], env: NodeJS.ProcessEnv = process.env): NorthboundMap | undefined {
  const parsed = NorthboundMapFile.safeParse(data);
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push(`${source}: ${i.path.join('.') || '(file)'}: ${i.message}`);
    return undefined;
  }
  const file = parsed.data;
  const before = problems.length;
  if (file.utcOffset !== undefined && !UTC_OFFSET.test(file.utcOffset)) problems.push(`${source}: utcOffset: "${file.utcOffset}": expected +HH:MM, e.g. "+08:00"`);
  for (const name of Object.keys(file.tables)) if (!TABLE_NAME.test(name)) problems.push(`${source}: tables.${name}: a table name is letters, digits, _ and -, starting with a letter`);
  const transport = resolveTransport(file.transport, source, env, problems);
  const c = compiler(file, source, problems);
  const messages: NorthboundMap['messages'] = {};
  const kinds = MESSAGE_KINDS.filter((k) => file.messages[k] !== undefined);
  if (!kinds.length) problems.push(`${source}: messages: none given (enterprise, hazardSource, device, reading, alarm)`);
  for (const kind of kinds) {
    const spec = file.messages[kind]!;
    const where = `${source}: messages.${kind}`;
    const targetField = transport.kind === 'mqtt' ? 'topic' : 'path';
    const otherField = transport.kind === 'mqtt' ? 'path' : 'topic';
    if (spec[otherField] !== undefined) problems.push(`${where}.${otherField}: the ${transport.kind} transport sends to a ${targetField}, not a ${otherField}`);
    if (spec[targetField] === undefined) problems.push(`${where}.${targetField}: missing: where the ${transport.kind} transport sends ${kind} messages`);
    if (spec.per !== undefined && kind !== 'reading') problems.push(`${where}.per: only reading messages are sent per device or per metric`);
    if (spec.actions !== undefined && kind !== 'alarm') problems.push(`${where}.actions: only alarm messages are chosen by action`);
    const per = spec.per ?? 'device';
    const scope: Scope = { kind, values: kind === 'reading' && per === 'metric', inEach: false };
    const targetText = spec[targetField] ?? '';
    const target = c.template(targetText, `${where}.${targetField}`, scope);
    if (transport.kind === 'mqtt' && target.parts.some((p) => 'text' in p && /[+#]/.test(p.text))) problems.push(`${where}.topic: "${targetText}": a topic to publish on has no + or #`);
    if (spec.body === undefined || spec.body === null || typeof spec.body !== 'object') {
      problems.push(`${where}.body: missing or not an object: the JSON sent, a template`);
      continue;
    }
    const body = c.node(spec.body, `${where}.body`, scope);
    messages[kind] = { kind, target, body, per, actions: new Set(spec.actions ?? DEFAULT_ALARM_ACTIONS) };
  }
  if (problems.length > before) return undefined;
  return { name: file.name, source, transport, tables: file.tables, messages };
}

/** Reads and checks a map file (YAML or JSON); throws HW_ERR_CONFIG naming the file and every field at fault. */
export function loadNorthboundMap(path: string, env: NodeJS.ProcessEnv = process.env): NorthboundMap {
  let data: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    data = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `northbound.map: ${path}: ${(err as Error).message}`);
  }
  const problems: string[] = [];
  const map = compileNorthboundMap(data, path, problems, env);
  if (!map || problems.length) throw new HazwatchError('HW_ERR_CONFIG', `northbound.map: ${problems.join('; ')}`);
  return map;
}
