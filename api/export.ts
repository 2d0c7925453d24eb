// Exports (issue 15): a table as CSV (UTF-8 with a BOM, so that Excel in Chinese opens it right; the
// header row in the requested language) or as Excel .xlsx (exceljs: bold header, column widths, one
// sheet per table). Times are local time in Asia/Shanghai (UTC+8, no daylight saving), as the
// monitoring room reads them.
import ExcelJS from 'exceljs';
import type { FastifyReply } from 'fastify';
import Papa from 'papaparse';
import { z } from 'zod';

export const EXPORT_FORMATS = ['csv', 'xlsx'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
export type ExportLang = 'zh' | 'en';

/** The query parameters every export takes. */
export const ExportOptions = {
  format: z.enum(EXPORT_FORMATS).default('csv').describe('csv (UTF-8 with BOM) or xlsx'),
  lang: z.enum(['zh', 'en']).default('zh').describe('Language of the header row and of the words in the cells'),
};

export type Cell = string | number | null;

export interface Column<T> {
  zh: string;
  en: string;
  /** Width in characters in the .xlsx (default 14). */
  width?: number;
  value: (row: T) => Cell;
}

export interface Table<T> {
  name: { zh: string; en: string };
  columns: Column<T>[];
  rows: T[];
}

const SHANGHAI = new Intl.DateTimeFormat('sv-SE', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

/** `2026-01-02 08:04:05`: local time in Asia/Shanghai; empty for null. */
export function shanghaiTime(ms: number | null | undefined): string {
  return ms === null || ms === undefined ? '' : SHANGHAI.format(ms);
}

export function header<T>(table: Table<T>, lang: ExportLang): string[] {
  return table.columns.map((c) => c[lang]);
}

/** CSV with a BOM and CRLF line ends; cells that would start a formula in a spreadsheet are escaped. */
export function toCsv<T>(table: Table<T>, lang: ExportLang): Buffer {
  const text = Papa.unparse({ fields: header(table, lang), data: table.rows.map((r) => table.columns.map((c) => c.value(r) ?? '')) }, { newline: '\r\n', escapeFormulae: true });
  return Buffer.from('\uFEFF' + text + '\r\n', 'utf8');
}

/** One sheet per table, the header bold and frozen, the columns as wide as declared. */
export async function toXlsx(tables: Table<unknown>[], lang: ExportLang): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.creator = 'hazwatch';
  for (const table of tables) {
    const sheet = book.addWorksheet(table.name[lang], { views: [{ state: 'frozen', ySplit: 1 }] });
    sheet.columns = table.columns.map((c) => ({ header: c[lang], width: c.width ?? 14 }));
    sheet.getRow(1).font = { bold: true };
    for (const r of table.rows) sheet.addRow(table.columns.map((c) => c.value(r) ?? null));
  }
  return Buffer.from(await book.xlsx.writeBuffer());
}

/** `alarms-20260102-0804`: a file name with the export's local time. */
export function fileName(base: string, format: ExportFormat, at: number): string {
  return `${base}-${shanghaiTime(at).replace(/[-:]/g, '').replace(' ', '-').slice(0, 13)}.${format}`;
}

/** Sends the tables: CSV takes the first, .xlsx all of them (one sheet each). */
export async function sendExport(reply: FastifyReply, format: ExportFormat, lang: ExportLang, name: string, tables: Table<unknown>[]): Promise<FastifyReply> {
  const body = format === 'csv' ? toCsv(tables[0]!, lang) : await toXlsx(tables, lang);
  return reply
    .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')
    .header('content-disposition', `attachment; filename="${name}"`)
    .header('cache-control', 'no-store')
    .send(body);
}
