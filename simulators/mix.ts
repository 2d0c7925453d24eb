// Generated fleets: N enterprises × M devices of a chosen mix of classes, with the registry meta a
// real installation would carry (vessel process limits, the gas of a toxic detector, rated current).
import { DEVICE_CLASS_IDS, DEVICE_CLASSES, isDeviceClass, type DeviceClass } from '../contract/catalog.ts';
import { vesselLimits } from './models/index.ts';
import type { SimDevice } from './simulation.ts';

/** A chemical park's typical proportions: many gas detectors, fewer vessels, pumps and meters. */
export const DEFAULT_MIX: Record<DeviceClass, number> = {
  gas_combustible: 4,
  gas_toxic: 2,
  oxygen: 1,
  vessel: 2,
  fire_water: 1,
  power_meter: 2,
  smoke_alarm: 2,
  camera: 1,
};

const SHORT: Record<DeviceClass, string> = {
  vessel: 'tank',
  gas_combustible: 'lel',
  gas_toxic: 'tox',
  oxygen: 'o2',
  fire_water: 'fw',
  power_meter: 'pm',
  smoke_alarm: 'smoke',
  camera: 'cam',
};

/** Parses `gas_combustible=3,vessel=1` (or `all`) into weights. */
export function parseMix(text: string): Record<string, number> {
  if (text.trim() === 'all') return Object.fromEntries(DEVICE_CLASS_IDS.map((c) => [c, 1]));
  const mix: Record<string, number> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const [cls, weight = '1'] = part.split('=').map((s) => s.trim());
    if (!isDeviceClass(cls)) throw new Error(`unknown device class "${cls}" in mix (classes: ${DEVICE_CLASS_IDS.join(', ')})`);
    const w = Number(weight);
    if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`weight of ${cls} must be a non-negative number, got "${weight}"`);
    mix[cls] = w;
  }
  if (!Object.values(mix).some((w) => w > 0)) throw new Error('the mix has no class with a positive weight');
  return mix;
}

/** How many devices of each class among `count`, by largest remainder, in catalog order. */
export function allocate(mix: Record<string, number>, count: number): [DeviceClass, number][] {
  const entries = DEVICE_CLASS_IDS.filter((c) => (mix[c] ?? 0) > 0).map((c) => [c, mix[c]] as const);
  const total = entries.reduce((s, [, w]) => s + w, 0);
  const shares = entries.map(([c, w]) => ({ c, exact: (count * w) / total, n: Math.floor((count * w) / total) }));
  let left = count - shares.reduce((s, x) => s + x.n, 0);
  for (const x of [...shares].sort((a, b) => b.exact - b.n - (a.exact - a.n))) {
    if (left-- <= 0) break;
    x.n++;
  }
  return shares.map((x) => [x.c, x.n]);
}

/** Registry meta a simulated device of the class is registered with. */
export function defaultMeta(cls: DeviceClass): Record<string, unknown> {
  switch (cls) {
    case 'vessel':
      return { height: 10, limits: vesselLimits({ height: 10 }) };
    case 'gas_toxic':
      return { gas: 'H2S', exposureLimit: 10 };
    case 'power_meter':
      return { ratedCurrent: 100, nominalVoltage: 220 };
    case 'fire_water':
      // Pool design levels around the model's 4 m working level.
      return { limits: { pool_level: { HH: 5, H: 4.6, L: 3, LL: 2 } } };
    default:
      return {};
  }
}

export interface FleetSpec {
  enterprises: number;
  devicesPerEnterprise: number;
  mix?: Record<string, number>;
  /** Reports per second of every device; default each class's catalog interval. */
  rate?: number;
  prefix?: string;
}

export function fleetDevices(spec: FleetSpec): SimDevice[] {
  const prefix = spec.prefix ?? 'sim';
  const allocation = allocate(spec.mix ?? DEFAULT_MIX, spec.devicesPerEnterprise);
  const devices: SimDevice[] = [];
  for (let e = 1; e <= spec.enterprises; e++) {
    const enterprise = `${prefix}-e${String(e).padStart(3, '0')}`;
    for (const [cls, n] of allocation) {
      for (let i = 1; i <= n; i++) {
        devices.push({
          enterprise,
          id: `${SHORT[cls]}-${String(i).padStart(4, '0')}`,
          class: cls,
          intervalSeconds: spec.rate ? 1 / spec.rate : DEVICE_CLASSES[cls].intervalSeconds,
          meta: defaultMeta(cls),
        });
      }
    }
  }
  return devices;
}
