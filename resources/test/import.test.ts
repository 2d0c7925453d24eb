// Imports as bureaus keep their registers: Chinese or English headers, a title row above them, GBK
// from Excel, a warehouse's supplies on rows of their own; and every wrong cell named by row and column.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEMO_RESOURCES_CSV } from '../demo.ts';
import { readResources, type ImportFormat } from '../import.ts';
import { BAD_CSV, GOOD_CSV, xlsx, XLSX_GOOD_ROWS } from './files.ts';

const ENTERPRISES: Record<string, string> = { acme: 'acme', 'Acme Chemicals': 'acme' };
const options = { enterprise: (t: string) => ENTERPRISES[t] };
const csv = (text: string) => readResources(Buffer.from(text, 'utf8'), 'csv', options);

describe('CSV', () => {
  it('reads a bureau register: a title row, Chinese headers, supplies on rows of their own, derived ids, ignored columns', async () => {
    const r = await csv(GOOD_CSV);
    expect(r.errors).toEqual([]);
    expect(r.rows).toBe(6);
    expect(r.ignoredColumns).toEqual(['序号']);
    expect(r.resources.map((x) => x.kind)).toEqual(['rescue_team', 'warehouse', 'shelter', 'expert']);
    const [team, wh, shelter, expert] = r.resources;
    expect(team).toMatchObject({ id: 'team-1', name: '危化品救援队', lat: 30.7431, lon: 121.2395, enterprise: null, jurisdiction: '金山区应急管理局', people: 45, specialities: ['hazmat', 'rescue'], phone: '13800000001' });
    // The enterprise by its name; three rows, three items; an item the catalog does not know keeps its name.
    expect(wh.enterprise).toBe('acme');
    expect(wh.items).toEqual([
      { kind: 'gas_mask', name: '', quantity: 200, unit: '个' },
      { kind: 'absorbent', name: '', quantity: 1500, unit: '千克' },
      { kind: 'other', name: '3M 6800 全面罩', quantity: 20, unit: '个' },
    ]);
    expect(shelter.capacity).toBe(5000);
    expect(shelter.id).toMatch(/^shelter-[0-9a-f]{12}$/);
    expect(expert.specialities).toEqual(['hazmat', 'chemical_process']);
    // The same file again gives the same ids: importing twice replaces, it does not duplicate.
    expect((await csv(GOOD_CSV)).resources.map((x) => x.id)).toEqual(r.resources.map((x) => x.id));
  });

  it('reads GBK as Excel in Chinese saves it', async () => {
    const text = '编号,类型,名称,纬度,经度,所属辖区,容量\ns-1,避难场所,体育场,30.73,121.33,金山区应急管理局,800\n';
    const encoded = encodeGb18030(text);
    const r = await readResources(encoded, 'csv', options);
    expect(r.errors).toEqual([]);
    expect(r.resources[0]).toMatchObject({ id: 's-1', kind: 'shelter', name: '体育场', jurisdiction: '金山区应急管理局', capacity: 800 });
  });

  it('names every wrong cell by row and column, and returns no resource from a file with errors', async () => {
    const r = await csv(BAD_CSV);
    expect(r.resources.length).toBeLessThan(10);
    const at = (row: number) => r.errors.filter((e) => e.row === row).map((e) => `${e.column}: ${e.message}`);
    expect(at(2)).toEqual(['people: a rescue team needs its number of people']);
    expect(at(3)).toEqual([expect.stringMatching(/^kind: unknown kind; one of 救援队伍 \(rescue_team\)/)]);
    expect(at(4)).toEqual(['lat: out of range (-90 to 90): are latitude and longitude swapped?']);
    expect(at(5)).toEqual(['enterprise: say whom it belongs to: an enterprise, or a jurisdiction (the authority)']);
    expect(at(6)).toEqual(['enterprise: no such enterprise is registered (give its id or its name as registered)']);
    expect(r.errors.find((e) => e.row === 7)).toMatchObject({ column: 'quantity', value: 'lots', message: 'not a number' });
    // The second row of t-6, whose first row was wrong, is not reported again for that.
    expect(at(8)).toEqual([]);
    expect(at(9)).toEqual([expect.stringMatching(/^speciality: unknown speciality astrology; one of 危化品 \(hazmat\)/)]);
    expect(at(10)).toEqual([expect.stringMatching(/^id: letters, digits/)]);
    expect(at(11)).toEqual(['name: empty: every resource needs a name']);
    expect(r.errorCount).toBe(r.errors.length);
  });

  it('says what is missing when the header is not there, or the position columns are', async () => {
    expect((await csv('a,b,c\n1,2,3\n')).errors).toEqual([expect.objectContaining({ row: 1, column: null, message: expect.stringMatching(/^no header row/) })]);
    const noLon = await csv('类型,名称,纬度\n消防站,站,30.7\n');
    expect(noLon.errors).toEqual([{ row: 1, column: null, message: 'no column for 经度 (lon): every resource needs its position' }]);
  });

  it('refuses a continuation row that contradicts the first row of its resource', async () => {
    const r = await csv('id,kind,name,lat,lon,jurisdiction,item,quantity,unit\nw,warehouse,W,30.7,121.2,B,gas_mask,1,pcs\nw,warehouse,W,30.8,121.2,B,scba,2,sets\n');
    expect(r.errors).toEqual([{ row: 3, column: 'lat', value: '30.8', message: 'differs from row 2 of the same resource (30.7); rows of one resource may differ only in the item' }]);
  });

  it('imports the demo register, the example of docs/resources.md', async () => {
    const r = await readResources(readFileSync(DEMO_RESOURCES_CSV), 'csv', options);
    expect(r.errors).toEqual([]);
    expect(r.resources.length).toBe(16);
    expect(r.resources.find((x) => x.id === 'wh-park')!.items.map((i) => i.kind)).toEqual(['gas_mask', 'scba', 'absorbent', 'leak_plug', 'foam']);
  });
});

describe('Excel (.xlsx)', () => {
  const read = (buf: Buffer, format: ImportFormat = 'xlsx') => readResources(buf, format, options);

  it('reads the first worksheet, numbers as numbers, headers with a unit in brackets', async () => {
    const r = await read(await xlsx(XLSX_GOOD_ROWS, { title: '金山区应急资源' }));
    expect(r.errors).toEqual([]);
    expect(r.resources.map((x) => x.id)).toEqual(['x-team', 'x-wh', 'x-fs']);
    expect(r.resources[1].items).toEqual([
      { kind: 'scba', name: '', quantity: 30, unit: '套' },
      { kind: 'leak_plug', name: '', quantity: 12, unit: '套' },
    ]);
    expect(r.resources[2]).toMatchObject({ kind: 'fire_station', lat: 30.7598, lon: 121.2712, people: 32, phone: '021-57900119' });
  });

  it('names wrong cells by the row Excel shows', async () => {
    const rows = [...XLSX_GOOD_ROWS];
    rows[2] = ['x-wh', '物资仓库', '化工区仓库', 30.7536, 221.26, '金山区应急管理局', null, null, null, '正压式空气呼吸器', -3, '套'];
    const r = await read(await xlsx(rows, { title: '金山区应急资源' }));
    // Title row 1, header row 2: the warehouse's first row is row 4.
    expect(r.errors.map((e) => [e.row, e.column, e.message])).toEqual([
      [4, '经度（WGS84）', 'out of range (-180 to 180)'],
      [4, '数量', 'negative'],
    ]);
    expect(r.resources.find((x) => x.id === 'x-wh')).toBeUndefined();
  });

  it('says so when the file is not a workbook', async () => {
    const r = await read(Buffer.from('this is not a zip'));
    expect(r.errors).toEqual([expect.objectContaining({ row: 0, column: null, message: expect.stringMatching(/^not an Excel \.xlsx workbook/) })]);
  });
});

/** GB18030 encoding of BMP text: TextDecoder decodes it, so the table is found by decoding every double byte. */
function encodeGb18030(text: string): Buffer {
  const decoder = new TextDecoder('gb18030');
  const table = new Map<string, number[]>();
  const wanted = new Set([...text].filter((c) => c.charCodeAt(0) > 0x7f));
  for (let hi = 0x81; hi <= 0xfe && table.size < wanted.size; hi++) {
    for (let lo = 0x40; lo <= 0xfe; lo++) {
      if (lo === 0x7f) continue;
      const c = decoder.decode(new Uint8Array([hi, lo]));
      if (wanted.has(c) && !table.has(c)) table.set(c, [hi, lo]);
    }
  }
  const out: number[] = [];
  for (const c of text) out.push(...(c.charCodeAt(0) <= 0x7f ? [c.charCodeAt(0)] : (table.get(c) ?? [0x3f])));
  return Buffer.from(out);
}
