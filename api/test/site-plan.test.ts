// Completing the site plan for demos: only what is missing is added, nothing placed is moved.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { openHazardSources, PLAN_HEIGHT, PLAN_WIDTH } from '../../registry/hazard-sources.ts';
import { openRegistry } from '../../registry/registry.ts';
import { seedDemoResources } from '../../resources/demo.ts';
import { openResourceStore } from '../../resources/store.ts';
import { completeMapPositions, completeSitePlan, DEMO_MAP_CENTRE, planToLatLon } from '../site-plan.ts';

test('enterprises get a place, referenced hazard sources are registered, existing ones stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-plan-'));
  const registry = await openRegistry(join(dir, 'registry.db'));
  const sources = await openHazardSources(registry.database);
  try {
    await registry.addEnterprise('placed');
    await sources.setPlace({ enterprise: 'placed', x: 20, y: 20, width: 100, height: 100, address: 'kept' });
    await sources.put({ enterprise: 'placed', id: 'HS-1', name: 'Assessed', grade: 1, x: 50, y: 50 });
    await registry.addDevices([
      { enterprise: 'placed', id: 'a', class: 'vessel', hazardSource: 'HS-1' },
      { enterprise: 'placed', id: 'b', class: 'vessel', hazardSource: 'HS-2' },
      { enterprise: 'demo-chem', id: 'lel-101', class: 'gas_combustible', hazardSource: 'HS-LPG-01' },
      { enterprise: 'demo-chem', id: 'tank-101', class: 'vessel', hazardSource: 'HS-TF-A' },
      { enterprise: 'demo-chem', id: 'o2-101', class: 'oxygen' },
    ]);
    const done = await completeSitePlan(registry, sources);
    expect(done.placed).toEqual(['demo-chem']);
    expect(done.registered.sort()).toEqual(['demo-chem/HS-LPG-01', 'demo-chem/HS-TF-A', 'placed/HS-2']);
    expect(await sources.place('placed')).toMatchObject({ x: 20, y: 20, address: 'kept' });
    expect(await sources.get('placed', 'HS-1')).toMatchObject({ name: 'Assessed', grade: 1, x: 50, y: 50 });
    const demo = (await sources.place('demo-chem'))!;
    for (const s of await sources.list('demo-chem')) {
      expect(s.grade).toBe(3);
      expect(s.x).toBeGreaterThanOrEqual(demo.x);
      expect(s.x).toBeLessThanOrEqual(Math.min(PLAN_WIDTH, demo.x + demo.width));
      expect(s.y).toBeGreaterThanOrEqual(demo.y);
      expect(s.y).toBeLessThanOrEqual(Math.min(PLAN_HEIGHT, demo.y + demo.height));
    }
    // Idempotent.
    expect(await completeSitePlan(registry, sources)).toEqual({ placed: [], registered: [] });
  } finally {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('demos: the plan laid onto the map at the demo park, and its emergency resources registered once', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-plan-'));
  const registry = await openRegistry(join(dir, 'registry.db'));
  const sources = await openHazardSources(registry.database);
  const resources = await openResourceStore(join(dir, 'resources.db'));
  try {
    await registry.addEnterprise('demo-chem');
    await registry.addEnterprise('elsewhere');
    await registry.setEnterpriseLocation('elsewhere', { lat: 31, lon: 121 });
    await registry.addDevices([{ enterprise: 'demo-chem', id: 'lel-101', class: 'gas_combustible', hazardSource: 'HS-LPG-01' }]);
    await completeSitePlan(registry, sources);
    expect(planToLatLon(PLAN_WIDTH / 2, PLAN_HEIGHT / 2)).toEqual(DEMO_MAP_CENTRE);
    // North up: further down the plan is further south; right is east.
    expect(planToLatLon(500, 600).lat).toBeLessThan(DEMO_MAP_CENTRE.lat);
    expect(planToLatLon(1000, 300).lon).toBeCloseTo(DEMO_MAP_CENTRE.lon + 1000 / (111_320 * Math.cos((30.75 * Math.PI) / 180)), 6);
    const done = await completeMapPositions(registry, sources);
    expect(done).toEqual({ enterprises: ['demo-chem'], sources: ['demo-chem/HS-LPG-01'] });
    expect(registry.enterprise('elsewhere')).toMatchObject({ lat: 31, lon: 121 });
    const s = (await sources.get('demo-chem', 'HS-LPG-01'))!;
    expect(planToLatLon(s.x, s.y)).toEqual({ lat: s.lat, lon: s.lon });
    expect(await completeMapPositions(registry, sources)).toEqual({ enterprises: [], sources: [] });

    expect(await seedDemoResources(resources, registry)).toBe(16);
    expect(await seedDemoResources(resources, registry)).toBe(0);
    expect((await resources.list({ kinds: ['fire_station'] })).map((r) => r.id)).toEqual(['fs-park', 'fs-tinglin']);
  } finally {
    await resources.close();
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
