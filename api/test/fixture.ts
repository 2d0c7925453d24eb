// A small plant for API and console tests: two enterprises with hazard sources and devices.
import type { Harness } from './harness.ts';

export async function seedPlant(h: Harness): Promise<void> {
  const { registry } = h;
  await registry.addEnterprise('acme', 'Acme Chemicals');
  await registry.addEnterprise('bravo', 'Bravo Petrochem');
  const hs = await import('../../registry/hazard-sources.ts');
  const s = await hs.openHazardSources(registry.database);
  await s.setPlace({ enterprise: 'acme', x: 40, y: 40, width: 420, height: 260, address: 'Zone A' });
  await s.setPlace({ enterprise: 'bravo', x: 520, y: 60, width: 430, height: 300, address: 'Zone B' });
  await s.put({ enterprise: 'acme', id: 'tankfarm', name: 'Tank farm T1', grade: 1, x: 150, y: 150 });
  await s.put({ enterprise: 'acme', id: 'reactor', name: 'Reactor R2', grade: 3, riskColour: 'yellow', x: 340, y: 220 });
  await s.put({ enterprise: 'bravo', id: 'lpg', name: 'LPG spheres', grade: 2, x: 700, y: 200 });
  // Where they are (a park in Jinshan, Shanghai): the map and the nearest emergency resources.
  await registry.setEnterpriseLocation('acme', { lat: 30.75, lon: 121.25 });
  await registry.setEnterpriseLocation('bravo', { lat: 30.76, lon: 121.27 });
  await s.put({ enterprise: 'acme', id: 'tankfarm', name: 'Tank farm T1', grade: 1, x: 150, y: 150, lat: 30.752, lon: 121.246 });
  await s.put({ enterprise: 'bravo', id: 'lpg', name: 'LPG spheres', grade: 2, x: 700, y: 200, lat: 30.761, lon: 121.269 });
  await registry.addDevices([
    { enterprise: 'acme', id: 'tank-1', class: 'vessel', name: 'Tank 1', hazardSource: 'tankfarm', meta: { limits: { level: { HH: 9, H: 8, L: 1, LL: 0.5 } } } },
    { enterprise: 'acme', id: 'gas-1', class: 'gas_combustible', name: 'Gas detector 1', hazardSource: 'tankfarm' },
    { enterprise: 'acme', id: 'reactor-1', class: 'vessel', name: 'Reactor 2', hazardSource: 'reactor' },
    { enterprise: 'bravo', id: 'gas-9', class: 'gas_combustible', name: 'LPG detector', hazardSource: 'lpg' },
  ]);
}

export async function raiseAlarm(h: Harness, enterprise: string, device: string, level: 1 | 2 | 3 | 4, condition: 'HW_ALM_GAS_LEL_HIGH' | 'HW_ALM_LEVEL_HIGH' = 'HW_ALM_GAS_LEL_HIGH') {
  const d = h.registry.device(enterprise, device)!;
  const change = await h.alarms.raise({
    enterprise,
    device,
    deviceClass: d.class,
    site: d.site,
    hazardSource: d.hazardSource,
    condition,
    level,
    metric: condition === 'HW_ALM_GAS_LEL_HIGH' ? 'lel' : 'level',
    value: 30,
    threshold: 25,
    message: 'test alarm',
    at: h.clock.t,
  });
  return change!.alarm;
}
