// The nearest resources an alarm needs: for each need of its device class (resources/catalog.ts),
// the resources of that kind that answer it (a speciality, or an item in stock), nearest first, by
// great-circle distance from where the alarm is.
import { distanceKm, type LatLon } from '../registry/geo.ts';
import type { Need } from './catalog.ts';
import type { Resource } from './model.ts';

export interface Nearby {
  resource: Resource;
  /** Great-circle distance in km, to the metre. */
  distanceKm: number;
  /** The specialities or items that answer the need (empty when the need asks only for the kind). */
  matched: string[];
}

export interface NearestGroup {
  need: Need;
  resources: Nearby[];
}

/** What of a resource answers a need; undefined when it does not. */
export function answers(r: Resource, need: Need): string[] | undefined {
  if (r.kind !== need.kind) return undefined;
  if (need.specialities?.length) {
    const hit = need.specialities.filter((s) => r.specialities.includes(s));
    if (!hit.length) return undefined;
    if (!need.items?.length) return hit;
  }
  if (need.items?.length) {
    const hit = need.items.filter((i) => r.items.some((it) => it.kind === i && it.quantity > 0));
    return hit.length ? hit : undefined;
  }
  return [];
}

export function nearestResources(resources: Resource[], at: LatLon, needs: Need[], limit: number): NearestGroup[] {
  return needs.map((need) => ({
    need,
    resources: resources
      .flatMap((resource) => {
        const matched = answers(resource, need);
        return matched ? [{ resource, matched, distanceKm: Math.round(distanceKm(at, resource) * 1000) / 1000 }] : [];
      })
      .sort((a, b) => a.distanceKm - b.distanceKm || a.resource.id.localeCompare(b.resource.id))
      .slice(0, limit),
  }));
}
