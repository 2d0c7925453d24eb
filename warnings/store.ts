// The warning store: warnings and their append-only history, on SQLite (<dataDir>/warnings.db) or the
// deployment's PostgreSQL. Every change is one write transaction that checks the state it starts from,
// so two supervisors approving at once give one publication and one refusal.
import { randomBytes } from 'node:crypto';
import { HazwatchError } from '../contract/errors.ts';
import type { Logger } from '../core/log.ts';
import { openDatabase, type Schema, type Sql, type SqlDatabase } from '../core/sql.ts';
import type { Recipient, Warning, WarningAction, WarningDraft, WarningHistoryEntry, WarningState } from './model.ts';

const SCHEMA: Schema = {
  tables: `
create table if not exists warnings (
  id text primary key,
  level integer not null,
  title text not null,
  text text not null,
  text_en text not null default '',
  enterprises text not null default '[]',
  area text not null default '',
  audiences text not null,
  alarm_id text,
  state text not null,
  revisions integer not null default 0,
  queued_revisions integer not null default 0,
  created_by text not null,
  created_at bigint not null,
  updated_at bigint not null,
  submitted_by text,
  approved_by text,
  published_at bigint,
  cleared_at bigint,
  recipients text not null default '[]'
);
create index if not exists warnings_created on warnings (created_at);
create index if not exists warnings_state on warnings (state);
create table if not exists warning_history (
  seq {serial},
  warning_id text not null,
  at bigint not null,
  by_user text not null,
  action text not null,
  note text,
  data text
);
create index if not exists warning_history_warning on warning_history (warning_id);
`,
  appendOnly: [{ table: 'warning_history', what: 'the warning history' }],
};

type Row = {
  id: string;
  level: number;
  title: string;
  text: string;
  text_en: string;
  enterprises: string;
  area: string;
  audiences: string;
  alarm_id: string | null;
  state: WarningState;
  revisions: number;
  queued_revisions: number;
  created_by: string;
  created_at: number;
  updated_at: number;
  submitted_by: string | null;
  approved_by: string | null;
  published_at: number | null;
  cleared_at: number | null;
  recipients: string;
};

const num = (v: number | null) => (v === null ? null : Number(v));

function toWarning(r: Row): Warning {
  return {
    id: r.id,
    level: r.level as Warning['level'],
    title: r.title,
    text: r.text,
    textEn: r.text_en,
    enterprises: JSON.parse(r.enterprises),
    area: r.area,
    audiences: JSON.parse(r.audiences),
    alarmId: r.alarm_id,
    state: r.state,
    revisions: r.revisions,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
    submittedBy: r.submitted_by,
    approvedBy: r.approved_by,
    publishedAt: num(r.published_at),
    clearedAt: num(r.cleared_at),
    recipients: JSON.parse(r.recipients),
  };
}

export interface WarningFilter {
  states?: WarningState[];
  /** Only warnings concerning this enterprise (enterprise users' scope). */
  enterprise?: string;
  /** Only warnings concerning one of these enterprises, or drafted by `orCreatedBy` (a jurisdiction's scope). */
  concerning?: { enterprises: readonly string[]; orCreatedBy?: string };
  from?: number;
  to?: number;
  limit?: number;
  offset?: number;
}

/** A publication to queue: the revision and its text, to the warning's recipients. */
export interface Publication {
  warning: Warning;
  revision: number;
  kind: 'published' | 'updated' | 'all_clear';
  title: string;
  text: string;
}

export async function openWarningStore(target: string, options: { now?: () => number; log?: Logger } = {}) {
  const now = options.now ?? Date.now;
  const db: SqlDatabase = await openDatabase(target, { lock: 'hazwatch-warnings', log: options.log, schema: SCHEMA });

  const getRow = (sql: Sql, id: string) => sql.get<Row>('select * from warnings where id = ?', [id]);
  async function record(sql: Sql, id: string, by: string, action: WarningAction, note: string | null, data: Record<string, unknown> | null) {
    await sql.run('insert into warning_history (warning_id, at, by_user, action, note, data) values (?, ?, ?, ?, ?, ?)', [id, now(), by, action, note, data ? JSON.stringify(data) : null]);
  }
  /** Loads a warning for a change, refusing unless it is in one of `from`. */
  async function load(sql: Sql, id: string, from: WarningState[], doing: string): Promise<Warning> {
    const row = await getRow(sql, id);
    if (!row) throw new HazwatchError('HW_ERR_NOT_FOUND', `warning ${id} does not exist`);
    if (!from.includes(row.state)) throw new HazwatchError('HW_ERR_WARNING_STATE', `warning ${id} is ${row.state}: cannot ${doing} (only when ${from.join(' or ')})`);
    return toWarning(row);
  }
  async function publication(sql: Sql, w: Warning, kind: Publication['kind'], title: string, text: string, by: string, note: string | null, extra: Record<string, unknown> = {}): Promise<Publication> {
    const revision = w.revisions + 1;
    await sql.run('update warnings set revisions = ?, updated_at = ? where id = ?', [revision, now(), w.id]);
    await record(sql, w.id, by, kind, note, { revision, title, text, ...extra });
    return { warning: { ...w, revisions: revision }, revision, kind, title, text };
  }

  const store = {
    where: db.where,

    async create(d: WarningDraft, by: string): Promise<Warning> {
      const t = now();
      const id = `W${new Date(t).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
      await db.write(async (sql) => {
        await sql.run(
          `insert into warnings (id, level, title, text, text_en, enterprises, area, audiences, alarm_id, state, created_by, created_at, updated_at)
           values (?, ?, ?, ?, ?, ?, ?, ?, ?, 'draft', ?, ?, ?)`,
          [id, d.level, d.title, d.text, d.textEn, JSON.stringify(d.enterprises), d.area, JSON.stringify(d.audiences), d.alarmId, by, t, t],
        );
        await record(sql, id, by, 'drafted', null, d.alarmId ? { alarmId: d.alarmId } : null);
      });
      return (await store.get(id))!;
    },

    async edit(id: string, d: WarningDraft, by: string): Promise<Warning> {
      await db.write(async (sql) => {
        await load(sql, id, ['draft', 'rejected'], 'edit');
        await sql.run('update warnings set level = ?, title = ?, text = ?, text_en = ?, enterprises = ?, area = ?, audiences = ?, alarm_id = ?, state = ?, updated_at = ? where id = ?', [
          d.level,
          d.title,
          d.text,
          d.textEn,
          JSON.stringify(d.enterprises),
          d.area,
          JSON.stringify(d.audiences),
          d.alarmId,
          'draft',
          now(),
          id,
        ]);
        await record(sql, id, by, 'edited', null, null);
      });
      return (await store.get(id))!;
    },

    /**
     * Submits a draft: waits for approval when its level needs it, else is published at once with
     * these recipients (resolved by the caller just before). Returns the publication to queue, if any.
     */
    async submit(id: string, by: string, needsApproval: boolean, recipients: () => Promise<Recipient[]>): Promise<Publication | null> {
      const resolved = needsApproval ? [] : await recipients();
      return db.write(async (sql) => {
        const w = await load(sql, id, ['draft', 'rejected'], 'submit');
        await record(sql, id, by, 'submitted', null, null);
        if (needsApproval) {
          await sql.run("update warnings set state = 'pending_approval', submitted_by = ?, updated_at = ? where id = ?", [by, now(), id]);
          return null;
        }
        await sql.run("update warnings set state = 'published', submitted_by = ?, published_at = ?, recipients = ?, updated_at = ? where id = ?", [by, now(), JSON.stringify(resolved), now(), id]);
        return publication(sql, { ...w, state: 'published', recipients: resolved }, 'published', w.title, w.text, by, null, { recipients: resolved.length });
      });
    },

    /** Four-eyes: the approver may not be who drafted or submitted it. */
    async approve(id: string, by: string, note: string | null, recipients: () => Promise<Recipient[]>): Promise<Publication> {
      const resolved = await recipients();
      return db.write(async (sql) => {
        const w = await load(sql, id, ['pending_approval'], 'approve');
        if (by === w.submittedBy || by === w.createdBy) throw new HazwatchError('HW_ERR_FOUR_EYES', `warning ${id} was drafted or submitted by ${by}: another supervisor must approve it`);
        await record(sql, id, by, 'approved', note, null);
        await sql.run("update warnings set state = 'published', approved_by = ?, published_at = ?, recipients = ?, updated_at = ? where id = ?", [by, now(), JSON.stringify(resolved), now(), id]);
        return publication(sql, { ...w, state: 'published', approvedBy: by, recipients: resolved }, 'published', w.title, w.text, by, note, { recipients: resolved.length });
      });
    },

    async reject(id: string, by: string, note: string): Promise<Warning> {
      await db.write(async (sql) => {
        await load(sql, id, ['pending_approval'], 'reject');
        await sql.run("update warnings set state = 'rejected', updated_at = ? where id = ?", [now(), id]);
        await record(sql, id, by, 'rejected', note, null);
      });
      return (await store.get(id))!;
    },

    async withdraw(id: string, by: string, note: string | null): Promise<Warning> {
      await db.write(async (sql) => {
        await load(sql, id, ['draft', 'rejected', 'pending_approval'], 'withdraw');
        await sql.run("update warnings set state = 'withdrawn', updated_at = ? where id = ?", [now(), id]);
        await record(sql, id, by, 'withdrawn', note, null);
      });
      return (await store.get(id))!;
    },

    /** An update to a published warning, to the same recipients. */
    async update(id: string, by: string, o: { text: string; textEn?: string; level?: Warning['level'] }): Promise<Publication> {
      return db.write(async (sql) => {
        const w = await load(sql, id, ['published'], 'update');
        const level = o.level ?? w.level;
        await sql.run('update warnings set level = ?, text = ?, text_en = ? where id = ?', [level, o.text, o.textEn ?? w.textEn, id]);
        return publication(sql, { ...w, level, text: o.text }, 'updated', w.title, o.text, by, null, { level });
      });
    },

    /** The all-clear (解除): the last message, to the same recipients. */
    async allClear(id: string, by: string, text: string): Promise<Publication> {
      return db.write(async (sql) => {
        const w = await load(sql, id, ['published'], 'declare the all-clear for');
        await sql.run("update warnings set state = 'all_clear', cleared_at = ? where id = ?", [now(), id]);
        return publication(sql, { ...w, state: 'all_clear' }, 'all_clear', w.title, text, by, null);
      });
    },

    /** Remembers that the deliveries of revisions up to `revision` are queued. */
    async queued(id: string, revision: number): Promise<void> {
      await db.write((sql) => sql.run('update warnings set queued_revisions = ? where id = ? and queued_revisions < ?', [revision, id, revision]));
    },

    /** Publications recorded but not yet queued (a crash between the two): queue them again. */
    async unqueued(): Promise<Publication[]> {
      const rows = await db.all<Row>('select * from warnings where queued_revisions < revisions');
      const out: Publication[] = [];
      for (const r of rows) {
        const hist = await store.history(r.id);
        for (const h of hist) {
          const rev = Number(h.data?.revision ?? 0);
          if (!rev || rev <= r.queued_revisions) continue;
          out.push({ warning: toWarning(r), revision: rev, kind: h.action as Publication['kind'], title: String(h.data?.title ?? r.title), text: String(h.data?.text ?? r.text) });
        }
      }
      return out;
    },

    async get(id: string): Promise<Warning | undefined> {
      const row = await db.get<Row>('select * from warnings where id = ?', [id]);
      return row ? toWarning(row) : undefined;
    },

    async list(f: WarningFilter = {}): Promise<Warning[]> {
      const where: string[] = [];
      const params: unknown[] = [];
      if (f.states?.length) {
        where.push(`state in (${f.states.map(() => '?').join(',')})`);
        params.push(...f.states);
      }
      if (f.enterprise) {
        // enterprises is a JSON array of ids: match the quoted id.
        where.push('enterprises like ?');
        params.push(`%${JSON.stringify(f.enterprise)}%`);
      }
      if (f.concerning) {
        const any = f.concerning.enterprises.map(() => 'enterprises like ?');
        params.push(...f.concerning.enterprises.map((e) => `%${JSON.stringify(e)}%`));
        if (f.concerning.orCreatedBy) (any.push('created_by = ?'), params.push(f.concerning.orCreatedBy));
        where.push(any.length ? `(${any.join(' or ')})` : '1 = 0');
      }
      if (f.from !== undefined) (where.push('created_at >= ?'), params.push(f.from));
      if (f.to !== undefined) (where.push('created_at < ?'), params.push(f.to));
      const rows = await db.all<Row>(`select * from warnings ${where.length ? `where ${where.join(' and ')}` : ''} order by created_at desc, id desc limit ? offset ?`, [
        ...params,
        Math.min(f.limit ?? 100, 1000),
        f.offset ?? 0,
      ]);
      return rows.map(toWarning);
    },

    async history(id: string): Promise<WarningHistoryEntry[]> {
      const rows = await db.all<{ seq: number; warning_id: string; at: number; by_user: string; action: WarningAction; note: string | null; data: string | null }>(
        'select * from warning_history where warning_id = ? order by seq',
        [id],
      );
      return rows.map((r) => ({ seq: Number(r.seq), warningId: r.warning_id, at: Number(r.at), by: r.by_user, action: r.action, note: r.note, data: r.data ? JSON.parse(r.data) : null }));
    },

    close: () => db.close(),
  };
  return store;
}

export type WarningStore = Awaited<ReturnType<typeof openWarningStore>>;
