// Emergency resources from the spreadsheets bureaus already keep: CSV (papaparse; UTF-8 with or
// without BOM, or GB18030/GBK as Excel in Chinese saves it) and Excel .xlsx (exceljs, the first
// worksheet). Columns are found by their header in Chinese or English, in any order; unknown columns
// are ignored and named in the answer. A warehouse's supplies are one row each: rows with the same id
// are one resource. Every wrong cell is reported with its row (as the spreadsheet numbers it), its
// column (as the file heads it) and what is wrong; the caller stores nothing unless there is none.
import { createHash } from 'node:crypto';
import ExcelJS from 'exceljs';
import Papa from 'papaparse';
import { ID_PATTERN } from '../contract/topics.ts';
import { ITEMS, lookupTable, RESOURCE_KINDS, SPECIALITIES, type ItemKind, type ResourceKind, type Speciality } from './catalog.ts';
import { ResourceInput, resourceIssues, type ResourceItem } from './model.ts';

export interface RowError {
  /** Row as the spreadsheet numbers it (the header is usually row 1). */
  row: number;
  /** The column as the file heads it; null: the row or the file as a whole. */
  column: string | null;
  /** The cell as written. */
  value?: string;
  message: string;
}

export interface ImportResult {
  resources: ResourceInput[];
  errors: RowError[];
  /** Data rows read (not counting the header and empty rows). */
  rows: number;
  /** Columns of the file that mean nothing here (a serial number, a remark of the bureau's own). */
  ignoredColumns: string[];
}

type Cell = string | number | boolean | Date | null;
export interface Sheet {
  rows: { row: number; cells: Cell[] }[];
}

// ---- reading ----
/** UTF-8 (a BOM is dropped), else GB18030, which covers GBK and GB2312. */
export function decodeText(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return new TextDecoder('gb18030').decode(bytes);
  }
}

export function readCsv(text: string): { sheet: Sheet; errors: RowError[] } {
  const parsed = Papa.parse<string[]>(text.replace(/^\uFEFF/, ''), { skipEmptyLines: false, dynamicTyping: false });
  const errors: RowError[] = parsed.errors
    // A file without a delimiter is a one-column file; the header check says what is missing.
    .filter((e) => e.code !== 'UndetectableDelimiter')
    .map((e) => ({ row: (e.row ?? 0) + 1, column: null, message: `CSV: ${e.message}` }));
  return { sheet: { rows: parsed.data.map((cells, i) => ({ row: i + 1, cells })) }, errors };
}

function cellOf(v: ExcelJS.CellValue): Cell {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || v instanceof Date) return v;
  if ('richText' in v) return v.richText.map((t) => t.text).join('');
  if ('formula' in v || 'sharedFormula' in v) return cellOf((v as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
  if ('hyperlink' in v) return typeof v.text === 'string' ? v.text : String(v.hyperlink);
  if ('error' in v) return `#${String(v.error).replace(/^#/, '')}`;
  return String(v);
}

export async function readXlsx(bytes: Uint8Array): Promise<{ sheet: Sheet; errors: RowError[] }> {
  const wb = new ExcelJS.Workbook();
  try {
    await wb.xlsx.load(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength) as unknown as ExcelJS.Buffer);
  } catch (err) {
    return { sheet: { rows: [] }, errors: [{ row: 0, column: null, message: `not an Excel .xlsx workbook (${(err as Error).message})` }] };
  }
  const ws = wb.worksheets[0];
  if (!ws) return { sheet: { rows: [] }, errors: [{ row: 0, column: null, message: 'the workbook has no worksheet' }] };
  const rows: Sheet['rows'] = [];
  ws.eachRow({ includeEmpty: false }, (r, rowNumber) => {
    const cells: Cell[] = [];
    // row.values is 1-based (index 0 is empty).
    (r.values as ExcelJS.CellValue[]).forEach((v, i) => {
      if (i > 0) cells[i - 1] = cellOf(v);
    });
    rows.push({ row: rowNumber, cells: Array.from(cells, (c) => c ?? null) });
  });
  return { sheet: { rows }, errors: [] };
}

// ---- columns ----
type Field = 'id' | 'kind' | 'name' | 'lat' | 'lon' | 'enterprise' | 'jurisdiction' | 'contact' | 'phone' | 'address' | 'specialities' | 'people' | 'capacity' | 'item' | 'quantity' | 'unit' | 'note';

/** Header names a column may have (case, spaces, brackets and what is in them ignored: 纬度(WGS84) is 纬度). */
export const COLUMNS: Record<Field, string[]> = {
  id: ['id', '编号', '资源编号', '代码', '编码'],
  kind: ['kind', 'type', '类型', '资源类型', '类别'],
  name: ['name', '名称', '资源名称', '队伍名称', '单位名称', '姓名'],
  lat: ['lat', 'latitude', '纬度'],
  lon: ['lon', 'lng', 'long', 'longitude', '经度'],
  enterprise: ['enterprise', '所属企业', '企业', '企业编号'],
  jurisdiction: ['jurisdiction', 'authority', '所属辖区', '辖区', '主管单位', '所属单位', '管理单位'],
  contact: ['contact', '联系人', '负责人'],
  phone: ['phone', 'tel', 'telephone', '电话', '联系电话', '手机', '值班电话'],
  address: ['address', '地址', '位置'],
  specialities: ['speciality', 'specialities', 'specialty', 'specialties', '专业', '专长', '救援专业', '专业领域'],
  people: ['people', 'persons', '人数', '队员人数', '人员数量'],
  capacity: ['capacity', '容量', '容纳人数', '可容纳人数'],
  item: ['item', 'supply', 'supplies', '物资', '物资名称', '装备', '装备名称', '车辆类型', '品名'],
  quantity: ['quantity', 'qty', '数量', '储备数量'],
  unit: ['unit', '单位', '计量单位'],
  note: ['note', 'notes', 'remark', 'remarks', '备注', '说明'],
};
const normHeader = (s: string) => s.trim().toLowerCase().replace(/[（(].*?[)）]/g, '').replace(/[\s_*]+/g, '');
const HEADER_INDEX = new Map<string, Field>(Object.entries(COLUMNS).flatMap(([f, names]) => names.map((n) => [normHeader(n), f as Field] as const)));

const kindOf = lookupTable(RESOURCE_KINDS);
const specialityOf = lookupTable(SPECIALITIES);
const itemOf = lookupTable(ITEMS);

const text = (c: Cell | undefined): string => {
  if (c === null || c === undefined) return '';
  if (c instanceof Date) return c.toISOString();
  return String(c).trim();
};

/** The accepted words of a table, in Chinese and as codes, for a message. */
const accepted = (table: Record<string, { zh: string }>) => Object.entries(table).map(([code, n]) => `${n.zh} (${code})`).join(', ');

export interface ImportOptions {
  /** An enterprise id or name as the file writes it → its registered id. */
  enterprise: (text: string) => string | undefined;
  /** At most this many errors are listed (the count says how many there were). */
  maxErrors?: number;
}

/** The resources of a sheet, or what is wrong with it, row by row. */
export function resourcesFromSheet(sheet: Sheet, options: ImportOptions): ImportResult {
  const errors: RowError[] = [];
  const nonEmpty = sheet.rows.filter((r) => r.cells.some((c) => text(c) !== ''));
  // The header: the first of the first five rows that names at least the name and the kind (a title
  // row above it, as bureaus' sheets often have, is passed over).
  let headerAt = -1;
  let columns: (Field | null)[] = [];
  for (let i = 0; i < Math.min(5, nonEmpty.length); i++) {
    const fields = nonEmpty[i].cells.map((c) => HEADER_INDEX.get(normHeader(text(c))) ?? null);
    if (fields.includes('name') && fields.includes('kind')) {
      headerAt = i;
      columns = fields;
      break;
    }
  }
  if (headerAt < 0) {
    return {
      resources: [],
      rows: 0,
      ignoredColumns: [],
      errors: [{ row: nonEmpty[0]?.row ?? 1, column: null, message: 'no header row: expected columns such as 类型 (kind), 名称 (name), 纬度 (lat), 经度 (lon), 所属企业 (enterprise) or 所属辖区 (jurisdiction); see docs/resources.md' }],
    };
  }
  const header = nonEmpty[headerAt];
  const headerText = header.cells.map(text);
  const columnOf = new Map<Field, number>();
  const ignoredColumns: string[] = [];
  columns.forEach((f, i) => {
    if (f === null) {
      if (headerText[i]) ignoredColumns.push(headerText[i]);
      return;
    }
    if (columnOf.has(f)) errors.push({ row: header.row, column: headerText[i], message: `two columns mean ${f}: ${headerText[columnOf.get(f)!]} and ${headerText[i]}` });
    else columnOf.set(f, i);
  });
  /** The column a field is read from, as the file heads it (or the field's own name when the file has none). */
  const colName = (f: Field) => (columnOf.has(f) ? headerText[columnOf.get(f)!] : `${COLUMNS[f][1] ?? f} (${f})`);
  for (const f of ['lat', 'lon'] as const) {
    if (!columnOf.has(f)) errors.push({ row: header.row, column: null, message: `no column for ${f === 'lat' ? '纬度 (lat)' : '经度 (lon)'}: every resource needs its position` });
  }
  if (errors.length) return { resources: [], rows: 0, ignoredColumns, errors };

  type Pending = { input: Record<string, unknown>; firstRow: number; itemRows: number[]; raw: Map<Field, string> };
  const byId = new Map<string, Pending>();
  /** Resources whose first row was wrong: their further rows are checked for their items only. */
  const failed = new Map<string, number>();
  const order: string[] = [];
  let rows = 0;

  for (const r of nonEmpty.slice(headerAt + 1)) {
    rows++;
    const cell = (f: Field): string => (columnOf.has(f) ? text(r.cells[columnOf.get(f)!]) : '');
    const raw = new Map<Field, string>();
    for (const f of columnOf.keys()) if (cell(f) !== '') raw.set(f, cell(f));
    const rowErrors: RowError[] = [];
    const bad = (f: Field, message: string) => rowErrors.push({ row: r.row, column: colName(f), value: cell(f), message });

    const kindText = cell('kind');
    const kind: ResourceKind | undefined = kindText ? kindOf(kindText) : undefined;
    const name = cell('name');
    const enterpriseText = cell('enterprise');
    const enterprise = enterpriseText ? options.enterprise(enterpriseText) : null;
    const jurisdiction = cell('jurisdiction');
    let id = cell('id');
    // No id column: one derived from what the resource is, so that importing the same file again
    // replaces rather than duplicates it (and rows of one warehouse that repeat its kind and name join).
    if (!id && kind && name) id = `${kind}-${createHash('sha256').update(`${kind}\u0000${name}\u0000${enterprise ?? enterpriseText}\u0000${jurisdiction}`).digest('hex').slice(0, 12)}`;
    const continuing = id ? byId.get(id) : undefined;
    const failedFirst = id && !continuing ? failed.get(id) : undefined;
    if (!continuing && failedFirst === undefined) {
      if (!kindText) bad('kind', 'empty: say what kind of resource it is');
      else if (!kind) bad('kind', `unknown kind; one of ${accepted(RESOURCE_KINDS)}`);
      if (enterpriseText && !enterprise) bad('enterprise', 'no such enterprise is registered (give its id or its name as registered)');
      if (cell('id') && !ID_PATTERN.test(id)) bad('id', 'letters, digits, _ . - only, at most 64, starting with a letter or digit');
    }

    const num = (f: Field, integer: boolean): number | null => {
      const s = cell(f).replace(/(?<=\d)[,，](?=\d{3}\b)/g, '');
      if (s === '') return null;
      const n = Number(s);
      if (!Number.isFinite(n)) {
        bad(f, 'not a number');
        return null;
      }
      if (integer && !Number.isInteger(n)) {
        bad(f, 'not a whole number');
        return null;
      }
      return n;
    };
    const coordinate = (f: 'lat' | 'lon'): number | null => {
      const s = cell(f);
      if (s === '') {
        bad(f, `empty: every resource needs its ${f === 'lat' ? 'latitude' : 'longitude'} (WGS-84 decimal degrees)`);
        return null;
      }
      const n = Number(s);
      if (!Number.isFinite(n)) {
        bad(f, 'not a number: decimal degrees, e.g. 30.7512 (degrees, minutes and seconds are not read)');
        return null;
      }
      const max = f === 'lat' ? 90 : 180;
      if (Math.abs(n) > max) {
        bad(f, `out of range (${-max} to ${max})${f === 'lat' && Math.abs(n) <= 180 ? ': are latitude and longitude swapped?' : ''}`);
        return null;
      }
      return n;
    };

    const item: ResourceItem | null = (() => {
      const itemText = cell('item');
      const qty = num('quantity', false);
      if (!itemText) {
        if (qty !== null) bad('item', 'a quantity without the item it counts');
        return null;
      }
      if (qty === null) {
        if (!rowErrors.some((e) => e.column === colName('quantity'))) bad('quantity', `how many ${itemText}? a number`);
        return null;
      }
      if (qty < 0) {
        bad('quantity', 'negative');
        return null;
      }
      const code: ItemKind | undefined = itemOf(itemText);
      // An item this catalog does not know is kept under its own name: shown, but it answers no need.
      return { kind: code ?? 'other', name: code && itemText === ITEMS[code].zh ? '' : itemText, quantity: qty, unit: cell('unit') };
    })();

    if (failedFirst !== undefined) {
      errors.push(...rowErrors);
      continue;
    }
    if (continuing) {
      // A further row of the same resource: it adds an item; anything else it says must agree.
      for (const [f, v] of raw) {
        if (f === 'item' || f === 'quantity' || f === 'unit' || f === 'id') continue;
        const first = continuing.raw.get(f);
        if (first !== undefined && first !== v) bad(f, `differs from row ${continuing.firstRow} of the same resource (${first}); rows of one resource may differ only in the item`);
        else if (first === undefined) bad(f, `row ${continuing.firstRow} of the same resource leaves this empty; say it on the first row`);
      }
      if (!item && !rowErrors.length) bad('id', `repeats row ${continuing.firstRow} without an item to add`);
      if (!rowErrors.length && item) {
        (continuing.input.items as ResourceItem[]).push(item);
        continuing.itemRows.push(r.row);
      }
      errors.push(...rowErrors);
      continue;
    }

    const specialities: Speciality[] = [];
    for (const word of cell('specialities').split(/[;；,，、|/]+/).map((w) => w.trim()).filter(Boolean)) {
      const s = specialityOf(word);
      if (!s) bad('specialities', `unknown speciality ${word}; one of ${accepted(SPECIALITIES)}`);
      else if (!specialities.includes(s)) specialities.push(s);
    }
    const input = {
      id,
      kind,
      name,
      lat: coordinate('lat'),
      lon: coordinate('lon'),
      enterprise,
      jurisdiction,
      contact: cell('contact'),
      phone: cell('phone'),
      address: cell('address'),
      specialities,
      people: num('people', true),
      capacity: num('capacity', true),
      items: item ? [item] : [],
      note: cell('note'),
    };
    if (!name) bad('name', 'empty: every resource needs a name');
    errors.push(...rowErrors);
    if (rowErrors.length && id) failed.set(id, r.row);
    if (rowErrors.length || !id) continue;
    byId.set(id, { input, firstRow: r.row, itemRows: item ? [r.row] : [], raw });
    order.push(id);
  }

  // Each resource whole: the schema's limits, then what its kind needs.
  const resources: ResourceInput[] = [];
  const known = (e: string) => options.enterprise(e) !== undefined;
  const fieldColumn = (path: (string | number | symbol)[]): string => {
    const [f] = path;
    if (f === 'items') return colName(path[2] === 'quantity' ? 'quantity' : path[2] === 'unit' ? 'unit' : 'item');
    return colName((f as Field) in COLUMNS ? (f as Field) : 'name');
  };
  for (const id of order) {
    const p = byId.get(id)!;
    const parsed = ResourceInput.safeParse(p.input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const row = issue.path[0] === 'items' && typeof issue.path[1] === 'number' ? (p.itemRows[issue.path[1]] ?? p.firstRow) : p.firstRow;
        errors.push({ row, column: fieldColumn(issue.path), value: String(issue.path.reduce<unknown>((o, k) => (o as Record<PropertyKey, unknown>)?.[k as PropertyKey], p.input) ?? ''), message: issue.message });
      }
      continue;
    }
    const issues = resourceIssues(parsed.data, known);
    for (const issue of issues) {
      const path = issue.field.split('.');
      const column = path[0] === 'items' ? colName('item') : colName(path[0] === 'specialities' ? 'specialities' : (path[0] as Field));
      errors.push({ row: path[0] === 'items' && path[1] ? (p.itemRows[Number(path[1])] ?? p.firstRow) : p.firstRow, column, message: issue.message });
    }
    if (!issues.length) resources.push(parsed.data);
  }
  // In the order a person reads the sheet: by row, then from left to right.
  const position = (e: RowError) => (e.column === null ? -1 : headerText.indexOf(e.column));
  errors.sort((a, b) => a.row - b.row || position(a) - position(b));
  const max = options.maxErrors ?? 500;
  return { resources, errors: errors.slice(0, max), rows, ignoredColumns };
}

export type ImportFormat = 'csv' | 'xlsx';

/** A file's resources: CSV text or an .xlsx workbook, by format. */
export async function readResources(bytes: Uint8Array, format: ImportFormat, options: ImportOptions): Promise<ImportResult & { errorCount: number }> {
  const { sheet, errors } = format === 'xlsx' ? await readXlsx(bytes) : readCsv(decodeText(bytes));
  if (errors.length) return { resources: [], errors, rows: 0, ignoredColumns: [], errorCount: errors.length };
  const all = resourcesFromSheet(sheet, { ...options, maxErrors: Infinity });
  const max = options.maxErrors ?? 500;
  return { ...all, errors: all.errors.slice(0, max), errorCount: all.errors.length };
}
