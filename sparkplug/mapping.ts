// Which Sparkplug devices are which hazwatch devices, and which of their metrics are which readings:
// data, one file per edge node (or per group with `node: "*"`), checked once at start against the
// catalog so that a wrong class or metric name stops the translator with the file and entry named.
//
//   group: demo-chem            # Sparkplug group id = the enterprise
//   node: edge-1                # edge node id = the gateway whose account publishes, or "*"
//   devices:
//     LEL-102:                  # Sparkplug device id
//       device: lel-102         # hazwatch device id
//       class: gas_combustible  # registered with this class at its first DBIRTH if unknown
//       metrics:
//         "Gas/LEL": lel                              # Sparkplug metric name → catalog metric
//         "Gas/LEL raw": { metric: lel, scale: 0.1 }  # value × scale + offset
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { DEVICE_CLASSES, metricSpec, type DeviceClass } from '../contract/catalog.ts';
import { HazwatchError } from '../contract/errors.ts';
import { ID_PATTERN } from '../contract/topics.ts';

const Id = z.string().regex(ID_PATTERN, 'expected 1 to 64 letters, digits, "_", "." or "-", starting with a letter or digit');

const MetricTarget = z.union([
  z.string().min(1),
  z.object({ metric: z.string().min(1), scale: z.number().finite().default(1), offset: z.number().finite().default(0) }).strict(),
]);

const DeviceMapping = z
  .object({
    device: Id.describe('hazwatch device id'),
    class: z.enum(Object.keys(DEVICE_CLASSES) as [DeviceClass, ...DeviceClass[]]).describe('Device class of the catalog'),
    metrics: z.record(z.string().min(1), MetricTarget).refine((m) => Object.keys(m).length > 0, 'map at least one metric'),
  })
  .strict();

export const SparkplugMapFile = z
  .object({
    group: Id.describe('Sparkplug group id: the enterprise'),
    node: z.union([Id, z.literal('*')]).describe('Edge node id (the gateway), or * for every node of the group'),
    devices: z.record(z.string().min(1), DeviceMapping),
  })
  .strict();

export interface MetricTarget {
  metric: string;
  scale: number;
  offset: number;
}

export interface MappedDevice {
  enterprise: string;
  device: string;
  class: DeviceClass;
  /** Sparkplug metric name → catalog metric with its conversion. */
  metrics: Map<string, MetricTarget>;
  /** Where it was declared, for messages. */
  source: string;
}

export interface SparkplugMaps {
  /** The mapping of a Sparkplug device of an edge node (its own file first, then the group's `*`). */
  find(group: string, node: string, device: string): MappedDevice | undefined;
  readonly size: number;
}

function filesOf(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch (err) {
    throw new HazwatchError('HW_ERR_CONFIG', `sparkplug.maps: cannot read ${path}: ${(err as Error).message}`);
  }
  if (!stat.isDirectory()) return [path];
  return readdirSync(path)
    .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)))
    .sort()
    .map((f) => join(path, f));
}

/** Reads and checks every map file of `paths` (files or directories of .yaml/.yml/.json). */
export function loadSparkplugMaps(paths: readonly string[]): SparkplugMaps {
  const byKey = new Map<string, MappedDevice>();
  const owner = new Map<string, string>();
  const problems: string[] = [];
  for (const file of paths.flatMap(filesOf)) {
    let data: unknown;
    try {
      const text = readFileSync(file, 'utf8');
      data = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
      continue;
    }
    const parsed = SparkplugMapFile.safeParse(data);
    if (!parsed.success) {
      for (const i of parsed.error.issues) problems.push(`${file}: ${i.path.join('.') || '(file)'}: ${i.message}`);
      continue;
    }
    const { group, node, devices } = parsed.data;
    for (const [spDevice, d] of Object.entries(devices)) {
      const where = `${file}: devices.${spDevice}`;
      const metrics = new Map<string, MetricTarget>();
      for (const [name, target] of Object.entries(d.metrics)) {
        const t = typeof target === 'string' ? { metric: target, scale: 1, offset: 0 } : target;
        const spec = metricSpec(d.class, t.metric);
        if (!spec) problems.push(`${where}.metrics.${name}: "${t.metric}" is not a metric of ${d.class} (${Object.keys(DEVICE_CLASSES[d.class].metrics).join(', ')})`);
        else if (spec.type === 'boolean' && (t.scale !== 1 || t.offset !== 0)) problems.push(`${where}.metrics.${name}: ${t.metric} is a boolean: no scale or offset`);
        metrics.set(name, t);
      }
      const key = `${group}\0${node}\0${spDevice}`;
      if (byKey.has(key)) problems.push(`${where}: Sparkplug device ${group}/${node}/${spDevice} is mapped twice (also in ${byKey.get(key)!.source})`);
      const target = `${group}/${d.device}`;
      if (owner.has(target)) problems.push(`${where}: hazwatch device ${target} is already the target of ${owner.get(target)}`);
      owner.set(target, where);
      byKey.set(key, { enterprise: group, device: d.device, class: d.class, metrics, source: where });
    }
  }
  if (problems.length) throw new HazwatchError('HW_ERR_CONFIG', `sparkplug.maps: ${problems.join('; ')}`);
  return {
    find: (group, node, device) => byKey.get(`${group}\0${node}\0${device}`) ?? byKey.get(`${group}\0*\0${device}`),
    size: byKey.size,
  };
}
