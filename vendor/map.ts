// Vendor maps: which foreign topic and JSON payload give which hazwatch readings. Data, one file per
// device type (YAML or JSON), checked once at start against the catalog: a wrong class, metric, unit,
// path, template or topic stops `hazwatch vendor` with the file and entry named (HW_ERR_CONFIG).
//
//   name: gas-dtu-4ch                     # the map's id (metrics, logs)
//   topic: gasdtu/{dtu}/up                # MQTT topic; {name} captures one level
//   enterprise: demo-chem                 # literal or template
//   register: true                        # register a device unknown to the registry at its first message
//   timestamp: { path: time, format: "yyyy-MM-dd HH:mm:ss", utcOffset: "+08:00" }
//   readings:
//     - each: ch                          # one reading per element of this array
//       where: { gas: CH4 }               # of the elements whose fields equal these
//       device: "{dtu}-ch{no}"            # template: topic captures and payload paths
//       class: gas_combustible
//       values:
//         lel: val                        # catalog metric: path
//         # or { path, unit, gas, scale, offset }: value × scale + offset, in `unit`, converted to the catalog's
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEVICE_CLASSES, metricSpec, type DeviceClass } from '../contract/catalog.ts';
import { HazwatchError } from '../contract/errors.ts';
import { ID_PATTERN, TOPIC_ROOT } from '../contract/topics.ts';
import { parsePath, parseTemplate, type Path, type Template } from './paths.ts';
import { timeParser, type ParseTime } from './timestamps.ts';
import { conversion, type Convert } from './units.ts';

const Scalar = z.union([z.string(), z.number(), z.boolean()]);

const TimestampSpec = z
  .object({
    path: z.string().min(1),
    format: z.string().min(1).describe('epoch_ms, epoch_s, iso8601, or a pattern of yyyy MM dd HH mm ss SSS'),
    utcOffset: z.string().optional().describe('UTC offset of a local-time pattern, +HH:MM'),
  })
  .strict();

const ValueSpec = z.union([
  z.string().min(1),
  z
    .object({
      path: z.string().min(1),
      unit: z.string().min(1).optional().describe('Unit the device reports in (default: the catalog unit)'),
      gas: z.string().min(1).optional().describe('Gas of a mg/m3 ↔ ppm conversion'),
      scale: z.number().finite().default(1),
      offset: z.number().finite().default(0),
    })
    .strict(),
]);

const ReadingSpec = z
  .object({
    each: z.string().min(1).optional().describe('Path of an array: one reading per element'),
    where: z.record(z.string().min(1), Scalar).optional().describe('Only elements (or messages) whose paths hold these values'),
    device: z.string().min(1).describe('hazwatch device id, a template'),
    class: z.enum(Object.keys(DEVICE_CLASSES) as [DeviceClass, ...DeviceClass[]]),
    timestamp: TimestampSpec.optional(),
    values: z.record(z.string().min(1), ValueSpec).refine((v) => Object.keys(v).length > 0, 'map at least one metric'),
  })
  .strict();

export const VendorMapFile = z
  .object({
    name: z.string().regex(ID_PATTERN, 'expected 1 to 64 letters, digits, "_", "." or "-"'),
    description: z.string().optional(),
    topic: z.string().min(1),
    enterprise: z.string().min(1).describe('Enterprise id, a template'),
    register: z.boolean().default(false),
    timestamp: TimestampSpec.optional(),
    readings: z.array(ReadingSpec).min(1),
  })
  .strict();
export type VendorMapFile = z.infer<typeof VendorMapFile>;

export interface CompiledValue {
  metric: string;
  path: Path;
  boolean: boolean;
  /** From the reported number to the catalog's unit (scale and offset first, then the unit). */
  convert: Convert;
}

export interface CompiledReading {
  each?: Path;
  where: { path: Path; equals: string | number | boolean }[];
  device: Template;
  class: DeviceClass;
  timestamp?: { path: Path; parse: ParseTime };
  values: CompiledValue[];
}

export interface VendorMap {
  name: string;
  source: string;
  /** The subscription: captures replaced by `+`. */
  filter: string;
  /** Topic level index of each capture. */
  captures: { name: string; level: number }[];
  levels: string[];
  enterprise: Template;
  register: boolean;
  readings: CompiledReading[];
}

const RESERVED_ROOTS = [TOPIC_ROOT, 'spBv1.0', 'STATE'];

function compileTopic(topic: string, problems: string[], where: string): Pick<VendorMap, 'filter' | 'captures' | 'levels'> {
  const levels = topic.split('/');
  const captures: VendorMap['captures'] = [];
  const filterLevels = levels.map((l, i) => {
    const m = /^\{([A-Za-z_][A-Za-z0-9_]*)\}$/.exec(l);
    if (m) {
      if (captures.some((c) => c.name === m[1])) problems.push(`${where}.topic: {${m[1]}} captured twice`);
      captures.push({ name: m[1], level: i });
      return '+';
    }
    if (/[{}]/.test(l)) problems.push(`${where}.topic: "${l}": a capture is a whole level, {name}`);
    if (l === '#' && i !== levels.length - 1) problems.push(`${where}.topic: "#" only as the last level [MQTT-4.7.1-2]`);
    if (l !== '#' && l !== '+' && /[+#]/.test(l)) problems.push(`${where}.topic: "+" and "#" stand alone in their level [MQTT-4.7.1-3]`);
    return l;
  });
  if (levels[0].startsWith('$') || RESERVED_ROOTS.includes(levels[0]) || levels[0] === '+' || levels[0] === '#') {
    problems.push(`${where}.topic: "${topic}" must start with a literal level of the vendor's own (not $…, ${RESERVED_ROOTS.join(', ')}, + or #)`);
  }
  return { filter: filterLevels.join('/'), captures, levels: filterLevels };
}

/** True when some topic matches both filters. */
export function filtersOverlap(a: string, b: string): boolean {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; ; i++) {
    if (x[i] === '#' || y[i] === '#') return true;
    if (i === x.length || i === y.length) return x.length === y.length;
    if (x[i] !== '+' && y[i] !== '+' && x[i] !== y[i]) return false;
  }
}

function compileValue(cls: DeviceClass, metric: string, spec: z.infer<typeof ValueSpec>, problems: string[], where: string): CompiledValue | undefined {
  const s = typeof spec === 'string' ? { path: spec, scale: 1, offset: 0, unit: undefined, gas: undefined } : spec;
  const m = metricSpec(cls, metric);
  const path = parsePath(s.path);
  if (!m) {
    problems.push(`${where}: "${metric}" is not a metric of ${cls} (${Object.keys(DEVICE_CLASSES[cls].metrics).join(', ')})`);
    return undefined;
  }
  if (typeof path === 'string') {
    problems.push(`${where}: ${path}`);
    return undefined;
  }
  if (m.type === 'boolean') {
    if (s.unit !== undefined || s.gas !== undefined || s.scale !== 1 || s.offset !== 0) problems.push(`${where}: ${metric} is a boolean: no unit, gas, scale or offset`);
    return { metric, path, boolean: true, convert: (v) => v };
  }
  const unit = s.unit ?? m.unit;
  const convert = conversion(unit, m.unit, s.gas);
  if (typeof convert === 'string') {
    problems.push(`${where}: ${convert}`);
    return undefined;
  }
  const { scale, offset } = s;
  return { metric, path, boolean: false, convert: scale === 1 && offset === 0 ? convert : (v) => convert(v * scale + offset) };
}

function compileTimestamp(spec: z.infer<typeof TimestampSpec> | undefined, problems: string[], where: string): CompiledReading['timestamp'] {
  if (!spec) return undefined;
  const path = parsePath(spec.path);
  const parse = timeParser(spec.format, spec.utcOffset);
  if (typeof path === 'string') problems.push(`${where}.timestamp: ${path}`);
  if (typeof parse === 'string') problems.push(`${where}.timestamp: ${parse}`);
  return typeof path === 'string' || typeof parse === 'string' ? undefined : { path, parse };
}

/** Compiles one map file's content; `problems` gets every error, each with `where` in front. */
export function compileVendorMap(data: unknown, source: string, problems: string[]): VendorMap | undefined {
  const parsed = VendorMapFile.safeParse(data);
  if (!parsed.success) {
    for (const i of parsed.error.issues) problems.push(`${source}: ${i.path.join('.') || '(file)'}: ${i.message}`);
    return undefined;
  }
  const file = parsed.data;
  const before = problems.length;
  const topic = compileTopic(file.topic, problems, source);
  const names = topic.captures.map((c) => c.name);
  const template = (text: string, where: string): Template | undefined => {
    const t = parseTemplate(text, names);
    if (typeof t === 'string') problems.push(`${where}: ${t}`);
    return typeof t === 'string' ? undefined : t;
  };
  const enterprise = template(file.enterprise, `${source}: enterprise`);
  if (enterprise?.parts.every((p) => 'text' in p) && !ID_PATTERN.test(file.enterprise)) problems.push(`${source}: enterprise "${file.enterprise}" is not a valid id`);
  const mapTimestamp = compileTimestamp(file.timestamp, problems, `${source}: `);
  const readings: CompiledReading[] = file.readings.map((r, i) => {
    const where = `${source}: readings[${i}]`;
    const each = r.each === undefined ? undefined : parsePath(r.each);
    if (typeof each === 'string') problems.push(`${where}.each: ${each}`);
    const whereList = Object.entries(r.where ?? {}).map(([p, equals]) => {
      const path = parsePath(p);
      if (typeof path === 'string') problems.push(`${where}.where: ${path}`);
      return { path: path as Path, equals };
    });
    const values = Object.entries(r.values).flatMap(([metric, spec]) => compileValue(r.class, metric, spec, problems, `${where}.values.${metric}`) ?? []);
    return {
      ...(each && typeof each !== 'string' ? { each } : {}),
      where: whereList,
      device: template(r.device, `${where}.device`)!,
      class: r.class,
      // The map's timestamp is the message's: read from the root even inside `each`.
      timestamp: r.timestamp ? compileTimestamp(r.timestamp, problems, where) : mapTimestamp && { ...mapTimestamp, path: { ...mapTimestamp.path, root: true } },
      values,
    };
  });
  if (problems.length > before) return undefined;
  return { name: file.name, source, ...topic, enterprise: enterprise!, register: file.register, readings };
}

function filesOf(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `vendor.maps: cannot read ${path}: ${(err as Error).message}`);
  }
  if (!stat.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)))
    .sort()
    .map((f) => join(path, f));
}

/** Reads and checks every map of `paths` (files, or directories of .yaml/.yml/.json files). */
export function loadVendorMaps(paths: readonly string[]): VendorMap[] {
  const problems: string[] = [];
  const maps: VendorMap[] = [];
  for (const file of paths.flatMap(filesOf)) {
    let data: unknown;
    try {
      const text = readFileSync(file, 'utf8');
      data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
      continue;
    }
    const map = compileVendorMap(data, file, problems);
    if (!map) continue;
    for (const other of maps) {
      if (other.name === map.name) problems.push(`${file}: name "${map.name}" is also the name of ${other.source}`);
      // A message matching two maps would be taken twice: each topic belongs to one map.
      if (filtersOverlap(other.filter, map.filter)) problems.push(`${file}: topic ${map.filter} overlaps ${other.filter} of ${other.source}: a message would match both`);
    }
    maps.push(map);
  }
  if (problems.length) throw new HazwatchError('HW_ERR_CONFIG', `vendor.maps: ${problems.join('; ')}`);
  return maps;
}
