// The duty roster (值班, issue 16): units (bureau, park, department, enterprise) with their parent, the
// people of each unit's duty directory, shifts with the officers on duty and the leader on call
// (24小时值班和领导带班), and the handovers between shifts (交接班), kept append-only.
// It lives in registry/ because the rules engine (whom to notify, whom to escalate to) and the API
// (the console's duty page) both ask "who is on duty now": onDuty() and dutyChain().
// A SQLite file of its own (<dataDir>/roster.db) or the deployment's PostgreSQL (database.url), like
// the other shared stores (core/sql.ts).
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { HazwatchError } from '../contract/errors.ts';
import { ID_PATTERN } from '../contract/topics.ts';
import type { Logger } from '../core/log.ts';
import { openDatabase, type Schema, type Sql, type SqlDatabase } from '../core/sql.ts';

// ---- catalog ----

export const UNIT_KINDS = {
  bureau: { zh: '应急管理局', en: 'Emergency-management bureau' },
  park: { zh: '化工园区', en: 'Chemical park' },
  department: { zh: '部门', en: 'Department' },
  enterprise: { zh: '企业', en: 'Enterprise' },
} as const;
export type UnitKind = keyof typeof UNIT_KINDS;
export const UNIT_KIND_IDS = Object.keys(UNIT_KINDS) as [UnitKind, ...UnitKind[]];

/** What a person of the duty directory can be called on for; one person may be several. */
export const PERSON_KINDS = {
  duty_officer: { zh: '值班员', en: 'Duty officer' },
  leader: { zh: '带班领导', en: 'Leader on call' },
  safety_officer: { zh: '安全管理人员', en: 'Safety officer' },
  principal: { zh: '主要负责人', en: 'Principal' },
  rescue: { zh: '救援人员', en: 'Rescue' },
  expert: { zh: '专家', en: 'Expert' },
} as const;
export type PersonKind = keyof typeof PERSON_KINDS;
export const PERSON_KIND_IDS = Object.keys(PERSON_KINDS) as [PersonKind, ...PersonKind[]];

/** The time zone of units that name none: the bureaus' own. */
export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';
/** Longest single shift: a 24-hour duty plus the handover overlap a bureau may write as one. */
export const MAX_SHIFT_MS = 72 * 3_600_000;

// ---- model ----

const Id = z.string().regex(ID_PATTERN, 'letters, digits, _ . -; at most 64; starting with a letter or digit');

export function validTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

export const UnitInput = z
  .object({
    id: Id,
    name: z.string().trim().min(1).max(200),
    kind: z.enum(UNIT_KIND_IDS).describe('bureau, park, department (regulators) or enterprise'),
    parent: Id.nullable().default(null).describe('The unit above it (an enterprise: its park; a park: its bureau); null: the top'),
    enterprise: Id.nullable().default(null).describe('An enterprise unit: the enterprise it is (its data scope); regulator units: null'),
    timeZone: z.string().default(DEFAULT_TIME_ZONE).refine(validTimeZone, 'an IANA time zone such as Asia/Shanghai').describe('Where its shift times are local'),
  })
  .strict();
export type UnitInput = z.infer<typeof UnitInput>;
export interface Unit extends UnitInput {
  createdAt: number;
  updatedAt: number;
}

export const PersonInput = z
  .object({
    id: Id,
    unit: Id.describe('The unit whose duty directory lists the person'),
    name: z.string().trim().min(1).max(100),
    title: z.string().trim().max(100).default('').describe('Position: 值班科长, 安全总监 ...'),
    phone: z.string().trim().max(50).regex(/^[0-9+\-() ]*$/, 'digits, spaces, + - ( )').default(''),
    email: z.union([z.literal(''), z.email()]).default(''),
    wecom: z.string().trim().max(100).default('').describe('WeCom (企业微信) user id'),
    dingtalk: z.string().trim().max(100).default('').describe('DingTalk (钉钉) user id'),
    username: z.string().min(1).max(64).nullable().default(null).describe('The console account of the person, if any (who signs a handover)'),
    kinds: z.array(z.enum(PERSON_KIND_IDS)).max(PERSON_KIND_IDS.length).default([]).describe('duty_officer, leader, safety_officer, principal, rescue, expert'),
  })
  .strict();
export type PersonInput = z.infer<typeof PersonInput>;
export interface Person extends PersonInput {
  createdAt: number;
  updatedAt: number;
}

export const ShiftInput = z
  .object({
    unit: Id,
    startsAt: z.number().int().min(0).describe('Epoch ms, inclusive'),
    endsAt: z.number().int().min(0).describe('Epoch ms, exclusive: the next shift may start at this very moment'),
    officers: z.array(Id).max(20).default([]).describe('Person ids of the officers on duty (people of the same unit)'),
    leader: Id.nullable().default(null).describe('Person id of the leader on call (带班领导), of the same unit'),
    note: z.string().max(1000).default(''),
  })
  .strict();
export type ShiftInput = z.infer<typeof ShiftInput>;
export interface Shift extends ShiftInput {
  id: number;
  createdAt: number;
  updatedAt: number;
}

const LocalTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:MM, 00:00 to 23:59');
export const WeekPattern = z
  .object({
    unit: Id,
    from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'YYYY-MM-DD').describe("First day, in the unit's time zone"),
    days: z.number().int().min(1).max(31).default(7),
    slots: z
      .array(z.object({ start: LocalTime, end: LocalTime }).strict())
      .min(1)
      .max(6)
      .describe("The shifts of one day in the unit's local time, e.g. 08:00–20:00 and 20:00–08:00; an end at or before the start is on the next day"),
    crews: z
      .array(z.object({ officers: z.array(Id).max(20).default([]), leader: Id.nullable().default(null) }).strict())
      .min(1)
      .max(62)
      .describe('Who works: the first shift gets the first crew, the next the next, round and round'),
    note: z.string().max(1000).default(''),
  })
  .strict();
export type WeekPattern = z.infer<typeof WeekPattern>;

/** One open item a handover lists (api/context.ts OpenItem has the same shape). */
export interface HandoverItem {
  kind: 'alarm' | 'warning' | 'danger';
  id: string;
  title: string;
  enterprise: string;
  level?: number;
  since: number;
  overdue?: boolean;
  link: string;
}
export interface HandoverSignature {
  username: string;
  name: string;
  /** The directory's person with this account in the unit, if any. */
  person: string | null;
  at: number;
  note: string;
}
export interface Handover {
  id: number;
  unit: string;
  /** The shift on duty when the outgoing officer signed, if any. */
  shift: number | null;
  items: HandoverItem[];
  /** A source of open work failed while the list was collected: the list may lack items. */
  incomplete: boolean;
  /** SHA-256 of what the outgoing officer signed (unit, shift, items, signature): the incoming signs the same. */
  digest: string;
  outgoing: HandoverSignature;
  incoming: HandoverSignature | null;
  state: 'awaiting_incoming' | 'signed';
}

export interface OnDuty {
  /** The unit asked about. */
  asked: string;
  /** The unit whose shift answers: the one asked, or the nearest parent with somebody on duty. */
  unit: Unit;
  fallback: boolean;
  shift: Shift | null;
  officers: Person[];
  leader: Person | null;
}

/** One step of escalation: tier 0 first, then 1, ... */
export interface DutyTier {
  tier: number;
  unit: Unit;
  role: 'officers' | 'leader';
  shift: Shift;
  people: Person[];
}

// ---- local time ----

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(timeZone, f);
  }
  return f;
}

function wallClock(timeZone: string, at: number): { y: number; m: number; d: number; hh: number; mm: number; ss: number } {
  const parts = Object.fromEntries(formatter(timeZone).formatToParts(at).map((p) => [p.type, p.value]));
  return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day), hh: Number(parts.hour), mm: Number(parts.minute), ss: Number(parts.second) };
}

/** How far the zone's wall clock is ahead of UTC at `at`, ms. */
function offsetMs(timeZone: string, at: number): number {
  const w = wallClock(timeZone, at);
  return Date.UTC(w.y, w.m - 1, w.d, w.hh, w.mm, w.ss) - Math.floor(at / 1000) * 1000;
}

/** The instant a wall-clock time of a date is in a time zone (a time skipped by a DST change: the hour after). */
export function zonedTime(date: string, time: string, timeZone: string): number {
  const [y, m, d] = date.split('-').map(Number);
  const [hh, mm] = time.split(':').map(Number);
  const wall = Date.UTC(y, m - 1, d, hh, mm);
  // Two passes: the offset at the first guess may differ from the one at the answer across a DST change.
  const first = wall - offsetMs(timeZone, wall);
  return wall - offsetMs(timeZone, first);
}

/** The date (YYYY-MM-DD) a moment falls on in a time zone. */
export function localDate(at: number, timeZone: string): string {
  const w = wallClock(timeZone, at);
  return `${w.y}-${String(w.m).padStart(2, '0')}-${String(w.d).padStart(2, '0')}`;
}

export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** The shifts a pattern makes: every slot of every day, crews in turn. */
export function patternShifts(p: WeekPattern, timeZone: string): ShiftInput[] {
  const out: ShiftInput[] = [];
  let turn = 0;
  for (let day = 0; day < p.days; day++) {
    const date = addDays(p.from, day);
    for (const slot of p.slots) {
      const startsAt = zonedTime(date, slot.start, timeZone);
      const endsAt = zonedTime(slot.end <= slot.start ? addDays(date, 1) : date, slot.end, timeZone);
      const crew = p.crews[turn++ % p.crews.length];
      out.push({ unit: p.unit, startsAt, endsAt, officers: crew.officers, leader: crew.leader, note: p.note });
    }
  }
  return out;
}

// ---- store ----

const SCHEMA: Schema = {
  tables: `
create table if not exists duty_units (
  id text primary key,
  name text not null,
  kind text not null,
  parent text,
  enterprise text,
  time_zone text not null,
  created_at bigint not null,
  updated_at bigint not null
);
create index if not exists duty_units_enterprise on duty_units (enterprise);
create index if not exists duty_units_parent on duty_units (parent);
create table if not exists duty_people (
  id text primary key,
  unit text not null,
  name text not null,
  title text not null default '',
  phone text not null default '',
  email text not null default '',
  wecom text not null default '',
  dingtalk text not null default '',
  username text,
  kinds text not null default '',
  created_at bigint not null,
  updated_at bigint not null
);
create index if not exists duty_people_unit on duty_people (unit);
create table if not exists duty_shifts (
  id {serial},
  unit text not null,
  starts_at bigint not null,
  ends_at bigint not null,
  officers text not null,
  leader text,
  note text not null default '',
  created_at bigint not null,
  updated_at bigint not null
);
create index if not exists duty_shifts_unit on duty_shifts (unit, starts_at);
create table if not exists duty_handovers (
  id {serial},
  unit text not null,
  shift bigint,
  items text not null,
  incomplete integer not null,
  digest text not null,
  out_username text not null,
  out_name text not null,
  out_person text,
  out_note text not null,
  out_at bigint not null
);
create index if not exists duty_handovers_unit on duty_handovers (unit, id);
create table if not exists duty_handover_signins (
  handover bigint primary key,
  username text not null,
  name text not null,
  person text,
  note text not null,
  digest text not null,
  at bigint not null
);
`,
  // A handover, once signed, is the record: neither side's signature can be changed or taken back.
  appendOnly: [
    { table: 'duty_handovers', what: 'a shift handover' },
    { table: 'duty_handover_signins', what: 'the incoming signature of a handover' },
  ],
};

type UnitRow = { id: string; name: string; kind: UnitKind; parent: string | null; enterprise: string | null; time_zone: string; created_at: number; updated_at: number };
type PersonRow = { id: string; unit: string; name: string; title: string; phone: string; email: string; wecom: string; dingtalk: string; username: string | null; kinds: string; created_at: number; updated_at: number };
type ShiftRow = { id: number; unit: string; starts_at: number; ends_at: number; officers: string; leader: string | null; note: string; created_at: number; updated_at: number };
type HandoverRow = {
  id: number;
  unit: string;
  shift: number | null;
  items: string;
  incomplete: number;
  digest: string;
  out_username: string;
  out_name: string;
  out_person: string | null;
  out_note: string;
  out_at: number;
  in_username: string | null;
  in_name: string | null;
  in_person: string | null;
  in_note: string | null;
  in_at: number | null;
};

const toUnit = (r: UnitRow): Unit => ({ id: r.id, name: r.name, kind: r.kind, parent: r.parent, enterprise: r.enterprise, timeZone: r.time_zone, createdAt: r.created_at, updatedAt: r.updated_at });
const toPerson = (r: PersonRow): Person => ({
  id: r.id,
  unit: r.unit,
  name: r.name,
  title: r.title,
  phone: r.phone,
  email: r.email,
  wecom: r.wecom,
  dingtalk: r.dingtalk,
  username: r.username,
  // Stored as ",a,b," so that one kind is found with LIKE.
  kinds: r.kinds.split(',').filter(Boolean) as PersonKind[],
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toShift = (r: ShiftRow): Shift => ({ id: r.id, unit: r.unit, startsAt: r.starts_at, endsAt: r.ends_at, officers: JSON.parse(r.officers) as string[], leader: r.leader, note: r.note, createdAt: r.created_at, updatedAt: r.updated_at });
const toHandover = (r: HandoverRow): Handover => ({
  id: r.id,
  unit: r.unit,
  shift: r.shift,
  items: JSON.parse(r.items) as HandoverItem[],
  incomplete: Boolean(r.incomplete),
  digest: r.digest,
  outgoing: { username: r.out_username, name: r.out_name, person: r.out_person, at: r.out_at, note: r.out_note },
  incoming: r.in_username === null ? null : { username: r.in_username, name: r.in_name!, person: r.in_person, at: r.in_at!, note: r.in_note! },
  state: r.in_username === null ? 'awaiting_incoming' : 'signed',
});

const HANDOVER_SELECT = `select h.*, s.username as in_username, s.name as in_name, s.person as in_person, s.note as in_note, s.at as in_at
  from duty_handovers h left join duty_handover_signins s on s.handover = h.id`;

/** A refusal naming the field at fault (relative to what was given: the API prefixes body.). */
const refuse = (code: 'HW_ERR_VALIDATION' | 'HW_ERR_DUTY_OVERLAP' | 'HW_ERR_DUTY_PERSON' | 'HW_ERR_CONFLICT', message: string, field?: string) =>
  new HazwatchError(code, message, field ? { field } : undefined);

const iso = (ms: number, timeZone: string) => {
  const w = wallClock(timeZone, ms);
  return `${localDate(ms, timeZone)} ${String(w.hh).padStart(2, '0')}:${String(w.mm).padStart(2, '0')}`;
};

export interface PeopleFilter {
  unit?: string;
  units?: string[];
  kinds?: PersonKind[];
}
export interface ShiftFilter {
  unit?: string;
  units?: string[];
  /** Shifts still running at or after this moment (endsAt > from). */
  from?: number;
  /** Shifts starting before this moment. */
  to?: number;
}

export type RosterStore = Awaited<ReturnType<typeof openRoster>>;

export async function openRoster(target: string, options: { now?: () => number; log?: Logger } = {}) {
  const now = options.now ?? Date.now;
  const db: SqlDatabase = await openDatabase(target, { lock: 'roster', log: options.log, schema: SCHEMA });

  const unitIn = async (sql: Sql, id: string) => {
    const row = await sql.get<UnitRow>('select * from duty_units where id = ?', [id]);
    return row ? toUnit(row) : undefined;
  };
  const personIn = async (sql: Sql, id: string) => {
    const row = await sql.get<PersonRow>('select * from duty_people where id = ?', [id]);
    return row ? toPerson(row) : undefined;
  };

  /** Checks a shift against its unit, its people and the unit's other shifts (inside the write). */
  async function checkShift(sql: Sql, s: ShiftInput, replacing?: number, prefix = ''): Promise<void> {
    const unit = await unitIn(sql, s.unit);
    if (!unit) throw refuse('HW_ERR_VALIDATION', `no unit ${s.unit}`, `${prefix}unit`);
    if (s.endsAt <= s.startsAt) throw refuse('HW_ERR_VALIDATION', 'a shift ends after it starts', `${prefix}endsAt`);
    if (s.endsAt - s.startsAt > MAX_SHIFT_MS) throw refuse('HW_ERR_VALIDATION', `a shift lasts at most ${MAX_SHIFT_MS / 3_600_000} hours`, `${prefix}endsAt`);
    if (!s.officers.length && !s.leader) throw refuse('HW_ERR_VALIDATION', 'a shift needs an officer on duty or a leader on call', `${prefix}officers`);
    if (new Set(s.officers).size !== s.officers.length) throw refuse('HW_ERR_VALIDATION', 'an officer is listed twice', `${prefix}officers`);
    const named: [string, string][] = [...s.officers.map((id, i): [string, string] => [id, `${prefix}officers.${i}`]), ...(s.leader ? [[s.leader, `${prefix}leader`] as [string, string]] : [])];
    for (const [id, field] of named) {
      const p = await personIn(sql, id);
      if (!p) throw refuse('HW_ERR_DUTY_PERSON', `no person ${id} in the duty directory`, field);
      if (p.unit !== s.unit) throw refuse('HW_ERR_DUTY_PERSON', `${p.name} (${id}) belongs to unit ${p.unit}, not ${s.unit}: a shift is staffed by its own unit`, field);
    }
    const other = await sql.get<ShiftRow>('select * from duty_shifts where unit = @unit and starts_at < @endsAt and ends_at > @startsAt and id <> @id order by starts_at limit 1', {
      unit: s.unit,
      startsAt: s.startsAt,
      endsAt: s.endsAt,
      id: replacing ?? -1,
    });
    if (other) {
      throw refuse(
        'HW_ERR_DUTY_OVERLAP',
        `overlaps shift ${other.id} of unit ${s.unit} (${iso(other.starts_at, unit.timeZone)} – ${iso(other.ends_at, unit.timeZone)}, ${unit.timeZone})`,
        `${prefix}startsAt`,
      );
    }
  }

  const insertShift = async (sql: Sql, s: ShiftInput, at: number) =>
    (await sql.get<{ id: number }>(
      'insert into duty_shifts (unit, starts_at, ends_at, officers, leader, note, created_at, updated_at) values (@unit, @startsAt, @endsAt, @officers, @leader, @note, @at, @at) returning id',
      { ...s, officers: JSON.stringify(s.officers), at },
    ))!.id;

  async function shiftAt(unit: string, at: number): Promise<Shift | null> {
    const row = await db.get<ShiftRow>('select * from duty_shifts where unit = @unit and starts_at <= @at and ends_at > @at order by starts_at desc limit 1', { unit, at });
    return row ? toShift(row) : null;
  }

  /** The shift of this unit alone at `at`, with its people resolved (a person removed since: left out). */
  async function here(unit: Unit, at: number): Promise<{ shift: Shift | null; officers: Person[]; leader: Person | null }> {
    const shift = await shiftAt(unit.id, at);
    if (!shift) return { shift: null, officers: [], leader: null };
    const officers = (await Promise.all(shift.officers.map((id) => store.person(id)))).filter((p): p is Person => !!p);
    const leader = shift.leader ? ((await store.person(shift.leader)) ?? null) : null;
    return { shift, officers, leader };
  }

  /** The unit and its parents, nearest first (a cycle, which putUnit refuses, stops the walk). */
  async function lineage(id: string): Promise<Unit[]> {
    const out: Unit[] = [];
    const seen = new Set<string>();
    for (let u = await store.unit(id); u && !seen.has(u.id); u = u.parent ? await store.unit(u.parent) : undefined) {
      seen.add(u.id);
      out.push(u);
    }
    return out;
  }

  const store = {
    where: db.where,
    dialect: db.dialect,

    // ---- units ----
    async units(filter: { enterprise?: string } = {}): Promise<Unit[]> {
      const rows =
        filter.enterprise !== undefined
          ? await db.all<UnitRow>('select * from duty_units where enterprise = ? order by id', [filter.enterprise])
          : await db.all<UnitRow>('select * from duty_units order by id');
      return rows.map(toUnit);
    },

    unit: (id: string) => unitIn(db, id),

    /** The unit of an enterprise (its data scope), if it has one: where its alarms' duty chain starts. */
    async unitFor(enterprise: string): Promise<Unit | undefined> {
      const row = await db.get<UnitRow>('select * from duty_units where enterprise = ? order by id limit 1', [enterprise]);
      return row ? toUnit(row) : undefined;
    },

    /** Creates or replaces a unit; `created` tells which. */
    async putUnit(u: UnitInput): Promise<{ unit: Unit; created: boolean }> {
      if (u.kind === 'enterprise' && !u.enterprise) throw refuse('HW_ERR_VALIDATION', 'an enterprise unit names its enterprise', 'enterprise');
      if (u.kind !== 'enterprise' && u.enterprise) throw refuse('HW_ERR_VALIDATION', `a ${u.kind} unit is a regulator: it names no enterprise`, 'enterprise');
      const at = now();
      const created = await db.write(async (sql) => {
        if (u.parent !== null) {
          // The parent must exist, and the unit must not end up above itself.
          for (let p: string | null = u.parent, steps = 0; p !== null; steps++) {
            if (p === u.id || steps > 100) throw refuse('HW_ERR_VALIDATION', `unit ${u.parent} is below ${u.id}: a unit cannot be its own parent`, 'parent');
            const parent = await unitIn(sql, p);
            if (!parent) throw refuse('HW_ERR_VALIDATION', `no unit ${p}`, 'parent');
            p = parent.parent;
          }
        }
        if (u.enterprise) {
          const other = await sql.get<{ id: string }>('select id from duty_units where enterprise = ? and id <> ?', [u.enterprise, u.id]);
          if (other) throw refuse('HW_ERR_CONFLICT', `enterprise ${u.enterprise} has its unit already: ${other.id}`, 'enterprise');
        }
        const existed = await unitIn(sql, u.id);
        if (existed && existed.enterprise !== u.enterprise && (await sql.get('select id from duty_people where unit = ? limit 1', [u.id]))) {
          throw refuse('HW_ERR_CONFLICT', `unit ${u.id} has people: its enterprise cannot change`, 'enterprise');
        }
        await sql.run(
          `insert into duty_units (id, name, kind, parent, enterprise, time_zone, created_at, updated_at) values (@id, @name, @kind, @parent, @enterprise, @timeZone, @at, @at)
           on conflict(id) do update set name = excluded.name, kind = excluded.kind, parent = excluded.parent, enterprise = excluded.enterprise, time_zone = excluded.time_zone, updated_at = excluded.updated_at`,
          { ...u, at },
        );
        return !existed;
      });
      return { unit: (await store.unit(u.id))!, created };
    },

    /** Removes a unit nothing refers to (units below it, people, shifts, handovers). */
    async removeUnit(id: string): Promise<boolean> {
      return db.write(async (sql) => {
        if (!(await unitIn(sql, id))) return false;
        for (const [table, column, what] of [
          ['duty_units', 'parent', 'units below it'],
          ['duty_people', 'unit', 'people'],
          ['duty_shifts', 'unit', 'shifts'],
          ['duty_handovers', 'unit', 'handovers'],
        ] as const) {
          if (await sql.get(`select 1 as x from ${table} where ${column} = ? limit 1`, [id])) throw refuse('HW_ERR_CONFLICT', `unit ${id} has ${what}: remove those first`);
        }
        return (await sql.run('delete from duty_units where id = ?', [id])) > 0;
      });
    },

    // ---- people ----
    async people(filter: PeopleFilter = {}): Promise<Person[]> {
      const where: string[] = [];
      const p: Record<string, unknown> = {};
      const units = filter.units ?? (filter.unit !== undefined ? [filter.unit] : undefined);
      if (units) {
        if (!units.length) return [];
        where.push(`unit in (${units.map((_, i) => `@u${i}`).join(', ')})`);
        units.forEach((u, i) => (p[`u${i}`] = u));
      }
      if (filter.kinds?.length) {
        where.push(`(${filter.kinds.map((_, i) => `kinds like @k${i}`).join(' or ')})`);
        filter.kinds.forEach((k, i) => (p[`k${i}`] = `%,${k},%`));
      }
      const rows = await db.all<PersonRow>(`select * from duty_people${where.length ? ' where ' + where.join(' and ') : ''} order by unit, id`, p);
      return rows.map(toPerson);
    },

    person: (id: string) => personIn(db, id),

    async putPerson(input: PersonInput): Promise<{ person: Person; created: boolean }> {
      const at = now();
      const created = await db.write(async (sql) => {
        if (!(await unitIn(sql, input.unit))) throw refuse('HW_ERR_VALIDATION', `no unit ${input.unit}`, 'unit');
        const existed = await personIn(sql, input.id);
        if (existed && existed.unit !== input.unit) {
          // Shifts name their unit's people: moving someone would staff another unit's shifts.
          const busy = await sql.get<{ id: number }>('select id from duty_shifts where ends_at > @at and (leader = @id or officers like @like) limit 1', { at, id: input.id, like: `%"${input.id}"%` });
          if (busy) throw refuse('HW_ERR_CONFLICT', `${input.id} is on shift ${busy.id} of unit ${existed.unit}: take them off first`, 'unit');
        }
        await sql.run(
          `insert into duty_people (id, unit, name, title, phone, email, wecom, dingtalk, username, kinds, created_at, updated_at)
           values (@id, @unit, @name, @title, @phone, @email, @wecom, @dingtalk, @username, @kinds, @at, @at)
           on conflict(id) do update set unit = excluded.unit, name = excluded.name, title = excluded.title, phone = excluded.phone, email = excluded.email,
             wecom = excluded.wecom, dingtalk = excluded.dingtalk, username = excluded.username, kinds = excluded.kinds, updated_at = excluded.updated_at`,
          { ...input, kinds: input.kinds.length ? `,${[...new Set(input.kinds)].join(',')},` : '', at },
        );
        return !existed;
      });
      return { person: (await store.person(input.id))!, created };
    },

    /** Removes a person no current or future shift names (past shifts keep the id). */
    async removePerson(id: string): Promise<boolean> {
      return db.write(async (sql) => {
        if (!(await personIn(sql, id))) return false;
        const busy = await sql.get<{ id: number }>('select id from duty_shifts where ends_at > @at and (leader = @id or officers like @like) limit 1', { at: now(), id, like: `%"${id}"%` });
        if (busy) throw refuse('HW_ERR_CONFLICT', `${id} is on shift ${busy.id}: take them off first`);
        return (await sql.run('delete from duty_people where id = ?', [id])) > 0;
      });
    },

    // ---- shifts ----
    async shifts(filter: ShiftFilter = {}): Promise<Shift[]> {
      const where: string[] = [];
      const p: Record<string, unknown> = {};
      const units = filter.units ?? (filter.unit !== undefined ? [filter.unit] : undefined);
      if (units) {
        if (!units.length) return [];
        where.push(`unit in (${units.map((_, i) => `@u${i}`).join(', ')})`);
        units.forEach((u, i) => (p[`u${i}`] = u));
      }
      if (filter.from !== undefined) {
        where.push('ends_at > @from');
        p.from = filter.from;
      }
      if (filter.to !== undefined) {
        where.push('starts_at < @to');
        p.to = filter.to;
      }
      const rows = await db.all<ShiftRow>(`select * from duty_shifts${where.length ? ' where ' + where.join(' and ') : ''} order by starts_at, unit limit 5000`, p);
      return rows.map(toShift);
    },

    async shift(id: number): Promise<Shift | undefined> {
      const row = await db.get<ShiftRow>('select * from duty_shifts where id = ?', [id]);
      return row ? toShift(row) : undefined;
    },

    /** Adds a shift; refused when it overlaps another of its unit or names people of another unit. */
    async addShift(s: ShiftInput): Promise<Shift> {
      const id = await db.write(async (sql) => {
        await checkShift(sql, s);
        return insertShift(sql, s, now());
      });
      return (await store.shift(id))!;
    },

    /** Replaces a shift (its unit included); the same checks as adding. */
    async updateShift(id: number, s: ShiftInput): Promise<Shift | undefined> {
      const done = await db.write(async (sql) => {
        if (!(await sql.get('select id from duty_shifts where id = ?', [id]))) return false;
        await checkShift(sql, s, id);
        await sql.run('update duty_shifts set unit = @unit, starts_at = @startsAt, ends_at = @endsAt, officers = @officers, leader = @leader, note = @note, updated_at = @at where id = @id', {
          ...s,
          officers: JSON.stringify(s.officers),
          at: now(),
          id,
        });
        return true;
      });
      return done ? store.shift(id) : undefined;
    },

    async removeShift(id: number): Promise<boolean> {
      return (await db.write((sql) => sql.run('delete from duty_shifts where id = ?', [id]))) > 0;
    },

    /** The shifts of a repeating pattern, all stored or (one overlapping, one wrong person) none. */
    async addPattern(p: WeekPattern): Promise<Shift[]> {
      const unit = await store.unit(p.unit);
      if (!unit) throw refuse('HW_ERR_VALIDATION', `no unit ${p.unit}`, 'unit');
      const list = patternShifts(p, unit.timeZone);
      const ids = await db.write(async (sql) => {
        const at = now();
        const out: number[] = [];
        for (const [i, s] of list.entries()) {
          // Which crew a shift got: a wrong person is named in the pattern's own terms.
          const crew = i % p.crews.length;
          try {
            await checkShift(sql, s);
          } catch (err) {
            if (err instanceof HazwatchError && typeof err.detail?.field === 'string' && /^(officers|leader)/.test(err.detail.field)) {
              throw new HazwatchError(err.code, err.message, { field: `crews.${crew}.${err.detail.field}` });
            }
            if (err instanceof HazwatchError && err.code === 'HW_ERR_DUTY_OVERLAP') throw new HazwatchError(err.code, `the shift of ${iso(s.startsAt, unit.timeZone)} ${err.message}`, { field: 'from' });
            throw err;
          }
          out.push(await insertShift(sql, s, at));
        }
        return out;
      });
      const byId = new Map((await store.shifts({ unit: p.unit, from: list[0].startsAt, to: list[list.length - 1].endsAt })).map((s) => [s.id, s]));
      return ids.map((id) => byId.get(id)!);
    },

    // ---- who is on duty ----
    /**
     * Who is on duty for a unit at a moment: the officers and the leader of its shift then; when the
     * unit has nobody on duty (no shift, or a shift whose people were all removed), its parent's, and so
     * on up. Shifts are half-open: at the very end of one the next one's people answer.
     */
    async onDuty(unitId: string, at: number = now()): Promise<OnDuty> {
      const units = await lineage(unitId);
      if (!units.length) throw new HazwatchError('HW_ERR_NOT_FOUND', `no unit ${unitId}`);
      for (const u of units) {
        const h = await here(u, at);
        if (h.officers.length || h.leader) return { asked: unitId, unit: u, fallback: u.id !== unitId, ...h };
      }
      return { asked: unitId, unit: units[0], fallback: false, shift: null, officers: [], leader: null };
    },

    /**
     * Whom to call, in order: the unit's officers on duty, its leader on call, then its parent's officers,
     * the parent's leader, and so on to the top. A unit (or a role) with nobody on duty adds no tier,
     * so tier 0 is always the nearest somebody and tier n+1 the next one up: an escalation that names
     * tier n reaches real people. `levels` limits how many units up the chain goes.
     */
    async dutyChain(unitId: string, at: number = now(), options: { levels?: number } = {}): Promise<DutyTier[]> {
      const units = (await lineage(unitId)).slice(0, options.levels ?? Infinity);
      const chain: DutyTier[] = [];
      for (const u of units) {
        const h = await here(u, at);
        if (!h.shift) continue;
        if (h.officers.length) chain.push({ tier: chain.length, unit: u, role: 'officers', shift: h.shift, people: h.officers });
        if (h.leader) chain.push({ tier: chain.length, unit: u, role: 'leader', shift: h.shift, people: [h.leader] });
      }
      return chain;
    },

    // ---- handovers ----
    async handovers(filter: { unit?: string; units?: string[]; limit?: number } = {}): Promise<Handover[]> {
      const units = filter.units ?? (filter.unit !== undefined ? [filter.unit] : undefined);
      if (units && !units.length) return [];
      const p: Record<string, unknown> = { limit: Math.min(filter.limit ?? 50, 500) };
      units?.forEach((u, i) => (p[`u${i}`] = u));
      const rows = await db.all<HandoverRow>(`${HANDOVER_SELECT}${units ? ` where h.unit in (${units.map((_, i) => `@u${i}`).join(', ')})` : ''} order by h.id desc limit @limit`, p);
      return rows.map(toHandover);
    },

    async handover(id: number): Promise<Handover | undefined> {
      const row = await db.get<HandoverRow>(`${HANDOVER_SELECT} where h.id = ?`, [id]);
      return row ? toHandover(row) : undefined;
    },

    /**
     * The outgoing officer's side: the open items as collected now, signed by the account creating it.
     * The record is append-only from this moment.
     */
    async createHandover(input: { unit: string; items: HandoverItem[]; incomplete?: boolean; by: { username: string; name: string }; note?: string; at?: number }): Promise<Handover> {
      const at = input.at ?? now();
      const id = await db.write(async (sql) => {
        if (!(await unitIn(sql, input.unit))) throw refuse('HW_ERR_VALIDATION', `no unit ${input.unit}`, 'unit');
        const person = await sql.get<{ id: string }>('select id from duty_people where unit = ? and username = ? order by id limit 1', [input.unit, input.by.username]);
        const shift = await sql.get<{ id: number }>('select id from duty_shifts where unit = @unit and starts_at <= @at and ends_at > @at limit 1', { unit: input.unit, at });
        const outgoing = { username: input.by.username, name: input.by.name, person: person?.id ?? null, at, note: input.note ?? '' };
        const signed = { unit: input.unit, shift: shift?.id ?? null, items: input.items, incomplete: !!input.incomplete, outgoing };
        const digest = createHash('sha256').update(JSON.stringify(signed)).digest('hex');
        return (await sql.get<{ id: number }>(
          `insert into duty_handovers (unit, shift, items, incomplete, digest, out_username, out_name, out_person, out_note, out_at)
           values (@unit, @shift, @items, @incomplete, @digest, @username, @name, @person, @note, @at) returning id`,
          { unit: input.unit, shift: signed.shift, items: JSON.stringify(input.items), incomplete: signed.incomplete, digest, ...outgoing },
        ))!.id;
      });
      return (await store.handover(id))!;
    },

    /**
     * The incoming officer's side: another account reviews and signs. Signed once; after that the
     * handover is kept as it is (HW_ERR_HANDOVER_SIGNED).
     */
    async signIn(id: number, input: { username: string; name: string; note?: string; at?: number }): Promise<Handover | undefined> {
      const at = input.at ?? now();
      const done = await db.write(async (sql) => {
        const h = await sql.get<HandoverRow>(`${HANDOVER_SELECT} where h.id = ?`, [id]);
        if (!h) return false;
        if (h.in_username !== null) throw new HazwatchError('HW_ERR_HANDOVER_SIGNED', `handover ${id} was signed by ${h.out_username} and ${h.in_username}: it is kept as it is`);
        if (h.out_username === input.username) throw new HazwatchError('HW_ERR_HANDOVER_SAME_ACCOUNT', `${input.username} signed handover ${id} as the outgoing officer: the incoming officer signs with another account`);
        const person = await sql.get<{ id: string }>('select id from duty_people where unit = ? and username = ? order by id limit 1', [h.unit, input.username]);
        await sql.run('insert into duty_handover_signins (handover, username, name, person, note, digest, at) values (@id, @username, @name, @person, @note, @digest, @at)', {
          id,
          username: input.username,
          name: input.name,
          person: person?.id ?? null,
          note: input.note ?? '',
          digest: h.digest,
          at,
        });
        return true;
      });
      return done ? store.handover(id) : undefined;
    },

    async count(): Promise<{ units: number; people: number; shifts: number }> {
      const n = async (table: string) => Number((await db.get<{ n: number }>(`select count(*) as n from ${table}`))!.n);
      return { units: await n('duty_units'), people: await n('duty_people'), shifts: await n('duty_shifts') };
    },

    close: () => db.close(),
  };
  return store;
}

/**
 * Who to tell at escalation tier `tier` about something of an enterprise: that tier of the duty chain
 * of its unit now (tier 0 its officers on duty, 1 its leader, 2 the park's officers ...), the last tier
 * when the chain is shorter; nobody when the enterprise has no unit or nobody is on duty.
 */
export async function peopleAtTier(roster: Pick<RosterStore, 'unitFor' | 'dutyChain'>, enterprise: string, tier: number, at: number): Promise<{ tier: DutyTier | undefined; people: Person[] }> {
  const unit = await roster.unitFor(enterprise);
  if (!unit) return { tier: undefined, people: [] };
  const chain = await roster.dutyChain(unit.id, at);
  const step = chain[Math.min(tier, chain.length - 1)];
  return { tier: step, people: step?.people ?? [] };
}
