// Builds every dashboard and writes the JSON files Grafana provisions. The output depends only on
// the code and on the vessel limits read from the registry: same input, same bytes (sorted keys,
// panel ids in layout order, no timestamps, no random ids).
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { numberPanels, stableJson, type BoardSpec } from './common.ts';
import type { DeviceLimits } from './limits.ts';
import { DEFAULT_LONG_RANGES, type LongRanges } from './tiers.ts';
import { overview } from './boards/overview.ts';
import { hazardSource } from './boards/hazard-source.ts';
import { gas } from './boards/gas.ts';
import { electrical } from './boards/electrical.ts';
import { fireWater } from './boards/fire-water.ts';
import { smoke } from './boards/smoke.ts';
import { alarmHistory } from './boards/alarm-history.ts';
import { platformHealth } from './boards/platform-health.ts';

export function boards(limits: DeviceLimits[] = []): BoardSpec[] {
  return [overview, hazardSource(limits), gas, electrical, fireWater, smoke, alarmHistory, platformHealth];
}

export interface GeneratedDashboard {
  file: string;
  dashboard: Dashboard;
  json: string;
}

/** The dashboards for these vessel limits; long ranges read the aggregates unless `ranges` says otherwise. */
export function generateDashboards(limits: DeviceLimits[] = [], ranges: LongRanges = DEFAULT_LONG_RANGES): GeneratedDashboard[] {
  return boards(limits).map((b) => {
    const dashboard = numberPanels(b.build({ ranges }));
    return { file: b.file, dashboard, json: stableJson(dashboard) };
  });
}

/**
 * Writes the files into `dir`; returns the names written and those left unchanged. Stale
 * hazwatch files no longer generated are removed, so Grafana does not keep a dashboard that is gone.
 */
export function writeDashboards(dir: string, generated: GeneratedDashboard[]): { written: string[]; unchanged: string[]; removed: string[] } {
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  const unchanged: string[] = [];
  for (const g of generated) {
    const path = join(dir, g.file);
    let old: string | undefined;
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      old = undefined;
    }
    if (old === g.json) unchanged.push(g.file);
    else {
      // Grafana may scan the folder at any moment: never let it read a half-written file.
      writeFileSync(`${path}.tmp`, g.json);
      renameSync(`${path}.tmp`, path);
      written.push(g.file);
    }
  }
  const names = new Set(generated.map((g) => g.file));
  const removed: string[] = [];
  for (const f of readdirSync(dir)) {
    if (f.endsWith('.json') && !names.has(f)) {
      let uid: unknown;
      try {
        uid = (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { uid?: unknown }).uid;
      } catch {
        continue;
      }
      if (typeof uid === 'string' && uid.startsWith('hazwatch-')) {
        rmSync(join(dir, f));
        removed.push(f);
      }
    }
  }
  return { written, unchanged, removed };
}
