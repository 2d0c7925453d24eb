// Completes the site plan from the registry, for demos and first installs: enterprises without a place
// get one (tiled across the plan), and hazard sources that devices refer to but nobody registered are
// registered (grade 3 until assessed, positioned inside their enterprise). Never moves or changes
// anything already placed or assessed. Off unless api.autoPlan is set (hazwatch start --demo sets it).
import type { HazardSources } from '../registry/hazard-sources.ts';
import { PLAN_HEIGHT, PLAN_WIDTH } from '../registry/hazard-sources.ts';
import type { Registry } from '../registry/registry.ts';

const MARGIN = 20;

export async function completeSitePlan(registry: Registry, sources: HazardSources, options: { defaultGrade?: 1 | 2 | 3 | 4 } = {}): Promise<{ placed: string[]; registered: string[] }> {
  const placed: string[] = [];
  const registered: string[] = [];
  const enterprises = registry.enterprises();
  const places = new Map((await sources.places()).map((p) => [p.enterprise, p]));
  const missing = enterprises.filter((e) => !places.has(e.id));
  if (missing.length) {
    // A grid with as many cells as enterprises; placed ones keep their place, new ones take free cells.
    const n = enterprises.length;
    const cols = Math.min(n, Math.ceil(Math.sqrt(n * (PLAN_WIDTH / PLAN_HEIGHT))));
    const rows = Math.ceil(n / cols);
    const w = (PLAN_WIDTH - MARGIN * (cols + 1)) / cols;
    const hgt = (PLAN_HEIGHT - MARGIN * (rows + 1)) / rows;
    const taken = new Set([...places.values()].map((p) => `${Math.round(p.x)}/${Math.round(p.y)}`));
    let cell = 0;
    for (const e of missing) {
      for (;;) {
        const x = MARGIN + (cell % cols) * (w + MARGIN);
        const y = MARGIN + Math.floor(cell / cols) * (hgt + MARGIN);
        cell++;
        if (taken.has(`${Math.round(x)}/${Math.round(y)}`) && cell < cols * rows * 4) continue;
        places.set(e.id, await sources.setPlace({ enterprise: e.id, x, y, width: w, height: hgt, address: '' }));
        placed.push(e.id);
        break;
      }
    }
  }
  for (const e of enterprises) {
    const place = places.get(e.id)!;
    const known = new Set((await sources.list(e.id)).map((s) => s.id));
    const referenced = [...new Set(registry.devices(e.id).map((d) => d.hazardSource).filter((s): s is string => !!s && !known.has(s)))].sort();
    for (const [i, id] of referenced.entries()) {
      const slots = known.size + referenced.length;
      const k = known.size + i;
      // Spread along a diagonal band of the enterprise's area, clear of its title.
      const fx = (k + 1) / (slots + 1);
      const x = place.x + place.width * fx;
      const y = place.y + 40 + (place.height - 70) * (k % 2 === 0 ? 0.3 : 0.7);
      await sources.put({ enterprise: e.id, id, name: id, grade: options.defaultGrade ?? 3, x: Math.min(PLAN_WIDTH, x), y: Math.min(PLAN_HEIGHT, y) });
      registered.push(`${e.id}/${id}`);
    }
  }
  return { placed, registered };
}

/** Where the demo park is (Jinshan, Shanghai): the centre of the plan on the map. */
export const DEMO_MAP_CENTRE = { lat: 30.75, lon: 121.25 };
/** Metres per plan unit when a plan is laid onto the map: the 1000 × 600 plan is a 2 km × 1.2 km park. */
const METRES_PER_UNIT = 2;

/** A plan position on the map, the plan's centre at `centre`, north up. */
export function planToLatLon(x: number, y: number, centre = DEMO_MAP_CENTRE): { lat: number; lon: number } {
  const dx = (x - PLAN_WIDTH / 2) * METRES_PER_UNIT;
  const dy = (y - PLAN_HEIGHT / 2) * METRES_PER_UNIT;
  const round = (v: number) => Math.round(v * 1e6) / 1e6;
  return { lat: round(centre.lat - dy / 110_574), lon: round(centre.lon + dx / (111_320 * Math.cos((centre.lat * Math.PI) / 180))) };
}

/**
 * For demos (api.autoPlan): enterprises and hazard sources without a geographic position get the one
 * their plan position has when the plan is laid onto the map at `centre`. What has a position keeps it.
 */
export async function completeMapPositions(registry: Registry, sources: HazardSources, centre = DEMO_MAP_CENTRE): Promise<{ enterprises: string[]; sources: string[] }> {
  const done = { enterprises: [] as string[], sources: [] as string[] };
  const places = new Map((await sources.places()).map((p) => [p.enterprise, p]));
  for (const e of registry.enterprises()) {
    const p = places.get(e.id);
    if (e.lat !== undefined || !p) continue;
    await registry.setEnterpriseLocation(e.id, planToLatLon(p.x + p.width / 2, p.y + p.height / 2, centre));
    done.enterprises.push(e.id);
  }
  for (const s of await sources.list()) {
    if (s.lat !== null) continue;
    await sources.put({ ...s, ...planToLatLon(s.x, s.y, centre) });
    done.sources.push(`${s.enterprise}/${s.id}`);
  }
  return done;
}
