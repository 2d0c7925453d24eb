// Alarms and their closed loop (acknowledge, feedback, shelve, clear, close), maintenance windows,
// and the overview behind the one map. The API only writes the alarm store; the rules process
// publishes every change from the store's history (outbox), so nothing is published twice.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALARM_STATES, type Alarm, type AlarmLevel, type AlarmState } from '../../contract/alarms.ts';
import { HazwatchError } from '../../contract/errors.ts';
import { PLAN_HEIGHT, PLAN_WIDTH } from '../../registry/hazard-sources.ts';
import { allAlarms } from '../alarm-pages.ts';
import { authenticate, inScope, require, requestScope, scopeFilter, type Permission } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import type { AlarmFilter } from '../../rules/store-types.ts';
import {
  AckInput,
  AlarmChange,
  AlarmDetail,
  AlarmList,
  AlarmParams,
  AlarmQuery,
  errorResponses,
  FeedbackInput,
  MaintenanceInput,
  MaintenanceQuery,
  MaintenanceWindow,
  Overview,
  ReasonInput,
  ShelveInput,
} from '../schemas.ts';

/** States that colour the map and count as "needs attention": the condition is present, or nobody signed for it yet. */
export const ATTENTION_STATES: AlarmState[] = ['active_unacknowledged', 'active_acknowledged', 'cleared_unacknowledged'];

type Counts = { 1: number; 2: number; 3: number; 4: number };
const zero = (): Counts => ({ 1: 0, 2: 0, 3: 0, 4: 0 });
const worst = (c: Counts): number | null => ([1, 2, 3, 4] as const).find((l) => c[l] > 0) ?? null;

/** The store's filter for an alarm query, limited to the account's scope (403 when it names an enterprise outside it). */
export function alarmFilterOf(req: FastifyRequest, q: Omit<z.infer<typeof AlarmQuery>, 'limit' | 'offset'>): Omit<AlarmFilter, 'limit' | 'offset'> {
  const states = q.state ?? (q.open === 'true' ? ALARM_STATES.filter((s) => s !== 'closed') : q.open === 'false' ? ['closed' as const] : undefined);
  return {
    enterprises: scopeFilter(req, q.enterprise),
    device: q.device,
    deviceText: q.q,
    states,
    levels: q.level as AlarmLevel[] | undefined,
    conditions: q.condition,
    deviceClasses: q.deviceClass,
    parent: q.parent,
    topLevel: q.topLevel === 'true',
    from: q.from,
    to: q.to,
  };
}

export function alarmRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);

  /** The alarm, if the user may see it; another enterprise's alarm is "not found", not "forbidden". */
  const loadAlarm = async (req: FastifyRequest, id: string, permission: Permission): Promise<Alarm> => {
    const alarm = await ctx.alarms.get(id);
    if (!alarm) throw new HazwatchError('HW_ERR_NOT_FOUND', `no alarm ${id}`);
    require(req, 'read', alarm.enterprise, { hide: true });
    req.auditTarget = id;
    require(req, permission, alarm.enterprise);
    return alarm;
  };

  app.get('/api/v1/alarms', { schema: { tags: ['alarms'], summary: 'Alarms, most recent first: search over the whole history', querystring: AlarmQuery, response: { 200: AlarmList, ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'read');
    const filter = alarmFilterOf(req, req.query);
    const [alarms, total] = await Promise.all([ctx.alarms.list({ ...filter, limit: req.query.limit, offset: req.query.offset }), ctx.alarms.count(filter)]);
    return { total, alarms };
  });

  app.get('/api/v1/alarms/:id', { schema: { tags: ['alarms'], summary: 'One alarm with its full history', params: AlarmParams, response: { 200: AlarmDetail, ...errorResponses } }, preValidation: auth }, async (req) => {
    const alarm = await loadAlarm(req, req.params.id, 'read');
    return { alarm, history: await ctx.alarms.history(alarm.id) };
  });

  const action = <B extends z.ZodType>(
    name: string,
    permission: Permission,
    summary: string,
    body: B,
    run: (alarm: Alarm, by: string, body: z.infer<B>, req: FastifyRequest) => Promise<z.infer<typeof AlarmChange>>,
  ) =>
    app.post(
      `/api/v1/alarms/:id/${name}`,
      { schema: { tags: ['alarms'], summary, params: AlarmParams, body, response: { 200: AlarmChange, ...errorResponses } }, preValidation: auth, config: { audit: `alarm.${name}` } },
      async (req) => {
        const alarm = await loadAlarm(req, req.params.id, permission);
        return run(alarm, req.user!.username, req.body as z.infer<B>, req);
      },
    );

  action('acknowledge', 'alarm.acknowledge', 'Sign for an alarm (签收), and for the consequences grouped under it', AckInput, async (a, by, b, req) => {
    const consequences = (await ctx.alarms.list({ parent: a.id, states: ['active_unacknowledged', 'cleared_unacknowledged'], limit: 1000 })).map((c) => c.id);
    const change = await ctx.alarms.acknowledge(a.id, by, b.note);
    // Signed for with their cause: the audit says which, as each one's history does.
    if (consequences.length) req.auditDetail = { withConsequences: consequences };
    return change;
  });
  action('feedback', 'alarm.feedback', 'Record the verified cause and the measures taken', FeedbackInput, (a, by, b) => ctx.alarms.feedback(a.id, by, b));
  action('shelve', 'alarm.shelve', 'Shelve for a limited time, with a reason', ShelveInput, (a, by, b) =>
    ctx.alarms.shelve(a.id, by, b.until ?? ctx.now() + b.minutes! * 60_000, b.reason),
  );
  action('unshelve', 'alarm.shelve', 'End shelving now', AckInput, (a, by) => ctx.alarms.unshelve(a.id, by));
  action('clear', 'alarm.clear', 'Clear manually with a reason; raised again if the condition persists', ReasonInput, (a, by, b) => ctx.alarms.clear(a.id, by, b.reason));
  action('close', 'alarm.close', 'Close a cleared alarm', AckInput, (a, by, b) => ctx.alarms.closeAlarm(a.id, by, b.note));

  // ---- maintenance windows ----
  app.get(
    '/api/v1/maintenance',
    { schema: { tags: ['maintenance'], summary: 'Maintenance windows in scope', querystring: MaintenanceQuery, response: { 200: z.array(MaintenanceWindow), ...errorResponses } }, preValidation: auth },
    async (req) => {
      require(req, 'read');
      return ctx.alarms.maintenance({ enterprises: scopeFilter(req, req.query.enterprise), device: req.query.device, activeAt: req.query.active === 'true' ? ctx.now() : undefined, currentAt: req.query.current === 'true' ? ctx.now() : undefined });
    },
  );

  app.post(
    '/api/v1/maintenance',
    {
      schema: { tags: ['maintenance'], summary: 'Plan maintenance: the device (or one condition) raises nothing until then', body: MaintenanceInput, response: { 201: MaintenanceWindow, ...errorResponses } },
      preValidation: auth,
      config: { audit: 'maintenance.start' },
    },
    async (req, reply) => {
      const b = req.body;
      const user = require(req, 'maintenance.write', b.enterprise);
      if (!ctx.registry.device(b.enterprise, b.device)) throw new HazwatchError('HW_ERR_VALIDATION', `device: no device ${b.enterprise}/${b.device}`, { field: 'body.device' });
      const from = Math.max(ctx.now(), b.from ?? 0);
      const until = b.until ?? from + b.minutes! * 60_000;
      if (until <= from) throw new HazwatchError('HW_ERR_VALIDATION', 'until: must lie in the future, after the window starts', { field: 'body.until' });
      req.auditTarget = `${b.enterprise}/${b.device}`;
      const window = await ctx.alarms.setMaintenance({ enterprise: b.enterprise, device: b.device, condition: b.condition ?? null, by: user.username, reason: b.reason, until, from });
      reply.code(201);
      return window;
    },
  );

  app.post(
    '/api/v1/maintenance/:id/end',
    { schema: { tags: ['maintenance'], summary: 'End a maintenance window now', params: AlarmParams, response: { 200: MaintenanceWindow, ...errorResponses } }, preValidation: auth, config: { audit: 'maintenance.end' } },
    async (req) => {
      const user = require(req, 'read');
      const all = await ctx.alarms.maintenance({ enterprises: scopeFilter(req, undefined) });
      const window = all.find((w) => w.id === req.params.id);
      if (!window) throw new HazwatchError('HW_ERR_NOT_FOUND', `no maintenance window ${req.params.id}`);
      require(req, 'maintenance.write', window.enterprise);
      req.auditTarget = req.params.id;
      if (window.endedAt !== null) throw new HazwatchError('HW_ERR_CONFLICT', `maintenance window ${window.id} already ended`);
      return ctx.alarms.endMaintenance(window.id, user.username);
    },
  );

  // ---- trend: alarms raised per hour (the wall's bar chart) ----
  const TrendQuery = z
    .object({
      hours: z.coerce.number().int().min(1).max(7 * 24).default(24).describe('How many hourly buckets'),
      from: z.coerce.number().int().min(0).optional().describe('Start of the first bucket (epoch ms), e.g. the viewer\'s local midnight; default: the current hour minus hours-1'),
    })
    .strict();
  const Trend = z.object({
    from: z.number(),
    to: z.number(),
    buckets: z.array(z.object({ at: z.number().describe('start of the hour (epoch ms)'), count: z.number().int(), levels: z.object({ 1: z.number().int(), 2: z.number().int(), 3: z.number().int(), 4: z.number().int() }) })),
  });
  app.get('/api/v1/alarms/trend', { schema: { tags: ['alarms'], summary: 'Alarms raised per hour, by level, within the caller\'s scope', querystring: TrendQuery, response: { 200: Trend, ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'read');
    const HOUR = 3_600_000;
    const hours = req.query.hours;
    const from = req.query.from ?? Math.floor(ctx.now() / HOUR) * HOUR - (hours - 1) * HOUR;
    const to = from + hours * HOUR;
    const buckets = Array.from({ length: hours }, (_, i) => ({ at: from + i * HOUR, count: 0, levels: zero() }));
    const enterprises = scopeFilter(req, undefined);
    // A flood day is a few thousand at most.
    for (const a of await allAlarms(ctx.alarms, { enterprises, from, to }, 100_000)) {
      const b = buckets[Math.floor((a.raisedAt - from) / HOUR)];
      if (!b) continue;
      b.count++;
      b.levels[a.level]++;
    }
    return { from, to, buckets };
  });

  // ---- overview: the one map ----
  app.get('/api/v1/overview', { schema: { tags: ['overview'], summary: 'Enterprises and hazard sources with their worst alarm and counts per level', response: { 200: Overview, ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'read');
    const scope = requestScope(req);
    const alarms = await ctx.alarms.list({ enterprises: scopeFilter(req, undefined), states: ATTENTION_STATES, limit: 1000 });
    const devices = ctx.registry.devices().filter((d) => d.revokedAt === null && inScope(scope, d.enterprise));
    const total = zero();
    const byEnterprise = new Map<string, Counts>();
    const bySource = new Map<string, Counts>();
    let unacknowledged = 0;
    const deviceSource = new Map(devices.map((d) => [`${d.enterprise}/${d.id}`, d.hazardSource]));
    for (const a of alarms) {
      total[a.level]++;
      if (a.state === 'active_unacknowledged' || a.state === 'cleared_unacknowledged') unacknowledged++;
      const e = byEnterprise.get(a.enterprise) ?? zero();
      e[a.level]++;
      byEnterprise.set(a.enterprise, e);
      const source = a.hazardSource ?? deviceSource.get(`${a.enterprise}/${a.device}`) ?? null;
      if (source) {
        const key = `${a.enterprise}/${source}`;
        const s = bySource.get(key) ?? zero();
        s[a.level]++;
        bySource.set(key, s);
      }
    }
    const online = new Map(devices.map((d) => [`${d.enterprise}/${d.id}`, d.revokedAt === null && ctx.latest.presence(d.enterprise, d.id, d).state === 'online']));
    const places = new Map((await ctx.sources.places()).map((p) => [p.enterprise, p]));
    const enterprises = ctx.registry
      .enterprises()
      .filter((e) => inScope(scope, e.id))
      .map((e) => {
        const counts = byEnterprise.get(e.id) ?? zero();
        const own = devices.filter((d) => d.enterprise === e.id);
        const p = places.get(e.id);
        return {
          id: e.id,
          name: e.name,
          place: p ? { x: p.x, y: p.y, width: p.width, height: p.height, address: p.address } : null,
          lat: e.lat ?? null,
          lon: e.lon ?? null,
          worstLevel: worst(counts),
          counts,
          devices: own.length,
          devicesOnline: own.filter((d) => online.get(`${d.enterprise}/${d.id}`)).length,
        };
      });
    const sources = (await ctx.sources.list()).filter((s) => inScope(scope, s.enterprise)).map((s) => {
      const counts = bySource.get(`${s.enterprise}/${s.id}`) ?? zero();
      const own = devices.filter((d) => d.enterprise === s.enterprise && d.hazardSource === s.id);
      const up = own.filter((d) => online.get(`${d.enterprise}/${d.id}`)).length;
      return { ...s, worstLevel: worst(counts), counts, devices: own.length, devicesOnline: up, offline: own.length > 0 && up === 0 };
    });
    return { at: ctx.now(), plan: { width: PLAN_WIDTH, height: PLAN_HEIGHT }, counts: total, unacknowledged, enterprises, sources };
  });
}
