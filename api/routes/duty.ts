// The duty roster (值班, issue 16): units, their duty directory, shifts (one by one or a repeating
// week), who is on duty now with the escalation chain, and the shift handover (交接班): the outgoing
// officer lists what is open and signs, another account signs in, and the record is kept.
// Supervisors and administrators keep every unit; an enterprise user keeps only its enterprise's unit
// and sees nothing else of the roster (another unit's id is "not found").
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HazwatchError } from '../../contract/errors.ts';
import {
  PERSON_KIND_IDS,
  PERSON_KINDS,
  PersonInput,
  ShiftInput,
  UNIT_KINDS,
  UnitInput,
  WeekPattern,
  type OnDuty as OnDutyRecord,
  type PersonKind,
  type Unit as UnitRecord,
} from '../../registry/roster.ts';
import type { User } from '../accounts.ts';
import { authenticate, require, requestScope, scopeFilter, type Permission, type Scope } from '../auth.ts';
import type { ApiContext, OpenItem as OpenItemRecord, OpenWorkSource } from '../context.ts';
import { EpochMs, errorResponses, Id, Ok, timeParam } from '../schemas.ts';

const Stamps = { createdAt: EpochMs, updatedAt: EpochMs };
export const Unit = UnitInput.extend(Stamps).describe('A unit keeping a duty: bureau, park, department or enterprise');
export const Person = PersonInput.extend(Stamps).describe('A person of a unit’s duty directory (not a console account)');
export const Shift = ShiftInput.extend({ id: z.number().int(), ...Stamps }).describe('A shift of a unit: officers on duty and the leader on call');
const Tier = z.object({
  tier: z.number().int().describe('0: call first'),
  unit: Unit,
  role: z.enum(['officers', 'leader']),
  shift: Shift,
  people: z.array(Person),
});
export const OnDuty = z.object({
  asked: z.string().describe('The unit asked about'),
  unit: Unit.describe('The unit whose shift answers: the one asked, or the nearest parent with somebody on duty'),
  fallback: z.boolean().describe('True when a parent unit answers because the unit asked has nobody on duty'),
  shift: Shift.nullable(),
  officers: z.array(Person),
  leader: Person.nullable(),
  chain: z.array(Tier).describe("Whom to call in order: the unit's officers, its leader, its parent's officers, its parent's leader ... (units with nobody on duty add no tier)"),
});
export const OpenItem = z.object({
  kind: z.enum(['alarm', 'warning', 'danger']),
  id: z.string(),
  title: z.string(),
  enterprise: z.string(),
  level: z.number().int().optional(),
  since: EpochMs,
  overdue: z.boolean().optional().describe('An alarm nobody signed for yet; a hidden danger past its deadline'),
  link: z.string().describe('Where the console shows it (a #/ route)'),
});
const Signature = z.object({ username: z.string(), name: z.string(), person: z.string().nullable().describe('The duty directory’s person with this account in the unit'), at: EpochMs, note: z.string() });
export const Handover = z.object({
  id: z.number().int(),
  unit: z.string(),
  shift: z.number().int().nullable().describe('The shift on duty when the outgoing officer signed'),
  items: z.array(OpenItem).describe('What was open when the outgoing officer signed'),
  incomplete: z.boolean().describe('A source of open work failed while the list was collected'),
  digest: z.string().describe('SHA-256 of what the outgoing officer signed; the incoming signs the same'),
  outgoing: Signature,
  incoming: Signature.nullable(),
  state: z.enum(['awaiting_incoming', 'signed']),
});

const UnitParams = z.object({ id: Id });
const NumParams = z.object({ id: z.coerce.number().int().min(1) });
const kindList = z
  .preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(z.enum(PERSON_KIND_IDS)))
  .optional()
  .describe(`Comma-separated kinds: ${PERSON_KIND_IDS.join(', ')}`);

/** Store refusals name the field of what was given; the API names it in the request's terms. */
async function inBody<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HazwatchError && typeof err.detail?.field === 'string' && !err.detail.field.startsWith('body.')) {
      throw new HazwatchError(err.code, `body.${err.detail.field}: ${err.message}`, { ...err.detail, field: `body.${err.detail.field}` });
    }
    throw err;
  }
}

/** Every source's open items in a scope; a failing source leaves the list incomplete, and says so. */
export async function collectOpenWork(sources: OpenWorkSource[], scope: { enterprise?: string }, log?: ApiContext['log']): Promise<{ items: OpenItemRecord[]; incomplete: boolean }> {
  const results = await Promise.allSettled(sources.map((s) => s(scope)));
  let incomplete = false;
  const items: OpenItemRecord[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') items.push(...r.value);
    else {
      incomplete = true;
      log?.warn({ err: r.reason }, 'a source of open work failed: the handover lists what the others gave');
    }
  }
  // What needs a hand first: overdue, then the most severe, then the oldest.
  items.sort((a, b) => Number(!!b.overdue) - Number(!!a.overdue) || (a.level ?? 9) - (b.level ?? 9) || a.since - b.since);
  return { items, incomplete };
}

/** The open work of a unit: an enterprise unit's enterprise, everything for a regulator unit. */
const scopeOf = (unit: UnitRecord): { enterprise?: string } => (unit.enterprise ? { enterprise: unit.enterprise } : {});

export function dutyRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);
  const roster = ctx.roster;
  const tags = ['duty'];

  /**
   * Whether a unit is in the scope: every unit for a platform-wide account; for an account with a scope
   * (an enterprise user, a jurisdiction) the units of its enterprises. Regulator units are not mapped to
   * jurisdiction nodes yet, so they stay with platform-wide accounts (docs/jurisdictions.md).
   */
  const visible = (scope: Scope, unit: UnitRecord) => scope.all || (unit.enterprise !== null && scope.enterprises.has(unit.enterprise));

  /** The unit, if the user may see it (and holds the permission); another's is "not found". */
  const loadUnit = async (req: FastifyRequest, id: string, permission: Permission = 'read'): Promise<{ user: User; unit: UnitRecord }> => {
    const user = require(req, permission);
    const unit = await roster.unit(id);
    if (!unit || !visible(requestScope(req), unit)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no unit ${id}`);
    if (unit.enterprise) req.auditEnterprise = unit.enterprise;
    return { user, unit };
  };

  /** The units an account sees (403 when it names an enterprise outside its scope). */
  const unitsOf = async (req: FastifyRequest, enterprise?: string): Promise<UnitRecord[]> => {
    const only = scopeFilter(req, enterprise);
    const units = await roster.units(only?.length === 1 ? { enterprise: only[0] } : {});
    return only ? units.filter((u) => u.enterprise !== null && only.includes(u.enterprise)) : units;
  };
  /** The unit ids a list is limited to; undefined: every unit. */
  const unitIdsOf = async (req: FastifyRequest): Promise<string[] | undefined> => (requestScope(req).all ? undefined : (await unitsOf(req)).map((u) => u.id));

  /** A unit as given in a body: an enterprise user writes only its own enterprise's unit. */
  const checkUnitBody = (req: FastifyRequest, user: User, body: UnitInput) => {
    if (body.enterprise) req.auditEnterprise = body.enterprise;
    const scope = requestScope(req);
    if (!scope.all && (body.kind !== 'enterprise' || !body.enterprise || !scope.enterprises.has(body.enterprise))) {
      throw new HazwatchError('HW_ERR_FORBIDDEN', `account ${user.username} keeps only the units of the enterprises in its scope`, { field: 'body.enterprise' });
    }
  };

  /** Who is on duty, as the user may see it: an enterprise user is shown no regulator's people. */
  const onDutyFor = async (scope: Scope, unit: UnitRecord, at: number) => {
    const [duty, chain] = await Promise.all([roster.onDuty(unit.id, at), roster.dutyChain(unit.id, at)]);
    const shown: OnDutyRecord = visible(scope, duty.unit) ? duty : { asked: unit.id, unit, fallback: false, shift: null, officers: [], leader: null };
    return { ...shown, chain: chain.filter((t) => visible(scope, t.unit)) };
  };

  app.get('/api/v1/duty/catalog', { schema: { tags, summary: 'Unit kinds and person kinds with their Chinese and English names', response: { 200: z.object({ unitKinds: z.record(z.string(), z.object({ zh: z.string(), en: z.string() })), personKinds: z.record(z.string(), z.object({ zh: z.string(), en: z.string() })) }) } }, preValidation: auth }, async (req) => {
    require(req, 'read');
    return { unitKinds: UNIT_KINDS, personKinds: PERSON_KINDS };
  });

  // ---- units ----
  app.get(
    '/api/v1/duty/units',
    { schema: { tags, summary: 'Units in scope (an enterprise user: its own enterprise’s)', querystring: z.object({ enterprise: Id.optional() }).strict(), response: { 200: z.array(Unit), ...errorResponses } }, preValidation: auth },
    async (req) => (require(req, 'read'), unitsOf(req, req.query.enterprise)),
  );

  app.get('/api/v1/duty/units/:id', { schema: { tags, summary: 'One unit', params: UnitParams, response: { 200: Unit, ...errorResponses } }, preValidation: auth }, async (req) => (await loadUnit(req, req.params.id)).unit);

  app.post(
    '/api/v1/duty/units',
    { schema: { tags, summary: 'Create a unit', body: UnitInput, response: { 201: Unit, ...errorResponses } }, preValidation: auth, config: { audit: 'duty.unit.create' } },
    async (req, reply) => {
      const user = require(req, 'duty.write');
      req.auditTarget = req.body.id;
      checkUnitBody(req, user, req.body);
      if (await roster.unit(req.body.id)) throw new HazwatchError('HW_ERR_CONFLICT', `unit ${req.body.id} already exists; PUT /api/v1/duty/units/${req.body.id} replaces it`, { field: 'body.id' });
      reply.code(201);
      return (await inBody(() => roster.putUnit(req.body))).unit;
    },
  );

  app.put(
    '/api/v1/duty/units/:id',
    { schema: { tags, summary: 'Create or replace a unit', params: UnitParams, body: UnitInput.omit({ id: true }), response: { 200: Unit, 201: Unit, ...errorResponses } }, preValidation: auth, config: { audit: 'duty.unit.update' } },
    async (req, reply) => {
      const user = require(req, 'duty.write');
      req.auditTarget = req.params.id;
      const input = { ...req.body, id: req.params.id };
      checkUnitBody(req, user, input);
      const existing = await roster.unit(req.params.id);
      if (existing && !visible(requestScope(req), existing)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no unit ${req.params.id}`);
      const { unit, created } = await inBody(() => roster.putUnit(input));
      reply.code(created ? 201 : 200);
      return unit;
    },
  );

  app.delete('/api/v1/duty/units/:id', { schema: { tags, summary: 'Remove a unit nothing refers to', params: UnitParams, response: { 200: Ok, ...errorResponses } }, preValidation: auth, config: { audit: 'duty.unit.delete' } }, async (req) => {
    req.auditTarget = req.params.id;
    await loadUnit(req, req.params.id, 'duty.write');
    await roster.removeUnit(req.params.id);
    return { ok: true as const };
  });

  // ---- people ----
  app.get(
    '/api/v1/duty/people',
    {
      schema: { tags, summary: 'The duty directory in scope, by unit and kind', querystring: z.object({ unit: Id.optional(), kind: kindList }).strict(), response: { 200: z.array(Person), ...errorResponses } },
      preValidation: auth,
    },
    async (req) => {
      require(req, 'read');
      const units = req.query.unit !== undefined ? [(await loadUnit(req, req.query.unit)).unit.id] : await unitIdsOf(req);
      return roster.people({ units, kinds: req.query.kind as PersonKind[] | undefined });
    },
  );

  const loadPerson = async (req: FastifyRequest, id: string, permission: Permission = 'read') => {
    require(req, permission);
    const person = await roster.person(id);
    const unit = person ? await roster.unit(person.unit) : undefined;
    if (!person || !unit || !visible(requestScope(req), unit)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no person ${id}`);
    if (unit.enterprise) req.auditEnterprise = unit.enterprise;
    return person;
  };

  app.get('/api/v1/duty/people/:id', { schema: { tags, summary: 'One person of the duty directory', params: UnitParams, response: { 200: Person, ...errorResponses } }, preValidation: auth }, async (req) => loadPerson(req, req.params.id));

  app.post(
    '/api/v1/duty/people',
    { schema: { tags, summary: 'Add a person to a unit’s duty directory', body: PersonInput, response: { 201: Person, ...errorResponses } }, preValidation: auth, config: { audit: 'duty.person.create' } },
    async (req, reply) => {
      req.auditTarget = req.body.id;
      await loadUnit(req, req.body.unit, 'duty.write');
      if (await roster.person(req.body.id)) throw new HazwatchError('HW_ERR_CONFLICT', `person ${req.body.id} already exists; PUT /api/v1/duty/people/${req.body.id} replaces them`, { field: 'body.id' });
      reply.code(201);
      return (await inBody(() => roster.putPerson(req.body))).person;
    },
  );

  app.put(
    '/api/v1/duty/people/:id',
    { schema: { tags, summary: 'Create or replace a person of the duty directory', params: UnitParams, body: PersonInput.omit({ id: true }), response: { 200: Person, 201: Person, ...errorResponses } }, preValidation: auth, config: { audit: 'duty.person.update' } },
    async (req, reply) => {
      req.auditTarget = req.params.id;
      if (await roster.person(req.params.id)) await loadPerson(req, req.params.id, 'duty.write');
      await loadUnit(req, req.body.unit, 'duty.write');
      const { person, created } = await inBody(() => roster.putPerson({ ...req.body, id: req.params.id }));
      reply.code(created ? 201 : 200);
      return person;
    },
  );

  app.delete('/api/v1/duty/people/:id', { schema: { tags, summary: 'Remove a person no current or future shift names', params: UnitParams, response: { 200: Ok, ...errorResponses } }, preValidation: auth, config: { audit: 'duty.person.delete' } }, async (req) => {
    req.auditTarget = req.params.id;
    await loadPerson(req, req.params.id, 'duty.write');
    await roster.removePerson(req.params.id);
    return { ok: true as const };
  });

  // ---- shifts ----
  app.get(
    '/api/v1/duty/shifts',
    {
      schema: {
        tags,
        summary: 'Shifts in scope running between from and to (default: the next 7 days)',
        querystring: z.object({ unit: Id.optional(), from: timeParam.optional().describe('Shifts ending after (epoch ms or ISO 8601; default now)'), to: timeParam.optional().describe('Shifts starting before (default from + 7 days)') }).strict(),
        response: { 200: z.array(Shift), ...errorResponses },
      },
      preValidation: auth,
    },
    async (req) => {
      require(req, 'read');
      const units = req.query.unit !== undefined ? [(await loadUnit(req, req.query.unit)).unit.id] : await unitIdsOf(req);
      const from = req.query.from ?? ctx.now();
      const to = req.query.to ?? from + 7 * 86_400_000;
      if (to <= from) throw new HazwatchError('HW_ERR_VALIDATION', 'querystring.to: after from', { field: 'querystring.to' });
      return roster.shifts({ units, from, to });
    },
  );

  const loadShift = async (req: FastifyRequest, id: number, permission: Permission = 'read') => {
    const shift = await roster.shift(id);
    if (!shift) {
      require(req, permission);
      throw new HazwatchError('HW_ERR_NOT_FOUND', `no shift ${id}`);
    }
    await loadUnit(req, shift.unit, permission).catch((err) => {
      throw err instanceof HazwatchError && err.code === 'HW_ERR_NOT_FOUND' ? new HazwatchError('HW_ERR_NOT_FOUND', `no shift ${id}`) : err;
    });
    return shift;
  };

  app.get('/api/v1/duty/shifts/:id', { schema: { tags, summary: 'One shift', params: NumParams, response: { 200: Shift, ...errorResponses } }, preValidation: auth }, async (req) => loadShift(req, req.params.id));

  app.post(
    '/api/v1/duty/shifts',
    {
      schema: { tags, summary: 'Add a shift: refused when it overlaps another of its unit (409 HW_ERR_DUTY_OVERLAP) or names people of another unit (HW_ERR_DUTY_PERSON)', body: ShiftInput, response: { 201: Shift, ...errorResponses } },
      preValidation: auth,
      config: { audit: 'duty.shift.create' },
    },
    async (req, reply) => {
      await loadUnit(req, req.body.unit, 'duty.write');
      const shift = await inBody(() => roster.addShift(req.body));
      req.auditTarget = String(shift.id);
      reply.code(201);
      return shift;
    },
  );

  app.put(
    '/api/v1/duty/shifts/:id',
    { schema: { tags, summary: 'Replace a shift (the same checks as adding)', params: NumParams, body: ShiftInput, response: { 200: Shift, ...errorResponses } }, preValidation: auth, config: { audit: 'duty.shift.update' } },
    async (req) => {
      req.auditTarget = String(req.params.id);
      await loadShift(req, req.params.id, 'duty.write');
      await loadUnit(req, req.body.unit, 'duty.write');
      const shift = await inBody(() => roster.updateShift(req.params.id, req.body));
      if (!shift) throw new HazwatchError('HW_ERR_NOT_FOUND', `no shift ${req.params.id}`);
      return shift;
    },
  );

  app.delete('/api/v1/duty/shifts/:id', { schema: { tags, summary: 'Remove a shift', params: NumParams, response: { 200: Ok, ...errorResponses } }, preValidation: auth, config: { audit: 'duty.shift.delete' } }, async (req) => {
    req.auditTarget = String(req.params.id);
    await loadShift(req, req.params.id, 'duty.write');
    await roster.removeShift(req.params.id);
    return { ok: true as const };
  });

  app.post(
    '/api/v1/duty/shifts/week',
    {
      schema: {
        tags,
        summary: "Add the shifts of a repeating pattern (e.g. 08:00–20:00 and 20:00–08:00 for 7 days in the unit's time zone, crews in turn): all or none",
        body: WeekPattern,
        response: { 201: z.array(Shift), ...errorResponses },
      },
      preValidation: auth,
      config: { audit: 'duty.shift.week' },
    },
    async (req, reply) => {
      await loadUnit(req, req.body.unit, 'duty.write');
      const shifts = await inBody(() => roster.addPattern(req.body));
      req.auditTarget = req.body.unit;
      req.auditDetail = { shifts: shifts.length, first: shifts[0]?.id, last: shifts[shifts.length - 1]?.id };
      reply.code(201);
      return shifts;
    },
  );

  // ---- who is on duty ----
  app.get(
    '/api/v1/duty/now',
    {
      schema: {
        tags,
        summary: 'Who is on duty now (or at `at`) for every unit in scope, or for one, with the chain of whom to call',
        querystring: z.object({ unit: Id.optional(), at: timeParam.optional().describe('Default now') }).strict(),
        response: { 200: z.object({ at: EpochMs, units: z.array(OnDuty) }), ...errorResponses },
      },
      preValidation: auth,
    },
    async (req) => {
      require(req, 'read');
      const scope = requestScope(req);
      const at = req.query.at ?? ctx.now();
      const units = req.query.unit !== undefined ? [(await loadUnit(req, req.query.unit)).unit] : await unitsOf(req);
      return { at, units: await Promise.all(units.map((u) => onDutyFor(scope, u, at))) };
    },
  );

  // ---- handovers ----
  app.get(
    '/api/v1/duty/open-work',
    {
      schema: { tags, summary: 'What a handover of the unit would list now: alarms not closed, warnings in progress, hidden dangers overdue', querystring: z.object({ unit: Id }).strict(), response: { 200: z.object({ unit: z.string(), items: z.array(OpenItem), incomplete: z.boolean() }), ...errorResponses } },
      preValidation: auth,
    },
    async (req) => {
      const { unit } = await loadUnit(req, req.query.unit);
      return { unit: unit.id, ...(await collectOpenWork(ctx.openWork, scopeOf(unit), ctx.log)) };
    },
  );

  app.get(
    '/api/v1/duty/handovers',
    { schema: { tags, summary: 'Handovers in scope, newest first', querystring: z.object({ unit: Id.optional(), limit: z.coerce.number().int().min(1).max(500).default(50) }).strict(), response: { 200: z.array(Handover), ...errorResponses } }, preValidation: auth },
    async (req) => {
      require(req, 'read');
      const units = req.query.unit !== undefined ? [(await loadUnit(req, req.query.unit)).unit.id] : await unitIdsOf(req);
      return roster.handovers({ units, limit: req.query.limit });
    },
  );

  const loadHandover = async (req: FastifyRequest, id: number, permission: Permission = 'read') => {
    const h = await roster.handover(id);
    if (!h) {
      require(req, permission);
      throw new HazwatchError('HW_ERR_NOT_FOUND', `no handover ${id}`);
    }
    await loadUnit(req, h.unit, permission).catch((err) => {
      throw err instanceof HazwatchError && err.code === 'HW_ERR_NOT_FOUND' ? new HazwatchError('HW_ERR_NOT_FOUND', `no handover ${id}`) : err;
    });
    return h;
  };

  app.get('/api/v1/duty/handovers/:id', { schema: { tags, summary: 'One handover with both signatures', params: NumParams, response: { 200: Handover, ...errorResponses } }, preValidation: auth }, async (req) => loadHandover(req, req.params.id));

  app.post(
    '/api/v1/duty/handovers',
    {
      schema: {
        tags,
        summary: 'Hand over: the open work of the unit is collected now and stored with the outgoing officer’s signature (the signed-in account)',
        body: z.object({ unit: Id, note: z.string().max(2000).default('').describe('What the next shift must know beyond the list') }).strict(),
        response: { 201: Handover, ...errorResponses },
      },
      preValidation: auth,
      config: { audit: 'duty.handover.sign_out' },
    },
    async (req, reply) => {
      const { user, unit } = await loadUnit(req, req.body.unit, 'duty.handover');
      const work = await collectOpenWork(ctx.openWork, scopeOf(unit), ctx.log);
      const h = await inBody(() => roster.createHandover({ unit: unit.id, ...work, by: { username: user.username, name: user.displayName || user.username }, note: req.body.note, at: ctx.now() }));
      req.auditTarget = String(h.id);
      req.auditDetail = { items: h.items.length, incomplete: h.incomplete, digest: h.digest };
      reply.code(201);
      return h;
    },
  );

  app.post(
    '/api/v1/duty/handovers/:id/sign-in',
    {
      schema: {
        tags,
        summary: 'Take over: the incoming officer (another account than the outgoing one) signs; once signed by both the handover is kept as it is',
        params: NumParams,
        body: z.object({ note: z.string().max(2000).default('') }).strict(),
        response: { 200: Handover, ...errorResponses },
      },
      preValidation: auth,
      config: { audit: 'duty.handover.sign_in' },
    },
    async (req) => {
      req.auditTarget = String(req.params.id);
      await loadHandover(req, req.params.id, 'duty.handover');
      const user = require(req, 'duty.handover');
      const h = await roster.signIn(req.params.id, { username: user.username, name: user.displayName || user.username, note: req.body.note, at: ctx.now() });
      if (!h) throw new HazwatchError('HW_ERR_NOT_FOUND', `no handover ${req.params.id}`);
      req.auditDetail = { digest: h.digest };
      return h;
    },
  );
}
