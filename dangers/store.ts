// The hidden-danger store: dangers, their append-only history and their evidence files, in a SQLite
// file of their own (<dataDir>/dangers.db) or the deployment's PostgreSQL (database.url), so that every
// API node sees the same dangers and serves the same evidence (core/sql.ts). Every change is one write
// transaction under the store's single-writer lock: the state check and the change cannot interleave
// with another node's, which is also what makes the overdue escalation happen once.
import { randomBytes } from 'node:crypto';
import { HazwatchError } from '../contract/errors.ts';
import type { Logger } from '../core/log.ts';
import { isPostgresUrl, openDatabase, type Schema, type Sql, type SqlDatabase } from '../core/sql.ts';
import type { EscalationConfig } from './config.ts';
import {
  isOverdue,
  MAX_TIER,
  tierDueAt,
  type Danger,
  type DangerAction,
  type DangerGrade,
  type DangerHistoryEntry,
  type DangerOrigin,
  type DangerState,
  type Evidence,
  type EvidenceType,
} from './model.ts';

/** Evidence files are kept as bytes: BLOB on SQLite, bytea on PostgreSQL (both take a Buffer). */
function schema(blob: string): Schema {
  return {
    tables: `
create table if not exists dangers (
  id text primary key,
  enterprise text not null,
  hazard_source text,
  device text,
  alarm_id text,
  origin text not null,
  title text not null,
  description text not null default '',
  grade text not null,
  responsible_name text not null,
  responsible_phone text not null default '',
  deadline bigint not null,
  state text not null,
  created_by text not null,
  created_at bigint not null,
  updated_at bigint not null,
  rectified_by text,
  rectified_at bigint,
  closed_by text,
  closed_at bigint,
  escalated_tier integer not null default 0,
  next_escalation_at bigint
);
create index if not exists dangers_enterprise on dangers (enterprise);
create index if not exists dangers_state on dangers (state, deadline);
create index if not exists dangers_due on dangers (next_escalation_at);
create index if not exists dangers_created on dangers (created_at);
create table if not exists danger_history (
  seq {serial},
  danger_id text not null,
  at bigint not null,
  action text not null,
  by_user text not null,
  state text not null,
  note text,
  data text
);
create index if not exists danger_history_danger on danger_history (danger_id, seq);
create table if not exists danger_evidence (
  id {serial},
  danger_id text not null,
  name text not null,
  content_type text not null,
  size integer not null,
  sha256 text not null,
  by_user text not null,
  at bigint not null,
  bytes ${blob} not null
);
create index if not exists danger_evidence_danger on danger_evidence (danger_id, id);
`,
    appendOnly: [
      { table: 'danger_history', what: 'hidden-danger history' },
      { table: 'danger_evidence', what: 'hidden-danger evidence' },
    ],
  };
}

type Row = {
  id: string;
  enterprise: string;
  hazard_source: string | null;
  device: string | null;
  alarm_id: string | null;
  origin: DangerOrigin;
  title: string;
  description: string;
  grade: DangerGrade;
  responsible_name: string;
  responsible_phone: string;
  deadline: number;
  state: DangerState;
  created_by: string;
  created_at: number;
  updated_at: number;
  rectified_by: string | null;
  rectified_at: number | null;
  closed_by: string | null;
  closed_at: number | null;
  escalated_tier: number;
  next_escalation_at: number | null;
  evidence_count: number;
};

type HistoryRow = { seq: number; danger_id: string; at: number; action: DangerAction; by_user: string; state: DangerState; note: string | null; data: string | null };
type EvidenceRow = { id: number; danger_id: string; name: string; content_type: EvidenceType; size: number; sha256: string; by_user: string; at: number };

const SELECT = `select d.*, (select count(*) from danger_evidence e where e.danger_id = d.id) as evidence_count from dangers d`;

function toDanger(r: Row, now: number): Danger {
  const d: Danger = {
    id: r.id,
    enterprise: r.enterprise,
    hazardSource: r.hazard_source,
    device: r.device,
    alarmId: r.alarm_id,
    origin: r.origin,
    title: r.title,
    description: r.description,
    grade: r.grade,
    responsible: { name: r.responsible_name, phone: r.responsible_phone },
    deadline: Number(r.deadline),
    state: r.state,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    rectifiedBy: r.rectified_by,
    rectifiedAt: r.rectified_at === null ? null : Number(r.rectified_at),
    closedBy: r.closed_by,
    closedAt: r.closed_at === null ? null : Number(r.closed_at),
    escalatedTier: Number(r.escalated_tier),
    nextEscalationAt: r.next_escalation_at === null ? null : Number(r.next_escalation_at),
    overdue: false,
    evidenceCount: Number(r.evidence_count),
  };
  d.overdue = isOverdue(d, now);
  return d;
}

const toEntry = (r: HistoryRow): DangerHistoryEntry => ({
  dangerId: r.danger_id,
  seq: Number(r.seq),
  at: Number(r.at),
  action: r.action,
  by: r.by_user,
  state: r.state,
  note: r.note,
  data: r.data ? (JSON.parse(r.data) as Record<string, unknown>) : null,
});

const toEvidence = (r: EvidenceRow): Evidence => ({
  id: Number(r.id),
  dangerId: r.danger_id,
  name: r.name,
  contentType: r.content_type,
  size: Number(r.size),
  sha256: r.sha256,
  by: r.by_user,
  at: Number(r.at),
});

/** A danger as it is opened: the API has resolved the alarm's prefill and checked the references. */
export interface NewDanger {
  enterprise: string;
  hazardSource: string | null;
  device: string | null;
  alarmId: string | null;
  origin: DangerOrigin;
  title: string;
  description: string;
  grade: DangerGrade;
  responsible: { name: string; phone: string };
  deadline: number;
}

export interface DangerFilter {
  enterprise?: string;
  /** Only these enterprises (an account's scope, docs/jurisdictions.md); an empty list: none. */
  enterprises?: readonly string[];
  states?: DangerState[];
  grade?: DangerGrade;
  /** true: only open dangers past their deadline; false: only those that are not. */
  overdue?: boolean;
  /** createdAt >= from */
  from?: number;
  /** createdAt < to */
  to?: number;
  limit?: number;
  offset?: number;
}

export interface DangerChange {
  danger: Danger;
  change: DangerHistoryEntry;
}

export interface Escalation {
  danger: Danger;
  tier: number;
}

export type DangerStore = Awaited<ReturnType<typeof openDangerStore>>;

const transition = (message: string) => new HazwatchError('HW_ERR_DANGER_TRANSITION', message);

function newId(at: number): string {
  const day = new Date(at + 8 * 3_600_000).toISOString().slice(0, 10).replaceAll('-', '');
  return `hd-${day}-${randomBytes(4).toString('hex')}`;
}

export async function openDangerStore(target: string, options: { escalation: EscalationConfig; now?: () => number; log?: Logger }) {
  const now = options.now ?? Date.now;
  const esc = options.escalation;
  const db: SqlDatabase = await openDatabase(target, { lock: 'dangers', log: options.log, schema: schema(isPostgresUrl(target) ? 'bytea' : 'blob') });

  const where = (f: Omit<DangerFilter, 'limit' | 'offset'>, at: number) => {
    const w: string[] = [];
    const p: Record<string, unknown> = {};
    if (f.enterprise !== undefined) (w.push('d.enterprise = @enterprise'), (p.enterprise = f.enterprise));
    if (f.enterprises) {
      w.push(f.enterprises.length ? `d.enterprise in (${f.enterprises.map((_, i) => `@e${i}`).join(', ')})` : '1 = 0');
      f.enterprises.forEach((e, i) => (p[`e${i}`] = e));
    }
    if (f.states?.length) {
      w.push(`d.state in (${f.states.map((_, i) => `@s${i}`).join(', ')})`);
      f.states.forEach((s, i) => (p[`s${i}`] = s));
    }
    if (f.grade !== undefined) (w.push('d.grade = @grade'), (p.grade = f.grade));
    if (f.overdue === true) (w.push("d.state = 'open' and d.deadline < @at"), (p.at = at));
    if (f.overdue === false) (w.push("not (d.state = 'open' and d.deadline < @at)"), (p.at = at));
    if (f.from !== undefined) (w.push('d.created_at >= @from'), (p.from = f.from));
    if (f.to !== undefined) (w.push('d.created_at < @to'), (p.to = f.to));
    return { sql: w.length ? ` where ${w.join(' and ')}` : '', params: p };
  };

  const read = async (sql: Sql, id: string): Promise<Danger | undefined> => {
    const row = await sql.get<Row>(`${SELECT} where d.id = @id`, { id });
    return row ? toDanger(row, now()) : undefined;
  };
  const mustRead = async (sql: Sql, id: string): Promise<Danger> => {
    const d = await read(sql, id);
    if (!d) throw new HazwatchError('HW_ERR_NOT_FOUND', `no hidden danger ${id}`);
    return d;
  };
  const append = async (sql: Sql, id: string, at: number, action: DangerAction, by: string, state: DangerState, note: string | null, data: Record<string, unknown> | null): Promise<DangerHistoryEntry> => {
    await sql.run('insert into danger_history (danger_id, at, action, by_user, state, note, data) values (@id, @at, @action, @by, @state, @note, @data)', {
      id,
      at,
      action,
      by,
      state,
      note,
      data: data ? JSON.stringify(data) : null,
    });
    const row = await sql.get<HistoryRow>('select * from danger_history where danger_id = @id order by seq desc limit 1', { id });
    return toEntry(row!);
  };
  /** One change: checks the danger in the transaction, applies `fn`, records the history entry. */
  const change = (id: string, fn: (sql: Sql, d: Danger, at: number) => Promise<{ action: DangerAction; by: string; note?: string | null; data?: Record<string, unknown> | null }>) =>
    db.write(async (sql): Promise<DangerChange> => {
      const at = now();
      const before = await mustRead(sql, id);
      const r = await fn(sql, before, at);
      await sql.run('update dangers set updated_at = @at where id = @id', { at, id });
      const danger = await mustRead(sql, id);
      const entry = await append(sql, id, at, r.action, r.by, danger.state, r.note ?? null, r.data ?? null);
      return { danger, change: entry };
    });
  const note = (n: string | undefined) => (n?.trim() ? n.trim() : null);

  const store = {
    where: db.where,
    dialect: db.dialect,

    async create(input: NewDanger, by: string): Promise<DangerChange> {
      return db.write(async (sql) => {
        const at = now();
        const id = newId(at);
        await sql.run(
          `insert into dangers (id, enterprise, hazard_source, device, alarm_id, origin, title, description, grade, responsible_name, responsible_phone, deadline, state,
             created_by, created_at, updated_at, escalated_tier, next_escalation_at)
           values (@id, @enterprise, @hazardSource, @device, @alarmId, @origin, @title, @description, @grade, @name, @phone, @deadline, 'open', @by, @at, @at, 0, @next)`,
          { ...input, id, name: input.responsible.name, phone: input.responsible.phone, by, at, next: tierDueAt(1, input.deadline, input.grade, esc) },
        );
        const entry = await append(sql, id, at, 'opened', by, 'open', null, { grade: input.grade, deadline: input.deadline, origin: input.origin, ...(input.alarmId ? { alarmId: input.alarmId } : {}) });
        return { danger: (await read(sql, id))!, change: entry };
      });
    },

    async get(id: string): Promise<Danger | undefined> {
      return read(db, id);
    },

    async list(filter: DangerFilter = {}): Promise<Danger[]> {
      const at = now();
      const w = where(filter, at);
      const limit = Math.min(filter.limit ?? 100, 1000);
      const rows = await db.all<Row>(`${SELECT}${w.sql} order by d.created_at desc, d.id limit ${limit} offset ${Math.max(0, filter.offset ?? 0)}`, w.params);
      return rows.map((r) => toDanger(r, at));
    },

    async count(filter: Omit<DangerFilter, 'limit' | 'offset'> = {}): Promise<number> {
      const w = where(filter, now());
      return Number((await db.get<{ n: number }>(`select count(*) as n from dangers d${w.sql}`, w.params))!.n);
    },

    /** Append-only history, oldest first. */
    async history(id: string): Promise<DangerHistoryEntry[]> {
      return (await db.all<HistoryRow>('select * from danger_history where danger_id = @id order by seq', { id })).map(toEntry);
    },

    /** The evidence of a danger without the bytes, oldest first. */
    async evidence(id: string): Promise<Evidence[]> {
      return (await db.all<EvidenceRow>('select id, danger_id, name, content_type, size, sha256, by_user, at from danger_evidence where danger_id = @id order by id', { id })).map(toEvidence);
    },

    async evidenceFile(dangerId: string, evidenceId: number): Promise<{ evidence: Evidence; bytes: Buffer } | undefined> {
      const row = await db.get<EvidenceRow & { bytes: Buffer | Uint8Array }>('select * from danger_evidence where danger_id = @dangerId and id = @evidenceId', { dangerId, evidenceId });
      return row ? { evidence: toEvidence(row), bytes: Buffer.from(row.bytes) } : undefined;
    },

    /** Keeps a photo or file proving the rectification, while the danger is open or waiting for its recheck. */
    async addEvidence(id: string, file: { name: string; contentType: EvidenceType; bytes: Buffer; sha256: string }, by: string): Promise<DangerChange & { evidence: Evidence }> {
      let added: Evidence | undefined;
      const result = await change(id, async (sql, d, at) => {
        if (d.state !== 'open' && d.state !== 'rectified') throw transition(`hidden danger ${id} is ${d.state}: evidence is added while it is open or waiting for its recheck`);
        await sql.run('insert into danger_evidence (danger_id, name, content_type, size, sha256, by_user, at, bytes) values (@id, @name, @type, @size, @sha, @by, @at, @bytes)', {
          id,
          name: file.name,
          type: file.contentType,
          size: file.bytes.length,
          sha: file.sha256,
          by,
          at,
          bytes: file.bytes,
        });
        const row = await sql.get<EvidenceRow>('select id, danger_id, name, content_type, size, sha256, by_user, at from danger_evidence where danger_id = @id order by id desc limit 1', { id });
        added = toEvidence(row!);
        return { action: 'evidence_added', by, data: { evidence: added.id, name: added.name, contentType: added.contentType, size: added.size, sha256: added.sha256 } };
      });
      return { ...result, evidence: added! };
    },

    /** Rectification done: needs evidence added since it was (re)opened. */
    async rectify(id: string, by: string, text?: string): Promise<DangerChange> {
      return change(id, async (sql, d, at) => {
        if (d.state !== 'open') throw transition(`hidden danger ${id} is ${d.state}: only an open one is marked rectified`);
        const fresh = await sql.get<{ n: number }>(
          `select count(*) as n from danger_history where danger_id = @id and action = 'evidence_added'
             and seq > coalesce((select max(seq) from danger_history where danger_id = @id and action = 'recheck_failed'), 0)`,
          { id },
        );
        if (!Number(fresh!.n)) throw new HazwatchError('HW_ERR_DANGER_NO_EVIDENCE', `hidden danger ${id}: add a photo or a file showing the rectification first${d.evidenceCount ? ' (the recheck failed since the last one)' : ''}`);
        await sql.run("update dangers set state = 'rectified', rectified_by = @by, rectified_at = @at, next_escalation_at = null where id = @id", { id, by, at });
        return { action: 'rectified', by, note: note(text) };
      });
    },

    /**
     * The recheck (回头看) by another account than the one that marked it rectified: passed, it waits
     * to be closed; failed, it is open again with a new deadline (and its escalation starts over).
     */
    async recheck(id: string, by: string, result: { passed: boolean; note?: string; deadline?: number }): Promise<DangerChange> {
      return change(id, async (sql, d, at) => {
        if (d.state !== 'rectified') throw transition(`hidden danger ${id} is ${d.state}: only a rectified one is rechecked`);
        if (d.rectifiedBy === by) throw new HazwatchError('HW_ERR_DANGER_SAME_ACCOUNT', `hidden danger ${id} was marked rectified by ${by}: another account rechecks it`);
        if (result.passed) {
          await sql.run("update dangers set state = 'rechecked' where id = @id", { id });
          return { action: 'recheck_passed', by, note: note(result.note) };
        }
        const deadline = result.deadline;
        if (deadline === undefined || deadline <= at) throw new HazwatchError('HW_ERR_VALIDATION', 'body.deadline: a failed recheck sets a new deadline in the future', { field: 'body.deadline' });
        await sql.run("update dangers set state = 'open', deadline = @deadline, escalated_tier = 0, next_escalation_at = @next, rectified_by = null, rectified_at = null where id = @id", {
          id,
          deadline,
          next: tierDueAt(1, deadline, d.grade, esc),
        });
        return { action: 'recheck_failed', by, note: note(result.note), data: { deadline, previousDeadline: d.deadline } };
      });
    },

    /** Closure (闭环) once its recheck has passed. */
    async closeDanger(id: string, by: string, text?: string): Promise<DangerChange> {
      return change(id, async (sql, d, at) => {
        if (d.state !== 'rechecked') throw transition(`hidden danger ${id} is ${d.state}: it is closed after its recheck passed`);
        await sql.run("update dangers set state = 'closed', closed_by = @by, closed_at = @at where id = @id", { id, by, at });
        return { action: 'closed', by, note: note(text) };
      });
    },

    /** A new deadline for an open danger; its escalation starts over from it. */
    async changeDeadline(id: string, by: string, deadline: number, text: string): Promise<DangerChange> {
      return change(id, async (sql, d, at) => {
        if (d.state !== 'open') throw transition(`hidden danger ${id} is ${d.state}: the deadline of an open one is changed`);
        if (deadline <= at) throw new HazwatchError('HW_ERR_VALIDATION', 'body.deadline: the new deadline must lie in the future', { field: 'body.deadline' });
        await sql.run('update dangers set deadline = @deadline, escalated_tier = 0, next_escalation_at = @next where id = @id', { id, deadline, next: tierDueAt(1, deadline, d.grade, esc) });
        return { action: 'deadline_changed', by, note: note(text), data: { deadline, previousDeadline: d.deadline } };
      });
    },

    /**
     * Open dangers past their deadline whose next tier is due: each tier recorded once, in one write
     * transaction, so that several API nodes running this at the same moment escalate each tier once
     * (the second finds it done). A danger overdue for long may reach both tiers in one call.
     */
    async escalateOverdue(at: number = now()): Promise<Escalation[]> {
      return db.write(async (sql) => {
        const due = await sql.all<Row>(`${SELECT} where d.state = 'open' and d.next_escalation_at is not null and d.next_escalation_at <= @at and d.escalated_tier < @max order by d.next_escalation_at, d.id`, {
          at,
          max: MAX_TIER,
        });
        const out: Escalation[] = [];
        for (const row of due) {
          let d = toDanger(row, at);
          while (d.nextEscalationAt !== null && d.nextEscalationAt <= at && d.escalatedTier < MAX_TIER) {
            const tier = d.escalatedTier + 1;
            const next = tier < MAX_TIER ? tierDueAt(tier + 1, d.deadline, d.grade, esc) : null;
            await sql.run('update dangers set escalated_tier = @tier, next_escalation_at = @next, updated_at = @at where id = @id', { id: d.id, tier, next, at });
            await append(sql, d.id, at, 'escalated', 'system', d.state, null, { tier, deadline: d.deadline, overdueMs: at - d.deadline });
            d = { ...d, escalatedTier: tier, nextEscalationAt: next, updatedAt: at };
            out.push({ danger: d, tier });
          }
        }
        return out;
      });
    },

    close: () => db.close(),
  };
  return store;
}
