// Hidden dangers (隐患, issue 16): opened from an alarm, an inspection or by hand; rectified by a
// deadline with evidence (photos, PDFs) stored in the database so that every API node serves them;
// rechecked by another account (回头看) and closed (闭环). Enterprise users open, prove and mark
// rectified their own enterprise's dangers only (404 for the others'); supervisors and administrators
// recheck, close and move deadlines. Every change is audited; overdue ones escalate (dangers/escalation.ts).
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ALARM_CONDITIONS } from '../../contract/alarms.ts';
import { HazwatchError } from '../../contract/errors.ts';
import { evidenceName, sha256, sniffEvidence } from '../../dangers/evidence.ts';
import { DANGER_ACTIONS, DANGER_GRADES, DANGER_ORIGINS, DANGER_STATES, DangerInput, EVIDENCE_TYPES, type Danger as DangerRecord } from '../../dangers/model.ts';
import type { NewDanger } from '../../dangers/store.ts';
import { authenticate, require, scopeFilter, type Permission } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { ApiError, EpochMs, errorResponses, timeParam } from '../schemas.ts';
import { alarmPosition } from './resources.ts';

const Position = z
  .object({ lat: z.number(), lon: z.number(), from: z.enum(['device', 'hazardSource', 'enterprise']).describe('Whose coordinates') })
  .nullable()
  .describe("Where it is on the map: its device's, hazard source's or enterprise's coordinates; null: none known");

export const Danger = z
  .object({
    id: z.string(),
    enterprise: z.string(),
    hazardSource: z.string().nullable(),
    device: z.string().nullable(),
    alarmId: z.string().nullable().describe('The alarm it was opened from'),
    origin: z.enum(DANGER_ORIGINS),
    title: z.string(),
    description: z.string(),
    grade: z.enum(DANGER_GRADES).describe('general (一般隐患) or major (重大隐患)'),
    responsible: z.object({ name: z.string(), phone: z.string() }),
    deadline: EpochMs.describe('Rectify by'),
    state: z.enum(DANGER_STATES).describe('open (rectifying), rectified (waiting for the recheck), rechecked (passed, waiting to be closed), closed'),
    createdBy: z.string(),
    createdAt: EpochMs,
    updatedAt: EpochMs,
    rectifiedBy: z.string().nullable(),
    rectifiedAt: EpochMs.nullable(),
    closedBy: z.string().nullable(),
    closedAt: EpochMs.nullable(),
    escalatedTier: z.number().int().describe('Escalation tiers reached under the current deadline: 0 none, 1 the enterprise\'s leader on duty, 2 the bureau\'s duty'),
    nextEscalationAt: EpochMs.nullable(),
    overdue: z.boolean().describe('Open past its deadline'),
    evidenceCount: z.number().int(),
    position: Position,
  })
  .describe('A hidden danger');
export const DangerHistoryEntry = z.object({
  dangerId: z.string(),
  seq: z.number().int(),
  at: EpochMs,
  action: z.enum(DANGER_ACTIONS),
  by: z.string().describe('User name, or system (escalation)'),
  state: z.enum(DANGER_STATES).describe('State after the change'),
  note: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable().describe('deadline and previousDeadline; tier; the evidence added'),
});
export const Evidence = z.object({
  id: z.number().int(),
  dangerId: z.string(),
  name: z.string(),
  contentType: z.enum(EVIDENCE_TYPES).describe('As its content shows, not as the client said'),
  size: z.number().int().describe('Bytes'),
  sha256: z.string().describe('Hex SHA-256 of the file'),
  by: z.string(),
  at: EpochMs,
  url: z.string().describe('Where to download it (same session)'),
});
const DangerList = z.object({ total: z.number().int(), dangers: z.array(Danger) });
const DangerDetail = z.object({ danger: Danger, history: z.array(DangerHistoryEntry), evidence: z.array(Evidence) });
const DangerChange = z.object({ danger: Danger, change: DangerHistoryEntry });
const EvidenceAdded = DangerChange.extend({ evidence: Evidence });

const DangerParams = z.object({ id: z.string().min(1).max(100) });
const EvidenceParams = DangerParams.extend({ evidenceId: z.coerce.number().int().min(1) });
const csv = <T extends z.ZodType>(item: T) => z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(item)).optional();
export const DangerQuery = z
  .object({
    state: csv(z.enum(DANGER_STATES)).describe('Comma-separated states'),
    enterprise: z.string().min(1).max(64).optional(),
    grade: z.enum(DANGER_GRADES).optional(),
    overdue: z.enum(['true', 'false']).optional().describe('true: only open ones past their deadline'),
    from: timeParam.optional().describe('createdAt ≥ from (epoch ms or ISO 8601)'),
    to: timeParam.optional().describe('createdAt < to'),
    limit: z.coerce.number().int().min(1).max(500).default(50),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
const Note = z.string().trim().max(2000).optional();
const RectifyInput = z.object({ note: Note }).strict();
const RecheckInput = z
  .object({
    result: z.enum(['pass', 'fail']),
    note: Note,
    deadline: z.number().int().optional().describe('With fail: the new deadline (epoch ms, in the future)'),
  })
  .strict();
const CloseInput = z.object({ note: Note }).strict();
const DeadlineInput = z.object({ deadline: z.number().int().describe('The new deadline, epoch ms, in the future'), reason: z.string().trim().min(1, 'say why').max(2000) }).strict();

const UPLOAD_DESCRIPTION =
  'Send the file itself as the body (JPEG, PNG, WebP or PDF; any Content-Type: what it is is judged by its first bytes) with its name in `?name=`. At most `dangers.evidenceMaxBytes` (default 10 MB): larger is 413 `HW_ERR_EVIDENCE_TOO_LARGE`, another kind of file 415 `HW_ERR_EVIDENCE_TYPE`. Kept in the database with its SHA-256.';

export function dangerRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);

  const withPosition = async (d: DangerRecord) => ({ ...d, position: await alarmPosition(ctx, d.enterprise, d.device ?? '', d.hazardSource) });
  const evidenceUrl = (dangerId: string, id: number) => `/api/v1/dangers/${encodeURIComponent(dangerId)}/evidence/${id}`;

  /** The danger, if the user may see it (another enterprise's is "not found"), and the permission for it. */
  const loadDanger = async (req: FastifyRequest, id: string, permission: Permission): Promise<DangerRecord> => {
    const danger = await ctx.dangers.get(id);
    if (!danger) throw new HazwatchError('HW_ERR_NOT_FOUND', `no hidden danger ${id}`);
    require(req, 'read', danger.enterprise, { hide: true });
    req.auditTarget = id;
    require(req, permission, danger.enterprise);
    return danger;
  };
  const changed = async (r: { danger: DangerRecord; change: z.infer<typeof DangerHistoryEntry> }) => ({ danger: await withPosition(r.danger), change: r.change });

  app.get(
    '/api/v1/dangers',
    { schema: { tags: ['dangers'], summary: 'Hidden dangers in scope, newest first, with the total', querystring: DangerQuery, response: { 200: DangerList, ...errorResponses } }, preValidation: auth },
    async (req) => {
      require(req, 'read');
      const q = req.query;
      const filter = {
        enterprises: scopeFilter(req, q.enterprise),
        states: q.state,
        grade: q.grade,
        overdue: q.overdue === undefined ? undefined : q.overdue === 'true',
        from: q.from,
        to: q.to,
      };
      const [list, total] = await Promise.all([ctx.dangers.list({ ...filter, limit: q.limit, offset: q.offset }), ctx.dangers.count(filter)]);
      return { total, dangers: await Promise.all(list.map(withPosition)) };
    },
  );

  app.get(
    '/api/v1/dangers/:id',
    { schema: { tags: ['dangers'], summary: 'One hidden danger with its history and its evidence', params: DangerParams, response: { 200: DangerDetail, ...errorResponses } }, preValidation: auth },
    async (req) => {
      const danger = await loadDanger(req, req.params.id, 'read');
      const [history, evidence] = await Promise.all([ctx.dangers.history(danger.id), ctx.dangers.evidence(danger.id)]);
      return { danger: await withPosition(danger), history, evidence: evidence.map((e) => ({ ...e, url: evidenceUrl(danger.id, e.id) })) };
    },
  );

  app.post(
    '/api/v1/dangers',
    {
      schema: {
        tags: ['dangers'],
        summary: 'Open a hidden danger (from an alarm with alarmId: what is left out comes from the alarm)',
        body: DangerInput,
        response: { 201: DangerChange, ...errorResponses },
      },
      preValidation: auth,
      config: { audit: 'danger.open' },
    },
    async (req, reply) => {
      const user = require(req, 'danger.write');
      const b = req.body;
      const alarm = b.alarmId ? await ctx.alarms.get(b.alarmId) : undefined;
      if (b.alarmId) {
        if (!alarm) throw new HazwatchError('HW_ERR_NOT_FOUND', `no alarm ${b.alarmId}`, { field: 'body.alarmId' });
        require(req, 'read', alarm.enterprise, { hide: true });
        if (b.enterprise && b.enterprise !== alarm.enterprise) throw new HazwatchError('HW_ERR_VALIDATION', `body.enterprise: alarm ${alarm.id} is of enterprise ${alarm.enterprise}`, { field: 'body.enterprise' });
      }
      const enterprise = alarm?.enterprise ?? b.enterprise ?? (user.role === 'enterprise' ? user.enterprise! : undefined);
      if (!enterprise) throw new HazwatchError('HW_ERR_VALIDATION', 'body.enterprise: say which enterprise the hidden danger is in', { field: 'body.enterprise' });
      require(req, 'danger.write', enterprise);
      if (!ctx.registry.enterprise(enterprise)) throw new HazwatchError('HW_ERR_VALIDATION', `body.enterprise: no enterprise ${enterprise} is registered`, { field: 'body.enterprise' });
      const device = b.device !== undefined ? b.device : alarm && alarm.enterprise !== 'platform' ? alarm.device : null;
      if (device && !ctx.registry.device(enterprise, device)) throw new HazwatchError('HW_ERR_VALIDATION', `body.device: no device ${enterprise}/${device}`, { field: 'body.device' });
      const hazardSource = b.hazardSource !== undefined ? b.hazardSource : (alarm?.hazardSource ?? (device ? (ctx.registry.device(enterprise, device)?.hazardSource ?? null) : null));
      if (hazardSource && !(await ctx.sources.get(enterprise, hazardSource))) throw new HazwatchError('HW_ERR_VALIDATION', `body.hazardSource: no hazard source ${enterprise}/${hazardSource}`, { field: 'body.hazardSource' });
      const title = b.title ?? (alarm ? `${ALARM_CONDITIONS[alarm.condition]?.zh ?? alarm.condition} · ${alarm.device}` : undefined);
      if (!title) throw new HazwatchError('HW_ERR_VALIDATION', 'body.title: say what the hidden danger is', { field: 'body.title' });
      if (b.deadline <= ctx.now()) throw new HazwatchError('HW_ERR_VALIDATION', 'body.deadline: the deadline must lie in the future', { field: 'body.deadline' });
      const input: NewDanger = {
        enterprise,
        hazardSource,
        device,
        alarmId: alarm?.id ?? null,
        origin: b.origin ?? (alarm ? 'alarm' : 'manual'),
        title,
        description: b.description ?? (alarm ? (alarm.messageZh ?? alarm.message) : ''),
        grade: b.grade,
        responsible: b.responsible,
        deadline: b.deadline,
      };
      const r = await ctx.dangers.create(input, user.username);
      req.auditTarget = r.danger.id;
      reply.code(201);
      return changed(r);
    },
  );

  // ---- evidence: the file is the body; authenticated and checked before a byte of it is read ----
  void root.register(async (scope) => {
    const limit = ctx.dangersConfig.evidenceMaxBytes;
    // The file out of sight of the audit log (which records a write's body): it records name, type, size and hash instead.
    // Whatever the client calls it (text/plain, application/json included): the bytes decide what it is.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: limit }, (_req, body: Buffer, done) =>
      done(null, Object.defineProperty({ bytes: body.length }, 'file', { value: body, enumerable: false })),
    );
    scope.setErrorHandler((err: FastifyError, _req, reply: FastifyReply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') throw new HazwatchError('HW_ERR_EVIDENCE_TOO_LARGE', `evidence files are at most ${limit} bytes (dangers.evidenceMaxBytes)`);
      if (err.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' || err.code === 'FST_ERR_CTP_INVALID_JSON_BODY') throw new HazwatchError('HW_ERR_EVIDENCE_TYPE', 'send the file itself as the body');
      void reply;
      throw err;
    });
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/dangers/:id/evidence',
      {
        schema: {
          tags: ['dangers'],
          summary: 'Add a photo or a file proving the rectification',
          description: UPLOAD_DESCRIPTION,
          params: DangerParams,
          querystring: z.object({ name: z.string().max(200).optional().describe('The file name to keep') }).strict(),
          response: { 201: EvidenceAdded, ...errorResponses, 413: ApiError, 415: ApiError },
        },
        onRequest: [auth, async (req) => void (await loadDanger(req, (req.params as { id: string }).id, 'danger.write'))],
        config: { audit: 'danger.evidence' },
      },
      async (req, reply) => {
        const user = require(req, 'danger.write');
        const bytes = (req.body as { file?: unknown } | undefined)?.file;
        if (!Buffer.isBuffer(bytes) || bytes.length === 0) throw new HazwatchError('HW_ERR_EVIDENCE_TYPE', 'send the file itself as the body (JPEG, PNG, WebP or PDF)');
        const type = sniffEvidence(bytes);
        if (!type) throw new HazwatchError('HW_ERR_EVIDENCE_TYPE', `the file is not a JPEG, PNG, WebP or PDF${req.query.name ? ` (${req.query.name})` : ''}, whatever its name or Content-Type say`);
        const file = { name: evidenceName(req.query.name, type, ctx.now()), contentType: type, bytes, sha256: sha256(bytes) };
        req.auditDetail = { name: file.name, contentType: type, size: bytes.length, sha256: file.sha256 };
        const r = await ctx.dangers.addEvidence(req.params.id, file, user.username);
        reply.code(201);
        return { ...(await changed(r)), evidence: { ...r.evidence, url: evidenceUrl(r.danger.id, r.evidence.id) } };
      },
    );
  });

  app.get(
    '/api/v1/dangers/:id/evidence/:evidenceId',
    {
      schema: {
        tags: ['dangers'],
        summary: 'Download an evidence file, with the content type it was judged to have',
        params: EvidenceParams,
      },
      preValidation: auth,
    },
    async (req, reply) => {
      const danger = await loadDanger(req, req.params.id, 'read');
      const found = await ctx.dangers.evidenceFile(danger.id, req.params.evidenceId);
      if (!found) throw new HazwatchError('HW_ERR_NOT_FOUND', `hidden danger ${danger.id} has no evidence ${req.params.evidenceId}`);
      const { evidence, bytes } = found;
      return reply
        .type(evidence.contentType)
        .header('content-disposition', `inline; filename*=UTF-8''${encodeURIComponent(evidence.name)}`)
        .header('x-content-type-options', 'nosniff')
        .header('cache-control', 'private, max-age=3600')
        .header('etag', `"${evidence.sha256}"`)
        .send(bytes);
    },
  );

  app.post(
    '/api/v1/dangers/:id/rectify',
    {
      schema: { tags: ['dangers'], summary: 'Mark rectified: needs evidence added since it was opened or last failed its recheck', params: DangerParams, body: RectifyInput, response: { 200: DangerChange, ...errorResponses } },
      preValidation: auth,
      config: { audit: 'danger.rectify' },
    },
    async (req) => {
      await loadDanger(req, req.params.id, 'danger.write');
      return changed(await ctx.dangers.rectify(req.params.id, req.user!.username, req.body.note));
    },
  );

  app.post(
    '/api/v1/dangers/:id/recheck',
    {
      schema: {
        tags: ['dangers'],
        summary: 'Recheck (回头看) by another account than the one that marked it rectified: pass, or fail with a new deadline',
        params: DangerParams,
        body: RecheckInput,
        response: { 200: DangerChange, ...errorResponses },
      },
      preValidation: auth,
      config: { audit: 'danger.recheck' },
    },
    async (req) => {
      await loadDanger(req, req.params.id, 'danger.recheck');
      const b = req.body;
      return changed(await ctx.dangers.recheck(req.params.id, req.user!.username, { passed: b.result === 'pass', note: b.note, deadline: b.deadline }));
    },
  );

  app.post(
    '/api/v1/dangers/:id/close',
    { schema: { tags: ['dangers'], summary: 'Close (闭环) once the recheck passed', params: DangerParams, body: CloseInput, response: { 200: DangerChange, ...errorResponses } }, preValidation: auth, config: { audit: 'danger.close' } },
    async (req) => {
      await loadDanger(req, req.params.id, 'danger.recheck');
      return changed(await ctx.dangers.closeDanger(req.params.id, req.user!.username, req.body.note));
    },
  );

  app.post(
    '/api/v1/dangers/:id/deadline',
    {
      schema: { tags: ['dangers'], summary: 'A new deadline for an open hidden danger (its escalation starts over)', params: DangerParams, body: DeadlineInput, response: { 200: DangerChange, ...errorResponses } },
      preValidation: auth,
      config: { audit: 'danger.deadline' },
    },
    async (req) => {
      await loadDanger(req, req.params.id, 'danger.recheck');
      return changed(await ctx.dangers.changeDeadline(req.params.id, req.user!.username, req.body.deadline, req.body.reason));
    },
  );
}
