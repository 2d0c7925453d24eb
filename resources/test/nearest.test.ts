// Great-circle distances and the nearest resources an alarm needs.
import { describe, expect, it } from 'vitest';
import { distanceKm, EARTH_RADIUS_KM } from '../../registry/geo.ts';
import { needsFor } from '../catalog.ts';
import { ResourceInput, type Resource } from '../model.ts';
import { answers, nearestResources } from '../nearest.ts';

const res = (over: Partial<ResourceInput> & Pick<ResourceInput, 'id' | 'kind' | 'lat' | 'lon'>): Resource => ({
  ...ResourceInput.parse({ name: over.id, jurisdiction: 'B', ...over }),
  createdAt: 0,
  updatedAt: 0,
});

describe('distance', () => {
  it('is the great-circle distance', () => {
    // One degree of latitude anywhere, one of longitude on the equator: 2πR/360.
    const degree = (2 * Math.PI * EARTH_RADIUS_KM) / 360;
    expect(distanceKm({ lat: 30, lon: 121 }, { lat: 31, lon: 121 })).toBeCloseTo(degree, 9);
    expect(distanceKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(degree, 9);
    // At 60° a degree of longitude is about half as long (a little more along the great circle).
    expect(distanceKm({ lat: 60, lon: 10 }, { lat: 60, lon: 11 })).toBeCloseTo(55.597, 2);
    // Across the antimeridian the short way, and halfway round the Earth.
    expect(distanceKm({ lat: 0, lon: 179.5 }, { lat: 0, lon: -179.5 })).toBeCloseTo(degree, 9);
    expect(distanceKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 })).toBeCloseTo(Math.PI * EARTH_RADIUS_KM, 6);
    // Shanghai Hongqiao to Pudong airport (runway centres) as the crow flies: about 45 km.
    expect(distanceKm({ lat: 31.1979, lon: 121.3363 }, { lat: 31.1443, lon: 121.8083 })).toBeCloseTo(45.3, 0);
  });
});

describe('nearest resources', () => {
  const at = { lat: 30.75, lon: 121.25 };
  const km = (n: number) => n / ((2 * Math.PI * EARTH_RADIUS_KM) / 360);
  const all = [
    res({ id: 'team-far', kind: 'rescue_team', people: 10, specialities: ['hazmat'], phone: '1', lat: 30.75 + km(5), lon: 121.25 }),
    res({ id: 'team-near', kind: 'rescue_team', people: 10, specialities: ['hazmat'], phone: '1', lat: 30.75 + km(1), lon: 121.25 }),
    res({ id: 'team-fire', kind: 'rescue_team', people: 10, specialities: ['fire'], phone: '1', lat: 30.75 + km(0.5), lon: 121.25 }),
    res({ id: 'wh-masks', kind: 'warehouse', items: [{ kind: 'gas_mask', name: '', quantity: 50, unit: '个' }], lat: 30.75 - km(2), lon: 121.25 }),
    res({ id: 'wh-empty', kind: 'warehouse', items: [{ kind: 'gas_mask', name: '', quantity: 0, unit: '个' }], lat: 30.75 - km(0.1), lon: 121.25 }),
    res({ id: 'wh-tents', kind: 'warehouse', items: [{ kind: 'tent', name: '', quantity: 9, unit: '顶' }], lat: 30.75, lon: 121.25 }),
    res({ id: 'fs', kind: 'fire_station', phone: '119', lat: 30.75 + km(3), lon: 121.25 }),
  ];

  it('lists, per need of the class, those that answer it, nearest first, with distances in km', () => {
    const groups = nearestResources(all, at, needsFor('gas_combustible', 'HW_ALM_GAS_LEL_HIGH'), 3);
    const byKind = Object.fromEntries(groups.map((g) => [g.need.kind, g.resources.map((n) => [n.resource.id, n.distanceKm, n.matched])]));
    // A hazmat team, not the nearer fire team; the masks in stock, not an empty shelf or tents.
    expect(byKind.rescue_team).toEqual([['team-near', 1, ['hazmat']], ['team-far', 5, ['hazmat']]]);
    expect(byKind.warehouse).toEqual([['wh-masks', 2, ['gas_mask']]]);
    expect(byKind.fire_station).toEqual([['fs', 3, []]]);
    expect(byKind.expert).toEqual([]);
    expect(nearestResources(all, at, needsFor('gas_combustible', 'HW_ALM_GAS_LEL_HIGH'), 1)[0].resources.map((n) => n.resource.id)).toEqual(['team-near']);
  });

  it('takes the condition before the class, and device-health alarms call for nothing', () => {
    expect(needsFor('camera', 'HW_ALM_VIDEO_LEAK')).toEqual(needsFor('gas_combustible', 'HW_ALM_GAS_LEL_HIGH'));
    expect(needsFor('camera', 'HW_ALM_VIDEO_FIRE').map((n) => n.kind)).toContain('fire_station');
    expect(needsFor('gas_combustible', 'HW_ALM_DEVICE_OFFLINE')).toEqual([]);
    expect(needsFor('smoke_alarm', 'HW_ALM_SMOKE').map((n) => n.kind)).toEqual(['fire_station', 'rescue_team', 'vehicle', 'warehouse', 'shelter']);
    expect(answers(all[2], { kind: 'rescue_team', specialities: ['fire', 'rescue'] })).toEqual(['fire']);
    expect(answers(all[2], { kind: 'warehouse' })).toBeUndefined();
  });
});
