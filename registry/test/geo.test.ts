// Geographic positions in the registry (issue 17), on both engines: an enterprise's followed by
// every process, a hazard source's kept through changes, and registries made before them migrated.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import { openHazardSources } from '../hazard-sources.ts';
import { openRegistry } from '../registry.ts';

describe.each(BACKENDS)('positions in the registry on $name', (backend) => {
  const made: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });

  it('opens a registry made before positions, and every process follows an enterprise moved', async () => {
    const db = await backend.fresh('registry.db');
    made.push(db);
    // Tables as an earlier version made them: no lat/lon.
    await db.exec(`create table enterprises (id text primary key, name text not null, created_at bigint not null, rev bigint not null default 0);
      insert into enterprises (id, name, created_at) values ('acme', 'Acme', 1);
      create table hazard_sources (enterprise text not null, id text not null, name text not null, grade integer not null, risk_colour text not null,
        x double precision not null, y double precision not null, created_at bigint not null, updated_at bigint not null, primary key (enterprise, id));
      insert into hazard_sources values ('acme', 'hs', 'HS', 2, 'orange', 10, 20, 1, 1);`);
    const a = await openRegistry(db.target);
    const b = await openRegistry(db.target);
    const sources = await openHazardSources(a.database);
    expect(a.enterprise('acme')).toEqual({ id: 'acme', name: 'Acme', createdAt: 1 });
    expect(await sources.get('acme', 'hs')).toMatchObject({ grade: 2, lat: null, lon: null });

    expect(await a.setEnterpriseLocation('acme', { lat: 30.75, lon: 121.25 })).toBe(true);
    expect(await a.setEnterpriseLocation('nobody', { lat: 1, lon: 1 })).toBe(false);
    await expect(a.setEnterpriseLocation('acme', { lat: 121.25, lon: 30.75 })).rejects.toMatchObject({ code: 'HW_ERR_VALIDATION' });
    await b.pollChanges();
    expect(b.enterprise('acme')).toMatchObject({ lat: 30.75, lon: 121.25 });
    // A new name keeps the position; null clears it.
    await a.addEnterprise('acme', 'Acme Chemicals');
    expect(a.enterprise('acme')).toMatchObject({ name: 'Acme Chemicals', lat: 30.75 });
    await a.setEnterpriseLocation('acme', null);
    await b.pollChanges();
    expect(b.enterprise('acme')).toEqual({ id: 'acme', name: 'Acme Chemicals', createdAt: 1 });

    const put = await sources.put({ enterprise: 'acme', id: 'hs', name: 'HS', grade: 1, x: 10, y: 20, lat: 30.751, lon: 121.249 });
    expect(put).toMatchObject({ grade: 1, riskColour: 'red', lat: 30.751, lon: 121.249 });
    await expect(sources.put({ enterprise: 'acme', id: 'hs2', name: 'HS2', grade: 1, x: 1, y: 1, lat: 30 })).rejects.toMatchObject({ code: 'HW_ERR_VALIDATION', detail: { field: 'lon' } });
    await a.close();
    await b.close();
  });
});
