// Alarm search over the whole history and the exports (issue 15): filters, paging, the enterprise
// boundary, CSV read back with papaparse and Excel with exceljs, raw readings from a real InfluxDB,
// and an audit entry for every export.
import ExcelJS from 'exceljs';
import Papa from 'papaparse';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { createTestDatabase, influxUrl } from '../../test/support/influx.ts';
import { shanghaiTime } from '../export.ts';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

let h: Harness;
let db: Awaited<ReturnType<typeof createTestDatabase>>;
let admin: Record<string, string>;
let acme: Record<string, string>;
let op: Record<string, string>;
const DAY = 86_400_000;
// 2026-03-01 00:00 UTC = 08:00 in Shanghai.
const T0 = Date.UTC(2026, 2, 1);
const ids: Record<string, string> = {};

const inject = (url: string, headers: Record<string, string>) => h.api.app.inject({ method: 'GET', url, headers });
const csvOf = (body: Buffer | string) => {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  expect(text.charCodeAt(0)).toBe(0xfeff);
  return Papa.parse<string[]>(text.slice(1), { skipEmptyLines: true }).data;
};
const xlsxOf = async (body: Buffer) => {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(body as unknown as ArrayBuffer);
  return book;
};
const rowsOf = (sheet: ExcelJS.Worksheet) => {
  const out: unknown[][] = [];
  sheet.eachRow((row) => out.push((row.values as unknown[]).slice(1)));
  return out;
};

beforeAll(async () => {
  db = await createTestDatabase('hw_export');
  h = await startHarness({ config: { ingest: { influx: { kind: 'v1', url: db.url, database: db.db } } } });
  await seedPlant(h);
  admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [
    ['op', 'operator', null],
    ['acme-user', 'enterprise', 'acme'],
  ] as const) {
    expect((await h.api.app.inject({ method: 'POST', url: '/api/v1/accounts', headers: admin, payload: { username, password: `${username}-password-1`, role, enterprise } })).statusCode).toBe(201);
  }
  acme = await login(h, 'acme-user', 'acme-user-password-1');
  op = await login(h, 'op', 'op-password-1');
  // A month of alarms: acme's tank (vessel) and gas detector, bravo's gas detector.
  h.clock.t = T0;
  ids.tank = (await raiseAlarm(h, 'acme', 'tank-1', 2, 'HW_ALM_LEVEL_HIGH')).id;
  h.clock.t = T0 + DAY;
  ids.gas = (await raiseAlarm(h, 'acme', 'gas-1', 1)).id;
  h.clock.t = T0 + 2 * DAY;
  ids.bravo = (await raiseAlarm(h, 'bravo', 'gas-9', 3)).id;
  h.clock.t = T0 + 3 * DAY;
  await h.alarms.acknowledge(ids.gas, 'op', 'on my way');
  await h.alarms.clear(ids.tank, 'op', 'level gauge fixed');
  await h.alarms.closeAlarm(ids.tank, 'op');
  h.clock.t = Date.now();
}, 60_000);

afterAll(async () => {
  await h?.close();
  await db?.drop();
});

describe('alarm search', () => {
  test('filters by device class, free text, level, state, condition, enterprise and time; pages with a total', async () => {
    const list = async (q: string, headers = admin) => {
      const res = await inject(`/api/v1/alarms?${q}`, headers);
      expect(res.statusCode, res.body).toBe(200);
      return res.json() as { total: number; alarms: { id: string }[] };
    };
    expect((await list('deviceClass=vessel')).alarms.map((a) => a.id)).toEqual([ids.tank]);
    expect((await list('deviceClass=gas_combustible,vessel')).total).toBe(3);
    expect((await list('q=GAS')).alarms.map((a) => a.id)).toEqual([ids.bravo, ids.gas]);
    expect((await list('level=1,2')).total).toBe(2);
    expect((await list('state=closed')).alarms.map((a) => a.id)).toEqual([ids.tank]);
    expect((await list('condition=HW_ALM_GAS_LEL_HIGH&enterprise=acme')).alarms.map((a) => a.id)).toEqual([ids.gas]);
    expect((await list(`from=${T0 + DAY}&to=${new Date(T0 + 2 * DAY).toISOString()}`)).alarms.map((a) => a.id)).toEqual([ids.gas]);
    const first = await list('limit=2&offset=0');
    const second = await list('limit=2&offset=2');
    expect(first.total).toBe(3);
    expect(second.total).toBe(3);
    expect([...first.alarms, ...second.alarms].map((a) => a.id)).toEqual([ids.bravo, ids.gas, ids.tank]);
    expect((await inject('/api/v1/alarms?deviceClass=teapot', admin)).statusCode).toBe(400);
  });

  test('an enterprise user searches only its own enterprise: another is 403', async () => {
    const res = await inject('/api/v1/alarms?q=gas', acme);
    expect(res.json().alarms.map((a: { id: string }) => a.id)).toEqual([ids.gas]);
    expect((await inject('/api/v1/alarms?enterprise=bravo', acme)).statusCode).toBe(403);
  });
});

describe('alarm export', () => {
  test('CSV: UTF-8 with BOM, Chinese header by default, Shanghai local times, a file name; English on request', async () => {
    const res = await inject('/api/v1/alarms/export?format=csv&enterprise=acme', admin);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    expect(res.headers['content-disposition']).toMatch(/^attachment; filename="alarms-\d{8}-\d{4}\.csv"$/);
    const rows = csvOf(res.rawPayload);
    expect(rows[0]!.slice(0, 4)).toEqual(['报警编号', '产生时间', '级别', '报警类型']);
    expect(rows.slice(1).map((r) => r[0])).toEqual([ids.gas, ids.tank]);
    const tank = rows.find((r) => r[0] === ids.tank)!;
    expect(tank[1]).toBe('2026-03-01 08:00:00');
    expect(tank).toContain('已关闭');
    expect(tank).toContain('二级 橙色');
    const en = csvOf((await inject('/api/v1/alarms/export?format=csv&lang=en&deviceClass=vessel', admin)).rawPayload);
    expect(en[0]!.slice(0, 3)).toEqual(['Alarm id', 'Raised at', 'Level']);
    expect(en.slice(1).map((r) => r[0])).toEqual([ids.tank]);
    expect(en[1]).toContain('Closed');
  });

  test('CSV of the history entries of the alarms found', async () => {
    const rows = csvOf((await inject(`/api/v1/alarms/export?format=csv&part=history&deviceClass=vessel`, admin)).rawPayload);
    expect(rows[0]!.slice(0, 4)).toEqual(['报警编号', '序号', '时间', '操作']);
    expect(rows.slice(1).map((r) => r[3])).toEqual(['产生', '人工解除', '关闭']);
    expect(rows[2]).toContain('level gauge fixed');
    expect(rows[2]![2]).toBe(shanghaiTime(T0 + 3 * DAY));
  });

  test('Excel: the alarms and their histories, one sheet each, bold header', async () => {
    const res = await inject('/api/v1/alarms/export?format=xlsx&level=1,2', admin);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    expect(res.headers['content-disposition']).toMatch(/filename="alarms-\d{8}-\d{4}\.xlsx"/);
    const book = await xlsxOf(res.rawPayload);
    expect(book.worksheets.map((s) => s.name)).toEqual(['报警', '处置记录']);
    const alarms = rowsOf(book.worksheets[0]!);
    expect(alarms[0]!.slice(0, 2)).toEqual(['报警编号', '产生时间']);
    expect(book.worksheets[0]!.getRow(1).font?.bold).toBe(true);
    expect(book.worksheets[0]!.getColumn(1).width).toBe(30);
    expect(alarms.slice(1).map((r) => r[0])).toEqual([ids.gas, ids.tank]);
    const history = rowsOf(book.worksheets[1]!);
    expect(history.slice(1).map((r) => `${r[0] === ids.gas ? 'gas' : 'tank'}:${r[3]}`)).toEqual(['gas:产生', 'gas:签收', 'tank:产生', 'tank:人工解除', 'tank:关闭']);
  });

  test("an enterprise user exports only its own alarms; another enterprise's is 403", async () => {
    const rows = csvOf((await inject('/api/v1/alarms/export?format=csv', acme)).rawPayload);
    expect(rows.slice(1).map((r) => r[5])).toEqual(['acme', 'acme']);
    const book = await xlsxOf((await inject('/api/v1/alarms/export?format=xlsx', acme)).rawPayload);
    expect(rowsOf(book.worksheets[1]!).slice(1).every((r) => r[0] === ids.gas || r[0] === ids.tank)).toBe(true);
    const refused = await inject('/api/v1/alarms/export?format=csv&enterprise=bravo', acme);
    expect(refused.statusCode).toBe(403);
    expect(refused.json().code).toBe('HW_ERR_FORBIDDEN');
  });

  test('every export is in the audit log, with its filter and count; refused ones too', async () => {
    const log = (await inject('/api/v1/audit?action=alarm.export&limit=50', admin)).json() as { username: string; status: number; enterprise: string | null; method: string; detail: Record<string, unknown> }[];
    const mine = log.find((e) => e.username === 'admin' && (e.detail?.filter as Record<string, unknown>)?.deviceClass !== undefined && e.detail.part === 'history');
    expect(mine).toMatchObject({ method: 'GET', status: 200, detail: { format: 'csv', alarms: 1, historyEntries: 3 } });
    expect(log.find((e) => e.username === 'acme-user' && e.status === 403)).toMatchObject({ enterprise: 'bravo' });
    expect(log.filter((e) => e.username === 'acme-user' && e.status === 200).every((e) => e.enterprise === 'acme')).toBe(true);
  });
});

describe('audit export', () => {
  test('supervisors and administrators; an enterprise user gets the entries about its enterprise; operators none', async () => {
    expect((await inject('/api/v1/audit/export?format=csv', op)).statusCode).toBe(403);
    const all = csvOf((await inject('/api/v1/audit/export?format=csv&lang=en', admin)).rawPayload);
    expect(all[0]).toEqual(['Seq', 'Time', 'User', 'Role', 'Enterprise', 'Action', 'Method', 'Path', 'Status', 'Target', 'Address', 'Detail']);
    expect(new Set(all.slice(1).map((r) => r[4]))).toContain('bravo');
    const own = await inject('/api/v1/audit/export?format=xlsx', acme);
    expect(own.statusCode, own.body).toBe(200);
    const rows = rowsOf((await xlsxOf(own.rawPayload)).worksheets[0]!);
    expect(rows[0]![0]).toBe('序号');
    expect(rows.length).toBeGreaterThan(1);
    expect(rows.slice(1).every((r) => r[4] === 'acme')).toBe(true);
    expect((await inject('/api/v1/audit/export?enterprise=bravo', acme)).statusCode).toBe(403);
    const log = (await inject('/api/v1/audit?action=audit.export&limit=20', admin)).json() as { username: string; status: number }[];
    expect(log.map((e) => `${e.username}:${e.status}`)).toEqual(expect.arrayContaining(['op:403', 'admin:200', 'acme-user:200', 'acme-user:403']));
  });
});

describe('readings export', () => {
  test('raw readings from InfluxDB in a range, with the metrics as columns; limits, scope and audit', async () => {
    const base = Date.now() - 3_600_000;
    const lines = [0, 1, 2].map((i) => `vessel,enterprise=acme,device=tank-1 level=${5 + i},temperature=${20 + i} ${base + i * 60_000}`);
    lines.push(`vessel,enterprise=acme,device=reactor-1 level=99 ${base}`);
    const w = await fetch(`${influxUrl()}/write?db=${db.db}&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(w.status).toBe(204);
    const url = `/api/v1/enterprises/acme/devices/tank-1/readings/export?from=${base - 1000}&to=${base + 3_600_000}`;
    const res = await inject(`${url}&format=csv`, acme);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-disposition']).toMatch(/filename="readings-acme-tank-1-\d{8}-\d{4}\.csv"/);
    const rows = csvOf(res.rawPayload);
    expect(rows[0]!.slice(0, 4)).toEqual(['时间', '时间戳（毫秒）', '液位（m）', '温度（°C）']);
    expect(rows.slice(1).map((r) => [r[0], r[2], r[3]])).toEqual([0, 1, 2].map((i) => [shanghaiTime(base + i * 60_000), String(5 + i), String(20 + i)]));
    const book = await xlsxOf((await inject(`${url}&format=xlsx&lang=en`, admin)).rawPayload);
    const x = rowsOf(book.worksheets[0]!);
    expect(x[0]!.slice(0, 3)).toEqual(['Time', 'Epoch ms', 'level (m)']);
    expect(x.slice(1).map((r) => r[2])).toEqual([5, 6, 7]);

    expect((await inject('/api/v1/enterprises/bravo/devices/gas-9/readings/export?from=0', acme)).statusCode).toBe(403);
    expect((await inject('/api/v1/enterprises/acme/devices/nope/readings/export?from=0', acme)).statusCode).toBe(404);
    const long = await inject(`/api/v1/enterprises/acme/devices/tank-1/readings/export?from=${base - 40 * DAY}&to=${base}`, acme);
    expect(long.statusCode).toBe(400);
    expect(long.json().message).toMatch(/31 days/);
    const log = (await inject('/api/v1/audit?action=readings.export&limit=20', admin)).json() as { username: string; status: number; target: string; detail: Record<string, unknown> }[];
    expect(log.find((e) => e.username === 'acme-user' && e.status === 200)).toMatchObject({ target: 'acme/tank-1', detail: { format: 'csv', readings: 3 } });
    expect(log.some((e) => e.username === 'acme-user' && e.status === 403 && e.target === null)).toBe(true);
  });
});
