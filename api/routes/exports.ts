// Exports (issue 15): alarms and their histories, the audit log, and a device's raw readings, as CSV
// or Excel, with the same filters and the same enterprise boundary as the lists they come from. Every
// export is audited (who took which data out, with the filter and the number of rows).
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALARM_CONDITIONS, type Alarm, type AlarmHistoryEntry } from '../../contract/alarms.ts';
import { DEVICE_CLASSES } from '../../contract/catalog.ts';
import { HazwatchError } from '../../contract/errors.ts';
import type { AuditEntry } from '../accounts.ts';
import { allAlarms } from '../alarm-pages.ts';
import { authenticate, require, scopeFilter } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { ExportOptions, fileName, sendExport, shanghaiTime, type ExportLang, type Table } from '../export.ts';
import { readingsOf } from '../readings-export.ts';
import { AlarmQuery, AuditQuery, DeviceParams, errorResponses, timeParam } from '../schemas.ts';
import { texts } from '../console/i18n.js';
import { alarmFilterOf } from './alarms.ts';

/** At most this many alarms, audit entries or readings in one file: beyond, narrow the filter. */
export const EXPORT_MAX_ALARMS = 50_000;
export const EXPORT_MAX_AUDIT = 100_000;
export const EXPORT_MAX_READINGS = 100_000;
export const EXPORT_MAX_READINGS_DAYS = 31;

const DAY = 86_400_000;
const AlarmExportQuery = AlarmQuery.omit({ limit: true, offset: true }).extend({
  ...ExportOptions,
  part: z.enum(['alarms', 'history']).default('alarms').describe('CSV: the alarms, or the history entries of those alarms (.xlsx has both, one sheet each)'),
});
const AuditExportQuery = AuditQuery.omit({ limit: true, beforeSeq: true }).extend(ExportOptions);
const ReadingsExportQuery = z
  .object({ from: timeParam.describe('epoch ms or ISO 8601'), to: timeParam.optional().describe('default now'), ...ExportOptions })
  .strict();

type Words = {
  level: Record<number, string>;
  states: Record<string, string>;
  actionDone: Record<string, string>;
  causes: Record<string, string>;
};
const words = (lang: ExportLang) => texts(lang) as unknown as Words;
const condition = (c: string, lang: ExportLang) => {
  const spec = (ALARM_CONDITIONS as Record<string, { title: string; zh: string }>)[c];
  return spec ? spec[lang === 'zh' ? 'zh' : 'title'] : c;
};
const deviceClass = (c: string, lang: ExportLang) => {
  const spec = (DEVICE_CLASSES as Record<string, { title: string; zh: string }>)[c];
  return spec ? spec[lang === 'zh' ? 'zh' : 'title'] : c;
};
const value = (v: number | boolean | null) => (typeof v === 'boolean' ? String(v) : v);

function alarmTable(alarms: Alarm[], lang: ExportLang): Table<Alarm> {
  const w = words(lang);
  return {
    name: { zh: '报警', en: 'Alarms' },
    rows: alarms,
    columns: [
      { zh: '报警编号', en: 'Alarm id', width: 30, value: (a) => a.id },
      { zh: '产生时间', en: 'Raised at', width: 20, value: (a) => shanghaiTime(a.raisedAt) },
      { zh: '级别', en: 'Level', width: 16, value: (a) => w.level[a.level] ?? a.level },
      { zh: '报警类型', en: 'Condition', width: 28, value: (a) => condition(a.condition, lang) },
      { zh: '报警代码', en: 'Code', width: 28, value: (a) => a.condition },
      { zh: '企业', en: 'Enterprise', value: (a) => a.enterprise },
      { zh: '设备', en: 'Device', value: (a) => a.device },
      { zh: '设备类型', en: 'Device class', width: 22, value: (a) => deviceClass(a.deviceClass, lang) },
      { zh: '危险源', en: 'Hazard source', value: (a) => a.hazardSource },
      { zh: '状态', en: 'State', width: 18, value: (a) => w.states[a.state] ?? a.state },
      { zh: '监测项', en: 'Metric', value: (a) => a.metric },
      { zh: '数值', en: 'Value', value: (a) => value(a.value) },
      { zh: '阈值', en: 'Threshold', value: (a) => a.threshold },
      { zh: '说明', en: 'Message', width: 40, value: (a) => (lang === 'zh' ? (a.messageZh ?? a.message) : a.message) },
      { zh: '签收时间', en: 'Acknowledged at', width: 20, value: (a) => shanghaiTime(a.acknowledgedAt) },
      { zh: '签收人', en: 'Acknowledged by', value: (a) => a.acknowledgedBy },
      { zh: '恢复时间', en: 'Cleared at', width: 20, value: (a) => shanghaiTime(a.clearedAt) },
      { zh: '关闭时间', en: 'Closed at', width: 20, value: (a) => shanghaiTime(a.closedAt) },
      { zh: '关闭人', en: 'Closed by', value: (a) => a.closedBy },
      { zh: '原因', en: 'Cause', value: (a) => (a.cause ? (w.causes[a.cause] ?? a.cause) : null) },
    ],
  };
}

function historyTable(entries: AlarmHistoryEntry[], lang: ExportLang): Table<AlarmHistoryEntry> {
  const w = words(lang);
  return {
    name: { zh: '处置记录', en: 'History' },
    rows: entries,
    columns: [
      { zh: '报警编号', en: 'Alarm id', width: 30, value: (e) => e.alarmId },
      { zh: '序号', en: 'Seq', width: 8, value: (e) => e.seq },
      { zh: '时间', en: 'Time', width: 20, value: (e) => shanghaiTime(e.at) },
      { zh: '操作', en: 'Action', width: 16, value: (e) => w.actionDone[e.action] ?? e.action },
      { zh: '操作人', en: 'By', value: (e) => e.by },
      { zh: '级别', en: 'Level', width: 16, value: (e) => w.level[e.level] ?? e.level },
      { zh: '状态', en: 'State', width: 18, value: (e) => w.states[e.state] ?? e.state },
      { zh: '数值', en: 'Value', value: (e) => value(e.value) },
      { zh: '备注', en: 'Note', width: 40, value: (e) => e.note },
    ],
  };
}

function auditTable(entries: AuditEntry[]): Table<AuditEntry> {
  return {
    name: { zh: '审计日志', en: 'Audit log' },
    rows: entries,
    columns: [
      { zh: '序号', en: 'Seq', width: 8, value: (e) => e.seq },
      { zh: '时间', en: 'Time', width: 20, value: (e) => shanghaiTime(e.at) },
      { zh: '用户', en: 'User', value: (e) => e.username },
      { zh: '角色', en: 'Role', value: (e) => e.role },
      { zh: '企业', en: 'Enterprise', value: (e) => e.enterprise },
      { zh: '操作', en: 'Action', width: 22, value: (e) => e.action },
      { zh: '方法', en: 'Method', width: 8, value: (e) => e.method },
      { zh: '路径', en: 'Path', width: 40, value: (e) => e.path },
      { zh: '状态码', en: 'Status', width: 8, value: (e) => e.status },
      { zh: '对象', en: 'Target', width: 24, value: (e) => e.target },
      { zh: '地址', en: 'Address', value: (e) => e.ip },
      { zh: '详情', en: 'Detail', width: 60, value: (e) => (e.detail ? JSON.stringify(e.detail) : null) },
    ],
  };
}

const tooMany = (what: string, n: number, max: number) =>
  new HazwatchError('HW_ERR_VALIDATION', `${n} ${what} match, more than ${max} in one file: narrow the filter`, { field: 'querystring' });

export function exportRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);

  app.get(
    '/api/v1/alarms/export',
    {
      schema: { tags: ['alarms'], summary: `Alarms of the search (the filters of GET /alarms) as CSV or Excel, with their histories; at most ${EXPORT_MAX_ALARMS}`, querystring: AlarmExportQuery, response: { ...errorResponses } },
      preValidation: auth,
      config: { audit: 'alarm.export' },
    },
    async (req, reply) => {
      const q = req.query;
      // Naming another enterprise is 403, and audited as an attempt on that enterprise.
      require(req, 'read', q.enterprise);
      const filter = alarmFilterOf(req, q);
      if (filter.enterprises?.length === 1) req.auditEnterprise = filter.enterprises[0];
      const total = await ctx.alarms.count(filter);
      if (total > EXPORT_MAX_ALARMS) throw tooMany('alarms', total, EXPORT_MAX_ALARMS);
      const alarms = await allAlarms(ctx.alarms, filter, EXPORT_MAX_ALARMS);
      const wantHistory = q.format === 'xlsx' || q.part === 'history';
      const order = new Map(alarms.map((a, i) => [a.id, i]));
      const history = wantHistory ? (await ctx.alarms.historyOf(alarms.map((a) => a.id))).sort((a, b) => order.get(a.alarmId)! - order.get(b.alarmId)! || a.seq - b.seq) : [];
      req.auditDetail = { format: q.format, part: q.format === 'csv' ? q.part : 'alarms+history', lang: q.lang, filter: filterOf(req.query as Record<string, unknown>), alarms: alarms.length, historyEntries: history.length };
      const tables = [alarmTable(alarms, q.lang), historyTable(history, q.lang)] as Table<unknown>[];
      const csvHistory = q.format === 'csv' && q.part === 'history';
      return sendExport(reply, q.format, q.lang, fileName(csvHistory ? 'alarm-history' : 'alarms', q.format, ctx.now()), csvHistory ? [tables[1]!] : tables);
    },
  );

  app.get(
    '/api/v1/audit/export',
    {
      schema: { tags: ['audit'], summary: `The audit log (the filters of GET /audit) as CSV or Excel, newest first; at most ${EXPORT_MAX_AUDIT} entries`, querystring: AuditExportQuery, response: { ...errorResponses } },
      preValidation: auth,
      config: { audit: 'audit.export' },
    },
    async (req, reply) => {
      require(req, 'audit.read');
      const q = req.query;
      // Naming an enterprise outside the scope is 403, and audited as an attempt on it.
      if (q.enterprise) require(req, 'audit.read', q.enterprise);
      const enterprises = scopeFilter(req, q.enterprise);
      if (enterprises?.length === 1) req.auditEnterprise = enterprises[0];
      const filter = { from: q.from, to: q.to, username: q.username, action: q.action, enterprises };
      const entries: AuditEntry[] = [];
      for (;;) {
        const page = await ctx.accounts.auditLog({ ...filter, limit: 1000, beforeSeq: entries.at(-1)?.seq });
        entries.push(...page);
        if (entries.length > EXPORT_MAX_AUDIT) throw tooMany('audit entries', entries.length, EXPORT_MAX_AUDIT);
        if (page.length < 1000) break;
      }
      req.auditDetail = { format: q.format, lang: q.lang, filter: filterOf(req.query as Record<string, unknown>), entries: entries.length };
      return sendExport(reply, q.format, q.lang, fileName('audit', q.format, ctx.now()), [auditTable(entries) as Table<unknown>]);
    },
  );

  app.get(
    '/api/v1/enterprises/:enterprise/devices/:device/readings/export',
    {
      schema: {
        tags: ['values'],
        summary: `A device's raw readings from InfluxDB as CSV or Excel, oldest first: at most ${EXPORT_MAX_READINGS_DAYS} days and ${EXPORT_MAX_READINGS} readings`,
        params: DeviceParams,
        querystring: ReadingsExportQuery,
        response: { ...errorResponses, 503: errorResponses[400] },
      },
      preValidation: auth,
      config: { audit: 'readings.export' },
    },
    async (req, reply) => {
      const { enterprise, device: id } = req.params;
      require(req, 'read', enterprise);
      req.auditTarget = `${enterprise}/${id}`;
      const device = ctx.registry.device(enterprise, id);
      if (!device) throw new HazwatchError('HW_ERR_NOT_FOUND', `no device ${enterprise}/${id}`);
      const q = req.query;
      const to = q.to ?? ctx.now();
      if (to <= q.from) throw new HazwatchError('HW_ERR_VALIDATION', 'to: must lie after from', { field: 'querystring.to' });
      if (to - q.from > EXPORT_MAX_READINGS_DAYS * DAY) throw new HazwatchError('HW_ERR_VALIDATION', `from, to: at most ${EXPORT_MAX_READINGS_DAYS} days in one file`, { field: 'querystring.from' });
      if (!ctx.influx) throw new HazwatchError('HW_ERR_UNAVAILABLE', 'no time-series database is configured (api.influx, ingest.influx)');
      let readings;
      try {
        readings = await readingsOf(ctx.influx, device, { from: q.from, to, limit: EXPORT_MAX_READINGS + 1 });
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message }, 'readings export query failed');
        throw new HazwatchError('HW_ERR_UNAVAILABLE', `time-series database unavailable: ${(err as Error).message}`);
      }
      if (readings.rows.length > EXPORT_MAX_READINGS) throw tooMany('readings', readings.rows.length, EXPORT_MAX_READINGS);
      req.auditDetail = { format: q.format, lang: q.lang, from: q.from, to, readings: readings.rows.length };
      const table: Table<(number | string | null)[]> = {
        name: { zh: '读数', en: 'Readings' },
        rows: readings.rows,
        columns: [
          { zh: '时间', en: 'Time', width: 20, value: (r) => shanghaiTime(r[0] as number) },
          { zh: '时间戳（毫秒）', en: 'Epoch ms', width: 16, value: (r) => r[0] ?? null },
          ...readings.metrics.map((m, i) => ({
            zh: `${m.zh}${m.unit ? `（${m.unit}）` : ''}`,
            en: `${m.metric}${m.unit ? ` (${m.unit})` : ''}`,
            width: 16,
            value: (r: (number | string | null)[]) => r[i + 1] ?? null,
          })),
        ],
      };
      return sendExport(reply, q.format, q.lang, fileName(`readings-${enterprise}-${id}`, q.format, ctx.now()), [table as Table<unknown>]);
    },
  );
}

/** The filters of an export as asked, for its audit entry. */
function filterOf(query: Record<string, unknown>): Record<string, unknown> {
  const { format: _f, lang: _l, part: _p, ...rest } = query;
  return rest;
}
