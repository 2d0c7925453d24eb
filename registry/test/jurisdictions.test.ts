// The jurisdiction tree on both engines: validation (parent, cycles, kinds downwards, codes), the
// enterprises below a node, removal refused while something is below, and a second process following
// the changes of the first by the revision.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import { openDatabase } from '../../core/sql.ts';
import { codeProblem, openJurisdictions } from '../jurisdictions.ts';

describe('codes (GB/T 2260)', () => {
  it('fit their kind', () => {
    expect(codeProblem('province', '310000')).toBeUndefined();
    expect(codeProblem('city', '310100')).toBeUndefined();
    expect(codeProblem('county', '310116')).toBeUndefined();
    expect(codeProblem('town', '310116101')).toBeUndefined();
    expect(codeProblem('province', '310100')).toMatch(/0000/);
    expect(codeProblem('city', '310000')).toMatch(/00/);
    expect(codeProblem('county', '310100')).toMatch(/00/);
    expect(codeProblem('town', '310116')).toMatch(/9 digits/);
    expect(codeProblem('park', '310116')).toMatch(/no administrative/);
  });
});

describe.each(BACKENDS)('jurisdictions on $name', (backend) => {
  let db: TestDatabase | undefined;
  const opened: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const o of opened.splice(0).reverse()) await o.close();
    await db?.drop();
  });

  const open = async () => {
    const sql = await openDatabase(db!.target, { lock: 'registry' });
    const tree = await openJurisdictions(sql);
    opened.push(sql, tree);
    return tree;
  };

  it('keeps a valid tree and answers what is below a node', { timeout: 30_000 }, async () => {
    db = await backend.fresh('registry.db');
    const t = await open();
    await t.create({ id: '310000', name: '上海市', kind: 'province', code: '310000' });
    await t.create({ id: '310100', name: '市辖区', kind: 'city', parent: '310000', code: '310100' });
    await t.create({ id: '310116', name: '金山区', kind: 'county', parent: '310100', code: '310116' });
    await t.create({ id: '310112', name: '闵行区', kind: 'county', parent: '310100', code: '310112' });
    await t.create({ id: 'jinshan-park', name: '金山化工园区', kind: 'park', parent: '310116' });
    await t.create({ id: '310112102', name: '吴泾镇', kind: 'town', parent: '310112', code: '310112102' });
    await t.setEnterprise('acme', 'jinshan-park');
    await t.setEnterprise('bravo', '310116');
    await t.setEnterprise('charlie', '310112102');

    expect(t.nodes().map((n) => n.id)).toEqual(['310000', '310100', '310112', '310112102', '310116', 'jinshan-park']);
    expect([...t.enterprisesBelow('310100')].sort()).toEqual(['acme', 'bravo', 'charlie']);
    expect([...t.enterprisesBelow('310116')].sort()).toEqual(['acme', 'bravo']);
    expect([...t.enterprisesBelow('jinshan-park')]).toEqual(['acme']);
    expect([...t.enterprisesBelow('310112')]).toEqual(['charlie']);
    expect([...t.enterprisesBelow('nowhere')]).toEqual([]);
    expect(t.jurisdictionOf('acme')).toBe('jinshan-park');
    expect(t.jurisdictionOf('delta')).toBeNull();
    expect(t.path('jinshan-park').map((n) => n.id)).toEqual(['310000', '310100', '310116', 'jinshan-park']);

    // Refusals: each names its field.
    const refused = async (p: Promise<unknown>) => p.then(() => 'accepted', (e: { code: string; detail?: { field?: string } }) => `${e.code} ${e.detail?.field}`);
    expect(await refused(t.create({ id: 'x', name: 'X', kind: 'county', parent: 'nowhere' }))).toBe('HW_ERR_VALIDATION parent');
    expect(await refused(t.create({ id: 'x', name: 'X', kind: 'city', parent: '310116' }))).toBe('HW_ERR_VALIDATION parent');
    expect(await refused(t.create({ id: 'x', name: 'X', kind: 'town', parent: 'jinshan-park' }))).toBe('HW_ERR_VALIDATION parent');
    expect(await refused(t.create({ id: 'x', name: 'X', kind: 'county', parent: '310100', code: '320106' }))).toBe('HW_ERR_VALIDATION code');
    expect(await refused(t.create({ id: 'x', name: 'X', kind: 'county', parent: '310100', code: '310116' }))).toBe('HW_ERR_CONFLICT code');
    expect(await refused(t.create({ id: 'x', name: 'X', kind: 'park', parent: '310116', code: '310116' }))).toBe('HW_ERR_VALIDATION code');
    expect(await refused(t.create({ id: '310116', name: 'again', kind: 'county', parent: '310100' }))).toBe('HW_ERR_CONFLICT id');
    // No cycles: the city cannot move under its own county (nor a province under anything).
    expect(await refused(t.update('310100', { parent: '310116' }))).toBe('HW_ERR_VALIDATION parent');
    // A county cannot become a town while a park is under it.
    expect(await refused(t.update('310116', { kind: 'town', code: null }))).toBe('HW_ERR_VALIDATION kind');
    expect(await refused(t.setEnterprise('acme', 'nowhere'))).toBe('HW_ERR_VALIDATION jurisdiction');
    // Nothing is removed while something is below it.
    expect(await refused(t.remove('310116'))).toMatch(/^HW_ERR_CONFLICT/);
    expect(await refused(t.remove('jinshan-park'))).toMatch(/^HW_ERR_CONFLICT/);

    // A move: the park goes to Minhang, and its enterprise with it.
    await t.update('jinshan-park', { parent: '310112', name: '园区' });
    expect([...t.enterprisesBelow('310112')].sort()).toEqual(['acme', 'charlie']);
    expect([...t.enterprisesBelow('310116')]).toEqual(['bravo']);
    await t.setEnterprise('acme', null);
    expect(await t.remove('jinshan-park')).toBe(true);
    expect(await t.remove('jinshan-park')).toBe(false);
    expect(await t.update('jinshan-park', { name: 'x' })).toBeUndefined();
  });

  it('a second process follows the changes of the first', { timeout: 30_000 }, async () => {
    db = await backend.fresh('registry.db');
    const writer = await open();
    const reader = await open();
    await writer.create({ id: '310000', name: '上海市', kind: 'province', code: '310000' });
    await writer.create({ id: 'p', name: 'Park', kind: 'park', parent: '310000' });
    await writer.setEnterprise('acme', 'p');
    expect(reader.node('p')).toBeUndefined();
    expect(await reader.pollChanges()).toBe(true);
    expect([...reader.enterprisesBelow('310000')]).toEqual(['acme']);
    await writer.setEnterprise('acme', null);
    await writer.remove('p');
    expect(await reader.pollChanges()).toBe(true);
    expect(reader.node('p')).toBeUndefined();
    expect([...reader.enterprisesBelow('310000')]).toEqual([]);
    expect(await reader.pollChanges()).toBe(false);
  });
});
