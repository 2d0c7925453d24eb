// The demo's emergency resources (`hazwatch start --demo`): fire stations, teams, warehouses,
// vehicles, equipment, shelters and experts around the demo park (Jinshan, Shanghai, near 30.75 N
// 121.25 E), read from resources/demo.csv, the same file docs/resources.md shows as an import example.
// Registered once, into an empty register only: nothing of an operator's own is touched.
import { readFileSync } from 'node:fs';
import type { Registry } from '../registry/registry.ts';
import { readResources } from './import.ts';
import type { ResourceStore } from './store.ts';

export const DEMO_RESOURCES_CSV = new URL('./demo.csv', import.meta.url);

/** Number of resources registered (0 when the register had some already). */
export async function seedDemoResources(store: ResourceStore, registry: Pick<Registry, 'enterprise'>): Promise<number> {
  if ((await store.count()) > 0) return 0;
  const result = await readResources(readFileSync(DEMO_RESOURCES_CSV), 'csv', { enterprise: (e) => (registry.enterprise(e) ? e : undefined) });
  if (result.errorCount) throw new Error(`resources/demo.csv: ${result.errors.map((e) => `row ${e.row} ${e.column ?? ''}: ${e.message}`).join('; ')}`);
  await store.putAll(result.resources);
  return result.resources.length;
}
