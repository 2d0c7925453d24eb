// The resource store behaves the same on SQLite and PostgreSQL: filters by kind, box and scope; an
// import's batch is stored whole or not at all.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import { ResourceInput } from '../model.ts';
import { openResourceStore } from '../store.ts';

const r = (over: Partial<ResourceInput> & Pick<ResourceInput, 'id' | 'kind'>): ResourceInput =>
  ResourceInput.parse({ name: over.id, lat: 30.75, lon: 121.25, jurisdiction: '金山区应急管理局', ...over });

describe.each(BACKENDS)('resource store on $name', (backend) => {
  const made: TestDatabase[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });
  const fresh = async () => {
    const d = await backend.fresh('resources.db');
    made.push(d);
    return d.target;
  };

  it('keeps every field, lists by kind, box and scope, replaces and removes', async () => {
    let t = 1000;
    const target = await fresh();
    const store = await openResourceStore(target, { now: () => t });
    const wh = r({ id: 'wh', kind: 'warehouse', enterprise: 'acme', jurisdiction: '', items: [{ kind: 'gas_mask', name: '', quantity: 200, unit: '个' }, { kind: 'other', name: '铁锹', quantity: 5, unit: '把' }] });
    expect(await store.put(wh)).toMatchObject({ created: true, resource: { ...wh, createdAt: 1000, updatedAt: 1000 } });
    await store.put(r({ id: 'team', kind: 'rescue_team', people: 12, specialities: ['hazmat', 'rescue'], phone: '138', lat: 30.9, lon: 121.5 }));
    await store.put(r({ id: 'bravo-team', kind: 'rescue_team', enterprise: 'bravo', people: 8, specialities: ['fire'], phone: '139', lat: 30.76, lon: 121.27 }));
    await store.put(r({ id: 'dateline', kind: 'shelter', capacity: 100, lat: -17.7, lon: 179.9 }));
    expect((await store.get('team'))!.specialities).toEqual(['hazmat', 'rescue']);
    expect((await store.list({ kinds: ['rescue_team'] })).map((x) => x.id)).toEqual(['bravo-team', 'team']);
    expect((await store.list({ bbox: [121.2, 30.7, 121.3, 30.8] })).map((x) => x.id)).toEqual(['bravo-team', 'wh']);
    // A box across the antimeridian.
    expect((await store.list({ bbox: [179, -20, -179, -15] })).map((x) => x.id)).toEqual(['dateline']);
    // An enterprise user's view: its own and the public ones, never another enterprise's.
    expect((await store.list({ visibleTo: 'acme' })).map((x) => x.id).sort()).toEqual(['dateline', 'team', 'wh']);
    expect((await store.list({ enterprise: 'bravo' })).map((x) => x.id)).toEqual(['bravo-team']);
    t = 2000;
    const again = await store.put({ ...wh, name: '新名称' });
    expect(again).toMatchObject({ created: false, resource: { name: '新名称', createdAt: 1000, updatedAt: 2000 } });
    expect(await store.remove('wh')).toBe(true);
    expect(await store.remove('wh')).toBe(false);
    expect(await store.count()).toBe(3);
    await store.close();
    // Opening it again finds it as it was.
    const reopened = await openResourceStore(target);
    expect(await reopened.count()).toBe(3);
    await reopened.close();
  });

  it('stores a batch whole or not at all', async () => {
    const store = await openResourceStore(await fresh());
    await store.put(r({ id: 'kept', kind: 'shelter', capacity: 10 }));
    const batch = [r({ id: 'a', kind: 'shelter', capacity: 10 }), r({ id: 'kept', kind: 'shelter', capacity: 20 }), { ...r({ id: 'c', kind: 'shelter', capacity: 10 }), lat: null as never }];
    await expect(store.putAll(batch)).rejects.toThrow();
    expect((await store.list()).map((x) => [x.id, x.capacity])).toEqual([['kept', 10]]);
    expect(await store.putAll(batch.slice(0, 2))).toEqual({ created: 1, updated: 1 });
    expect((await store.list()).map((x) => [x.id, x.capacity])).toEqual([['a', 10], ['kept', 20]]);
    await store.close();
  });
});
