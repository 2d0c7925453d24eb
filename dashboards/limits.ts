// Per-device H/HH/L/LL limits of hazard-source vessels. Level, temperature and pressure have no
// national numbers: each comes from the process design and is registered with the device as
// `meta.limits.<metric> = { hh, h, l, ll }` (any subset; keys case-insensitive). Grafana cannot read
// the registry, so `hazwatch dashboards` turns these limits into per-series threshold bands when it
// generates the hazard-source dashboard; run it again after changing limits (compose does at start).
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { openRegistry } from '../registry/registry.ts';
import { isPostgresUrl } from '../core/sql.ts';

export const VESSEL_LIMIT_METRICS = ['level', 'temperature', 'pressure'] as const;
export type VesselLimitMetric = (typeof VESSEL_LIMIT_METRICS)[number];

export const Limits = z
  .record(z.string(), z.unknown())
  .transform((raw) => {
    const get = (key: string) => {
      const entry = Object.entries(raw).find(([k]) => k.toLowerCase() === key);
      return typeof entry?.[1] === 'number' && Number.isFinite(entry[1]) ? entry[1] : undefined;
    };
    return { hh: get('hh'), h: get('h'), l: get('l'), ll: get('ll') };
  });
export type Limits = z.infer<typeof Limits>;

export interface DeviceLimits {
  /** Series name on the panels: `<enterprise>/<device>`. */
  series: string;
  metric: VesselLimitMetric;
  limits: Limits;
}

/** Limits of every vessel in the registry, sorted, so the generated JSON is stable. */
export async function readVesselLimits(registryPath: string): Promise<DeviceLimits[]> {
  if (!isPostgresUrl(registryPath) && !existsSync(registryPath)) return [];
  const registry = await openRegistry(registryPath);
  try {
    const out: DeviceLimits[] = [];
    for (const device of registry.devices()) {
      if (device.class !== 'vessel' || device.revokedAt !== null) continue;
      const all = device.meta.limits;
      if (!all || typeof all !== 'object') continue;
      for (const metric of VESSEL_LIMIT_METRICS) {
        const parsed = Limits.safeParse((all as Record<string, unknown>)[metric]);
        if (!parsed.success) continue;
        const l = parsed.data;
        if ([l.hh, l.h, l.l, l.ll].every((v) => v === undefined)) continue;
        out.push({ series: `${device.enterprise}/${device.id}`, metric, limits: l });
      }
    }
    return out.sort((a, b) => (a.series === b.series ? a.metric.localeCompare(b.metric) : a.series < b.series ? -1 : 1));
  } finally {
    await registry.close();
  }
}
