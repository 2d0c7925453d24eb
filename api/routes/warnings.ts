// Warning publication (issue 16) through the API: drafts by hand or from an alarm, approval by a
// second supervisor, publication to every recipient on every channel, updates and the all-clear; each
// warning with its history and the progress of every message (queued, sent, delivered, failed). SMS
// gateways post their delivery reports to /api/v1/dispatch/reports/<channel> with the report token.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AlarmLevel } from '../../contract/alarms.ts';
import { HazwatchError } from '../../contract/errors.ts';
import { DELIVERY_STATES } from '../../core/dispatch/store.ts';
import { WARNING_ACTIONS, WARNING_STATES, WarningDraft, type Warning as WarningRecord } from '../../warnings/model.ts';
import { authenticate, inScope, require, requestScope, scopeFilter } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { errorResponses, EpochMs } from '../schemas.ts';

const Recipient = z.object({ id: z.string(), name: z.string(), phone: z.string().optional(), email: z.string().optional(), audiences: z.array(z.string()) });
const Progress = z.object(Object.fromEntries(DELIVERY_STATES.map((s) => [s, z.number().int()])) as Record<(typeof DELIVERY_STATES)[number], z.ZodNumber>);
export const Warning = WarningDraft.extend({
  id: z.string(),
  state: z.enum(WARNING_STATES),
  revisions: z.number().int().describe('Publications so far: the first, updates, the all-clear'),
  createdBy: z.string(),
  createdAt: EpochMs,
  updatedAt: EpochMs,
  submittedBy: z.string().nullable(),
  approvedBy: z.string().nullable(),
  publishedAt: EpochMs.nullable(),
  clearedAt: EpochMs.nullable(),
  recipients: z.array(Recipient).describe('Who the first publication reached; updates and the all-clear go to them'),
  progress: Progress.describe('Messages by state, every revision'),
  needsApproval: z.boolean(),
}).describe('A warning (预警)');
const Delivery = z.object({
  id: z.number().int(),
  revision: z.number().int(),
  recipient: z.string(),
  recipientName: z.string(),
  channel: z.string(),
  address: z.string(),
  subject: z.string(),
  body: z.string(),
  state: z.enum(DELIVERY_STATES),
  attempts: z.number().int(),
  nextAt: EpochMs,
  lastError: z.string().nullable(),
  receipt: z.string().nullable(),
  createdAt: EpochMs,
  sentAt: EpochMs.nullable(),
  doneAt: EpochMs.nullable(),
});
const HistoryEntry = z.object({ seq: z.number().int(), at: EpochMs, by: z.string(), action: z.enum(WARNING_ACTIONS), note: z.string().nullable(), data: z.record(z.string(), z.unknown()).nullable() });
const WarningDetail = Warning.extend({ history: z.array(HistoryEntry), deliveries: z.array(Delivery) });
const Params = z.object({ id: z.string().max(64) });
const ListQuery = z
  .object({
    state: z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(z.enum(WARNING_STATES))).optional(),
    enterprise: z.string().optional(),
    from: z.coerce.number().int().optional(),
    to: z.coerce.number().int().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
const NewWarning = z
  .object({
    level: AlarmLevel.optional(),
    title: z.string().min(1).max(200).optional(),
    text: z.string().min(1).max(2000).optional(),
    textEn: z.string().max(2000).optional(),
    enterprises: z.array(z.string()).max(500).optional(),
    area: z.string().max(200).optional(),
    audiences: z.array(z.string()).min(1).optional(),
    alarmId: z.string().optional(),
    template: z.string().optional().describe("Template id (GET /api/v1/warnings/catalog); default: the one fitting the alarm's condition"),
  })
  .strict()
  .describe('A draft: by hand (level, title, text, audiences), or from an alarm (alarmId): what is not given is filled from it and its template');
const Note = z.object({ note: z.string().max(1000).optional() }).strict();
const Rejection = z.object({ note: z.string().min(1).max(1000) }).strict();
const Update = z.object({ text: z.string().min(1).max(2000), textEn: z.string().max(2000).optional(), level: AlarmLevel.optional() }).strict();
const Catalog = z.object({
  audiences: z.array(z.object({ id: z.string(), zh: z.string(), en: z.string(), channels: z.array(z.string()), onDuty: z.boolean(), kinds: z.array(z.string()) })),
  channels: z.array(z.object({ name: z.string(), type: z.string() })),
  templates: z.array(z.object({ id: z.string(), zh: z.string(), en: z.string() })),
  approvalLevels: z.array(AlarmLevel),
});

export function warningRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);
  const service = ctx.warnings;

  /** In scope: a warning concerning an enterprise of the scope, or (regulators) one the account drafted itself. */
  const visible = (req: FastifyRequest, w: WarningRecord) => {
    const user = require(req, 'read');
    const scope = requestScope(req);
    return scope.all || w.enterprises.some((e) => scope.enterprises.has(e)) || (user.role !== 'enterprise' && w.createdBy === user.username);
  };
  const load = async (req: FastifyRequest, id: string): Promise<WarningRecord> => {
    const w = await ctx.warningStore.get(id);
    if (!w || !visible(req, w)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no warning ${id}`);
    req.auditTarget = id;
    return w;
  };
  const withProgress = async (ws: WarningRecord[]) => {
    const p = await ctx.outbox.progress('warning', ws.map((w) => w.id));
    return ws.map((w) => ({ ...w, progress: p.get(w.id)!, needsApproval: service.needsApproval(w.level) }));
  };
  /**
   * A warning with its history and messages. An enterprise user sees who was told and how it went, but
   * not the phones and mailboxes of the bureau's and park's people: those are the monitoring room's.
   */
  const detail = async (w: WarningRecord, req: FastifyRequest) => {
    const full = { ...(await withProgress([w]))[0], history: await ctx.warningStore.history(w.id), deliveries: await ctx.outbox.list('warning', w.id) };
    if (req.user?.role !== 'enterprise') return full;
    return {
      ...full,
      recipients: full.recipients.map(({ phone: _p, email: _e, ...r }) => r),
      deliveries: full.deliveries.map((d) => ({ ...d, address: d.address ? '***' : '' })),
    };
  };

  app.get('/api/v1/warnings/catalog', { schema: { tags: ['warnings'], summary: 'Audiences, channels and templates a warning can use', response: { 200: Catalog, ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'read');
    return {
      audiences: service.audiences.map((a) => ({ id: a.id, zh: a.zh, en: a.en, channels: a.channels, onDuty: a.onDuty, kinds: a.kinds })),
      channels: ctx.dispatch.channels.map((c) => ({ name: c.name, type: c.type })),
      templates: Object.entries(service.templates).map(([id, t]) => ({ id, zh: t.zh, en: t.en })),
      approvalLevels: [1, 2, 3, 4].filter((l) => service.needsApproval(l)) as (1 | 2 | 3 | 4)[],
    };
  });

  app.get('/api/v1/warnings', { schema: { tags: ['warnings'], summary: 'Warnings, newest first', querystring: ListQuery, response: { 200: z.array(Warning), ...errorResponses } }, preValidation: auth }, async (req) => {
    const user = require(req, 'read');
    const only = scopeFilter(req, req.query.enterprise);
    const enterprise = req.query.enterprise || undefined;
    const concerning = !enterprise && only ? { enterprises: only, orCreatedBy: user.role === 'enterprise' ? undefined : user.username } : undefined;
    return withProgress(await ctx.warningStore.list({ states: req.query.state, enterprise, concerning, from: req.query.from, to: req.query.to, limit: req.query.limit, offset: req.query.offset }));
  });

  app.get('/api/v1/warnings/:id', { schema: { tags: ['warnings'], summary: 'A warning with its history and every message', params: Params, response: { 200: WarningDetail, ...errorResponses } }, preValidation: auth }, async (req) =>
    detail(await load(req, req.params.id), req),
  );

  app.post(
    '/api/v1/warnings',
    { schema: { tags: ['warnings'], summary: 'Draft a warning (by hand or from an alarm)', body: NewWarning, response: { 201: WarningDetail, ...errorResponses } }, preValidation: auth, config: { audit: 'warning.draft' } },
    async (req, reply) => {
      const user = require(req, 'warning.draft');
      const { template, ...given } = req.body;
      let base: WarningDraft;
      if (given.alarmId) {
        const alarm = await ctx.alarms.get(given.alarmId);
        if (!alarm || !inScope(req, alarm.enterprise)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no alarm ${given.alarmId}`, { field: 'body.alarmId' });
        base = service.draftFromAlarm(alarm, ctx.registry.enterprise(alarm.enterprise)?.name ?? alarm.enterprise, template);
      } else {
        if (!given.level) throw new HazwatchError('HW_ERR_VALIDATION', 'body.level: a warning by hand needs its level (1 red … 4 blue)', { field: 'body.level' });
        base = { ...service.manualTexts(given.level, template), level: given.level, enterprises: [], area: '', audiences: [], alarmId: null };
      }
      const draft = WarningDraft.parse({ ...base, ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)) });
      for (const e of draft.enterprises) if (!ctx.registry.enterprise(e)) throw new HazwatchError('HW_ERR_VALIDATION', `body.enterprises: no enterprise ${e}`, { field: 'body.enterprises' });
      for (const e of draft.enterprises) if (!inScope(req, e)) throw new HazwatchError('HW_ERR_FORBIDDEN', `body.enterprises: account ${user.username} may not access enterprise ${e}`, { field: 'body.enterprises' });
      const w = await service.create(draft, user.username);
      req.auditTarget = w.id;
      reply.code(201);
      return detail(w, req);
    },
  );

  app.put(
    '/api/v1/warnings/:id',
    { schema: { tags: ['warnings'], summary: 'Change a draft (or a rejected warning)', params: Params, body: WarningDraft, response: { 200: WarningDetail, ...errorResponses } }, preValidation: auth, config: { audit: 'warning.edit' } },
    async (req) => {
      const user = require(req, 'warning.draft');
      await load(req, req.params.id);
      for (const e of req.body.enterprises) if (!inScope(req, e)) throw new HazwatchError('HW_ERR_FORBIDDEN', `body.enterprises: account ${user.username} may not access enterprise ${e}`, { field: 'body.enterprises' });
      return detail(await service.edit(req.params.id, req.body, user.username), req);
    },
  );

  const action = (path: string, summary: string, audit: string, permission: 'warning.draft' | 'warning.approve', body: z.ZodTypeAny, run: (id: string, by: string, body: any) => Promise<WarningRecord>) =>
    app.post(`/api/v1/warnings/:id/${path}`, { schema: { tags: ['warnings'], summary, params: Params, body, response: { 200: WarningDetail, ...errorResponses } }, preValidation: auth, config: { audit } }, async (req) => {
      const user = require(req, permission);
      await load(req, req.params.id);
      return detail(await run(req.params.id, user.username, req.body ?? {}), req);
    });

  action('submit', 'Submit a draft: published at once, or waiting for approval when its level needs it', 'warning.submit', 'warning.draft', Note.optional(), (id, by) => service.submit(id, by));
  action('approve', 'Approve and publish (another supervisor than who drafted or submitted it)', 'warning.approve', 'warning.approve', Note.optional(), (id, by, b) => service.approve(id, by, b.note ?? null));
  action('reject', 'Send a warning back to its author with the reason', 'warning.reject', 'warning.approve', Rejection, (id, by, b) => service.reject(id, by, b.note));
  action('withdraw', 'Withdraw a warning that was never published', 'warning.withdraw', 'warning.draft', Note.optional(), (id, by, b) => service.withdraw(id, by, b.note ?? null));
  action('update', 'Publish an update to the same recipients', 'warning.update', 'warning.approve', Update, (id, by, b) => service.update(id, by, b));
  action('all-clear', 'Lift the warning (解除): the last message, to the same recipients', 'warning.all_clear', 'warning.approve', Note.optional(), (id, by, b) => service.allClear(id, by, b.note ?? ''));

  app.post(
    '/api/v1/dispatch/reports/:channel',
    {
      schema: { tags: ['warnings'], summary: "An SMS gateway's delivery reports (its own format; Bearer dispatch.reportToken)", params: z.object({ channel: z.string() }), body: z.unknown() },
    },
    async (req, reply) => {
      const token = ctx.dispatch.reportToken;
      const given = String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!token || given.length !== token.length || !timingSafeEqual(Buffer.from(given), Buffer.from(token))) throw new HazwatchError('HW_ERR_UNAUTHENTICATED', 'delivery reports need the Bearer dispatch.reportToken');
      const r = await ctx.dispatcher.report(req.params.channel, req.body);
      if (!r) throw new HazwatchError('HW_ERR_NOT_FOUND', `no SMS channel ${req.params.channel}`);
      reply.code(200);
      return r.answer;
    },
  );
}
