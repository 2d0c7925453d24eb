// One vendor message through its map: the readings it gives, per hazwatch device, in the contract's
// telemetry shape, or the reason it gives none. Pure: the service (vendor/service.ts) publishes the
// readings on the devices' hw/v1 telemetry topics, where ingest and rules take them as a native device's.
import type { DeviceClass } from '../contract/catalog.ts';
import type { ErrorCode } from '../contract/errors.ts';
import { ID_PATTERN } from '../contract/topics.ts';
import type { VendorMap } from './map.ts';
import { fillTemplate, readPath } from './paths.ts';

export type Value = number | boolean | string;

export interface DeviceReadings {
  enterprise: string;
  device: string;
  class: DeviceClass;
  /** Without `ts` the platform's receive time is used, as for a native device that sends none. */
  readings: { ts?: number; values: Record<string, Value> }[];
}

export interface Refusal {
  code: ErrorCode;
  detail: string;
  /** The device it concerns, when the message got that far. */
  enterprise?: string;
  device?: string;
}

export interface Translation {
  devices: DeviceReadings[];
  refusals: Refusal[];
  /** Mapped fields absent from the message (a partial report), left out. */
  absent: number;
}

/** The map's captures of a concrete topic, or undefined when the topic is not the map's. */
export function matchTopic(map: VendorMap, topic: string): Record<string, string> | undefined {
  const levels = topic.split('/');
  const f = map.levels;
  if (f[f.length - 1] === '#' ? levels.length < f.length - 1 : levels.length !== f.length) return undefined;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') break;
    if (f[i] !== '+' && f[i] !== levels[i]) return undefined;
  }
  const captures: Record<string, string> = {};
  for (const c of map.captures) captures[c.name] = levels[c.level];
  return captures;
}

/** A number as devices write them: a JSON number or a decimal string ("12.5"). */
function number(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(v)) return Number(v);
  return undefined;
}

/** A boolean as devices write them: true/false, 1/0, "1"/"0", "true"/"false". */
function boolean(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (v === 1 || v === '1' || v === 'true') return true;
  if (v === 0 || v === '0' || v === 'false') return false;
  return undefined;
}

export function translate(map: VendorMap, captures: Record<string, string>, payload: Buffer | string): Translation {
  const out: Translation = { devices: [], refusals: [], absent: 0 };
  let root: unknown;
  try {
    root = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'));
  } catch (err) {
    out.refusals.push({ code: 'HW_ERR_BAD_JSON', detail: (err as Error).message });
    return out;
  }
  const ent = fillTemplate(map.enterprise, captures, root, root);
  if ('missing' in ent || !ID_PATTERN.test(ent.value)) {
    out.refusals.push({ code: 'HW_ERR_MAP_DEVICE', detail: 'missing' in ent ? `enterprise: no value at ${ent.missing}` : `enterprise "${ent.value}" is not a valid id` });
    return out;
  }
  const enterprise = ent.value;
  const byDevice = new Map<string, DeviceReadings>();

  for (const [i, spec] of map.readings.entries()) {
    let elements: unknown[] = [root];
    if (spec.each) {
      const list = readPath(spec.each, root, root);
      if (!Array.isArray(list)) {
        // A message of another shape than the map describes: said, not guessed at.
        out.refusals.push({ code: 'HW_ERR_MAP_PATH', detail: `readings[${i}].each: ${spec.each.text} is ${list === undefined ? 'missing' : 'not an array'}` });
        continue;
      }
      elements = list;
    }
    for (const element of elements) {
      if (!spec.where.every((w) => readPath(w.path, root, element) === w.equals)) continue;
      const dev = fillTemplate(spec.device, captures, root, element);
      if ('missing' in dev) {
        out.refusals.push({ code: 'HW_ERR_MAP_PATH', detail: `readings[${i}].device: no value at ${dev.missing}` });
        continue;
      }
      if (!ID_PATTERN.test(dev.value)) {
        out.refusals.push({ code: 'HW_ERR_MAP_DEVICE', detail: `readings[${i}].device: "${dev.value}" is not a valid device id`, enterprise });
        continue;
      }
      const device = dev.value;
      let ts: number | undefined;
      if (spec.timestamp) {
        const raw = readPath(spec.timestamp.path, root, element);
        ts = spec.timestamp.parse(raw);
        if (ts === undefined) {
          out.refusals.push({ code: 'HW_ERR_MAP_TIMESTAMP', detail: `${spec.timestamp.path.text}: ${raw === undefined ? 'missing' : JSON.stringify(raw)} is not a time of the map's format`, enterprise, device });
          continue;
        }
      }
      const values: Record<string, Value> = {};
      for (const v of spec.values) {
        const raw = readPath(v.path, root, element);
        if (raw === undefined || raw === null) {
          out.absent++;
          continue;
        }
        if (v.boolean) {
          values[v.metric] = boolean(raw) ?? (raw as Value);
        } else {
          const n = number(raw);
          // Not a number: passed on as it is, and refused by ingest with the contract's HW_ERR_TYPE.
          values[v.metric] = n === undefined ? (raw as Value) : v.convert(n);
        }
      }
      if (!Object.keys(values).length) {
        out.refusals.push({ code: 'HW_ERR_EMPTY', detail: `readings[${i}]: none of ${spec.values.map((v) => v.path.text).join(', ')} in the message`, enterprise, device });
        continue;
      }
      const key = `${enterprise}/${device}`;
      const entry = byDevice.get(key) ?? { enterprise, device, class: spec.class, readings: [] };
      if (entry.class !== spec.class) {
        out.refusals.push({ code: 'HW_ERR_MAP_CLASS', detail: `readings[${i}]: ${key} is given as ${spec.class} and as ${entry.class} by one map`, enterprise, device });
        continue;
      }
      entry.readings.push({ ...(ts !== undefined ? { ts } : {}), values });
      byDevice.set(key, entry);
    }
  }
  out.devices = [...byDevice.values()];
  if (!out.devices.length && !out.refusals.length) out.refusals.push({ code: 'HW_ERR_EMPTY', detail: 'no reading of the map matches the message' });
  return out;
}
