// The alarm store, on SQLite (one file, WAL, shared by the processes of one machine) or PostgreSQL
// (shared by every node): the rules processes raise, escalate, clear and publish; the API processes
// record operator actions. Every change is one row in an append-only history whose global `seq` is the
// outbox the rules process publishes from: writers take turns (core/sql.ts), so a change made by any
// process is published exactly in commit order, and a crash never loses one.
import { randomUUID } from 'node:crypto';
import {
  ALARM_LEVELS,
  type Alarm,
  type AlarmAction,
  type AlarmCondition,
  type AlarmEventPayload,
  type AlarmHistoryEntry,
  type AlarmLevel,
  type AlarmState,
  type MaintenanceWindow,
} from '../contract/alarms.ts';
import { HazwatchError } from '../contract/errors.ts';
import type { Logger } from '../core/log.ts';
import { openDatabase, type Schema, type Sql, type SqlDatabase } from '../core/sql.ts';
import type {
  AlarmFilter,
  AlarmStore,
  LevelChangeInput,
  MaintenanceFilter,
  PendingStage,
} from './store-types.ts';

export type { AlarmStore } from './store-types.ts';

export const SYSTEM = 'system';

const SCHEMA: Schema = {
  tables: `
create table if not exists alarms (
  id text primary key,
  enterprise text not null,
  device text not null,
  device_class text not null,
  site text not null default '',
  hazard_source text,
  condition text not null,
  level integer not null,
  peak_level integer not null,
  state text not null,
  active integer not null,
  acked integer not null default 0,
  oos integer not null default 0,
  maintenance_id text,
  shelved_until bigint,
  metric text,
  value text,
  threshold double precision,
  message text not null,
  message_zh text,
  raised_at bigint not null,
  updated_at bigint not null,
  acknowledged_at bigint,
  acknowledged_by text,
  cleared_at bigint,
  closed_at bigint,
  closed_by text,
  cause text,
  parent_id text,
  snapshot text
);
-- One instance per device and condition while the condition lasts: the database itself refuses a duplicate.
create unique index if not exists alarms_one_active on alarms(enterprise, device, condition) where active = 1;
create index if not exists alarms_raised on alarms(raised_at);
create index if not exists alarms_enterprise on alarms(enterprise, raised_at);
create index if not exists alarms_device on alarms(enterprise, device, raised_at);
create index if not exists alarms_open on alarms(state) where state <> 'closed';

create table if not exists history (
  seq {serial},
  alarm_id text not null,
  at bigint not null,
  action text not null,
  by text not null,
  level integer not null,
  state text not null,
  value text,
  note text,
  data text,
  alarm text not null
);
create index if not exists history_alarm on history(alarm_id, seq);

create table if not exists maintenance (
  id text primary key,
  enterprise text not null,
  device text not null,
  condition text,
  by text not null,
  reason text not null,
  from_ts bigint not null,
  until_ts bigint not null,
  ended_at bigint,
  ended_by text
);
create index if not exists maintenance_open on maintenance(until_ts) where ended_at is null;

-- The rules engine's stages on their way up ("2 samples in a row", on-delays): a reading counted is not
-- forgotten when a rules process dies before the next one (rules/engine.ts).
create table if not exists pending_stages (
  enterprise text not null,
  device text not null,
  stages text not null,
  last_ts bigint not null,
  updated_at bigint not null,
  primary key (enterprise, device)
);

create table if not exists cursors (
  name text primary key,
  seq bigint not null
);

create table if not exists notify_queue (
  id {serial},
  channel text not null,
  alarm_id text not null,
  seq bigint not null,
  tier integer not null,
  kind text not null,
  payload text not null,
  attempts integer not null default 0,
  next_at bigint not null,
  created_at bigint not null,
  last_error text
);
create index if not exists notify_due on notify_queue(channel, next_at);
`,
  appendOnly: [{ table: 'history', what: 'alarm history' }],
  // Stores made before rule files could give a Chinese line.
  addedColumns: [
    ['alarms', 'message_zh', 'text'],
    // Stores made before consequential alarms were grouped under their cause (issue 19).
    ['alarms', 'parent_id', 'text'],
    // Stores made before camera events carried a snapshot (issue 17).
    ['alarms', 'snapshot', 'text'],
    // Stores made before maintenance could be planned ahead (issue 15): 1 until the window has started.
    ['maintenance', 'planned', 'integer not null default 0'],
  ],
  afterColumns: 'create index if not exists alarms_parent on alarms(parent_id) where parent_id is not null;',
};

type AlarmRow = {
  id: string;
  enterprise: string;
  device: string;
  device_class: string;
  site: string;
  hazard_source: string | null;
  condition: string;
  level: number;
  peak_level: number;
  state: AlarmState;
  active: number;
  acked: number;
  oos: number;
  maintenance_id: string | null;
  shelved_until: number | null;
  metric: string | null;
  value: string | null;
  threshold: number | null;
  message: string;
  message_zh: string | null;
  raised_at: number;
  updated_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  cleared_at: number | null;
  closed_at: number | null;
  closed_by: string | null;
  cause: string | null;
  parent_id: string | null;
  snapshot: string | null;
};

type HistoryRow = {
  seq: number;
  alarm_id: string;
  at: number;
  action: AlarmAction;
  by: string;
  level: number;
  state: AlarmState;
  value: string | null;
  note: string | null;
  data: string | null;
  alarm: string;
};

type MaintenanceRow = {
  id: string;
  enterprise: string;
  device: string;
  condition: string | null;
  by: string;
  reason: string;
  from_ts: number;
  until_ts: number;
  ended_at: number | null;
  ended_by: string | null;
  /** 1 while a window planned ahead has not started: its alarms are taken out of service when it does. */
  planned?: number;
};

/** The state follows from the flags: closed > out of service > shelved > active/cleared × acknowledged. */
function deriveState(row: Pick<AlarmRow, 'closed_at' | 'oos' | 'shelved_until' | 'active' | 'acked'>): AlarmState {
  if (row.closed_at !== null) return 'closed';
  if (row.oos) return 'out_of_service';
  if (row.shelved_until !== null) return 'shelved';
  if (row.active) return row.acked ? 'active_acknowledged' : 'active_unacknowledged';
  return row.acked ? 'cleared_acknowledged' : 'cleared_unacknowledged';
}

function encodeValue(value: number | boolean | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

function decodeValue(text: string | null): number | boolean | null {
  return text === null ? null : (JSON.parse(text) as number | boolean);
}

function toAlarm(row: AlarmRow): Alarm {
  return {
    id: row.id,
    enterprise: row.enterprise,
    device: row.device,
    deviceClass: row.device_class,
    site: row.site,
    hazardSource: row.hazard_source,
    condition: row.condition as AlarmCondition,
    level: row.level as AlarmLevel,
    peakLevel: row.peak_level as AlarmLevel,
    state: row.state,
    metric: row.metric,
    value: decodeValue(row.value),
    threshold: row.threshold,
    message: row.message,
    messageZh: row.message_zh,
    raisedAt: row.raised_at,
    updatedAt: row.updated_at,
    acknowledgedAt: row.acknowledged_at,
    acknowledgedBy: row.acknowledged_by,
    clearedAt: row.cleared_at,
    closedAt: row.closed_at,
    closedBy: row.closed_by,
    shelvedUntil: row.shelved_until,
    cause: row.cause as Alarm['cause'],
    parentId: row.parent_id,
    snapshot: row.snapshot,
  };
}

function toPayload(row: HistoryRow): AlarmEventPayload {
  return {
    alarm: JSON.parse(row.alarm) as Alarm,
    change: {
      alarmId: row.alarm_id,
      seq: row.seq,
      at: row.at,
      action: row.action,
      by: row.by,
      level: row.level as AlarmLevel,
      state: row.state,
      value: decodeValue(row.value),
      note: row.note,
      data: row.data === null ? null : (JSON.parse(row.data) as Record<string, unknown>),
    },
  };
}

function toWindow(row: MaintenanceRow): MaintenanceWindow {
  return {
    id: row.id,
    enterprise: row.enterprise,
    device: row.device,
    condition: row.condition as AlarmCondition | null,
    by: row.by,
    reason: row.reason,
    from: row.from_ts,
    until: row.until_ts,
    endedAt: row.ended_at,
    endedBy: row.ended_by,
  };
}

function transition(action: string, alarm: AlarmRow, why: string): HazwatchError {
  return new HazwatchError('HW_ERR_ALARM_TRANSITION', `cannot ${action} alarm ${alarm.id} (${alarm.state}): ${why}`, { id: alarm.id, state: alarm.state, action });
}

export interface AlarmStoreOptions {
  now?: () => number;
  /** Longest time an alarm may be shelved (ISA-18.2: shelving is always time-limited). Default 24 h. */
  maxShelveMs?: number;
  log?: Logger;
  /** How long a change is retried while PostgreSQL is unreachable (default 60 s). */
  retryForMs?: number;
}

const UPDATE = `update alarms set level = @level, peak_level = @peak_level, state = @state, active = @active, acked = @acked, oos = @oos,
    maintenance_id = @maintenance_id, shelved_until = @shelved_until, value = @value, threshold = @threshold, message = @message, message_zh = @message_zh,
    updated_at = @updated_at, acknowledged_at = @acknowledged_at, acknowledged_by = @acknowledged_by, cleared_at = @cleared_at,
    closed_at = @closed_at, closed_by = @closed_by, cause = @cause, parent_id = @parent_id, snapshot = @snapshot
  where id = @id`;
const INSERT = `insert into alarms (id, enterprise, device, device_class, site, hazard_source, condition, level, peak_level, state, active,
    metric, value, threshold, message, message_zh, raised_at, updated_at, parent_id, snapshot)
  values (@id, @enterprise, @device, @device_class, @site, @hazard_source, @condition, @level, @peak_level, @state, 1,
    @metric, @value, @threshold, @message, @message_zh, @raised_at, @updated_at, @parent_id, @snapshot)`;
const APPEND = `insert into history (alarm_id, at, action, by, level, state, value, note, data, alarm)
  values (@alarm_id, @at, @action, @by, @level, @state, @value, @note, @data, @alarm) returning *`;
const ACTIVE = 'select * from alarms where enterprise = ? and device = ? and condition = ? and active = 1';

/**
 * Opens (creating or migrating if needed) the alarm store: a SQLite file that several processes of one
 * machine may open, or a PostgreSQL database (postgres://...) that processes on every node share.
 */
export async function openAlarmStore(target: string, options: AlarmStoreOptions = {}): Promise<AlarmStore> {
  const db = await openDatabase(target, { lock: 'alarms', log: options.log, retryForMs: options.retryForMs, schema: SCHEMA });
  return alarmStoreOn(db, options);
}

function alarmStoreOn(db: SqlDatabase, options: AlarmStoreOptions): AlarmStore {
  const now = options.now ?? Date.now;
  const maxShelveMs = options.maxShelveMs ?? 24 * 3_600_000;

  async function load(sql: Sql, id: string): Promise<AlarmRow> {
    const row = await sql.get<AlarmRow>('select * from alarms where id = ?', [id]);
    if (!row) throw new HazwatchError('HW_ERR_NOT_FOUND', `no alarm ${id}`, { id });
    return row;
  }

  /** Writes the new row and one history entry in the caller's transaction; returns the published change. */
  async function commit(
    sql: Sql,
    before: AlarmRow,
    changes: Partial<AlarmRow>,
    entry: { action: AlarmAction; by: string; at?: number; note?: string | null; data?: Record<string, unknown> | null; value?: number | boolean | null },
  ): Promise<AlarmEventPayload> {
    const at = entry.at ?? now();
    const row: AlarmRow = { ...before, ...changes };
    row.state = deriveState(row);
    if (entry.action !== 'notified' && entry.action !== 'escalated_notification') {
      row.updated_at = Math.max(at, before.updated_at);
      await sql.run(UPDATE, row);
    }
    const appended = await sql.get<HistoryRow>(APPEND, {
      alarm_id: row.id,
      at,
      action: entry.action,
      by: entry.by,
      level: row.level,
      state: row.state,
      value: entry.value !== undefined ? encodeValue(entry.value) : row.value,
      note: entry.note ?? null,
      data: entry.data ? JSON.stringify(entry.data) : null,
      alarm: JSON.stringify(toAlarm(row)),
    });
    return toPayload(appended!);
  }

  function requireText(what: string, text: string | undefined): string {
    if (typeof text !== 'string' || text.trim() === '') throw new HazwatchError('HW_ERR_VALIDATION', `${what} is required`);
    return text.trim();
  }

  async function changeLevelIn(sql: Sql, row: AlarmRow, input: LevelChangeInput): Promise<AlarmEventPayload | undefined> {
    if (!row.active || row.level === input.level) return undefined;
    const action: AlarmAction = input.level < row.level ? 'escalated' : 'deescalated';
    return commit(
      sql,
      row,
      {
        level: input.level,
        peak_level: Math.min(row.peak_level, input.level),
        value: encodeValue(input.value),
        threshold: input.threshold,
        message: input.message,
        message_zh: input.messageZh ?? null,
        // A newer picture of what escalated it, when the event brought one.
        snapshot: input.snapshot ?? row.snapshot,
      },
      { action, by: SYSTEM, at: input.at, data: { from: row.level, to: input.level, threshold: input.threshold, ...(input.rule ? { rule: input.rule } : {}) } },
    );
  }

  /** Alarms the maintenance is about are taken out of service (ISA-18.2), and given back when it ends. */
  async function startWindowIn(sql: Sql, window: MaintenanceRow, by: string, at: number): Promise<AlarmEventPayload[]> {
    const changes: AlarmEventPayload[] = [];
    const inScope = await sql.all<AlarmRow>(
      `select * from alarms where enterprise = @enterprise and device = @device and active = 1 and closed_at is null
         and (cast(@condition as text) is null or condition = @condition) order by raised_at, id`,
      { enterprise: window.enterprise, device: window.device, condition: window.condition },
    );
    for (const row of inScope) {
      changes.push(await commit(sql, row, { oos: 1, active: 0, maintenance_id: window.id, shelved_until: null }, { action: 'out_of_service', by, at, note: window.reason, data: { maintenance: window.id, until: window.until_ts } }));
    }
    if (window.planned) await sql.run('update maintenance set planned = 0 where id = ?', [window.id]);
    return changes;
  }

  async function endWindowIn(sql: Sql, window: MaintenanceRow, by: string, at: number): Promise<AlarmEventPayload[]> {
    await sql.run('update maintenance set ended_at = ?, ended_by = ? where id = ? and ended_at is null', [at, by, window.id]);
    const changes: AlarmEventPayload[] = [];
    for (const row of await sql.all<AlarmRow>('select * from alarms where maintenance_id = ? and oos = 1 and closed_at is null order by raised_at, id', [window.id])) {
      changes.push(await commit(sql, row, { oos: 0, maintenance_id: null, cleared_at: row.cleared_at ?? at }, { action: 'returned_to_service', by, at, data: { maintenance: window.id } }));
    }
    return changes;
  }

  /** `column in (...)`; an empty list matches nothing (a scope with no enterprise sees none). */
  function inOrNone(where: string[], params: unknown[], column: string, values: readonly unknown[]): void {
    if (values.length === 0) where.push('1 = 0');
    else (where.push(`${column} in (${values.map(() => '?').join(', ')})`), params.push(...values));
  }

  function listQuery(filter: AlarmFilter, count: boolean): { sql: string; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.enterprise) (where.push('enterprise = ?'), params.push(filter.enterprise));
    if (filter.enterprises) inOrNone(where, params, 'enterprise', filter.enterprises);
    if (filter.device) (where.push('device = ?'), params.push(filter.device));
    if (filter.parent) (where.push('parent_id = ?'), params.push(filter.parent));
    if (filter.topLevel) where.push('parent_id is null');
    const inList = (column: string, values: readonly unknown[] | undefined) => {
      if (!values || values.length === 0) return;
      where.push(`${column} in (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    inList('state', filter.states);
    inList('level', filter.levels?.filter((l) => (ALARM_LEVELS as readonly number[]).includes(l)));
    inList('condition', filter.conditions);
    inList('device_class', filter.deviceClasses);
    if (filter.deviceText) {
      // LIKE with its wildcards escaped; lower() on both sides: SQLite and PostgreSQL differ in case.
      where.push("lower(device) like ? escape '\\'");
      params.push(`%${filter.deviceText.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`);
    }
    if (filter.from !== undefined) (where.push('raised_at >= ?'), params.push(filter.from));
    if (filter.to !== undefined) (where.push('raised_at < ?'), params.push(filter.to));
    const clause = where.length ? ` where ${where.join(' and ')}` : '';
    if (count) return { sql: `select count(*) as n from alarms${clause}`, params };
    const limit = Math.max(1, Math.min(filter.limit ?? 100, 1000));
    const offset = Math.max(0, filter.offset ?? 0);
    return { sql: `select * from alarms${clause} order by raised_at desc, id limit ? offset ?`, params: [...params, limit, offset] };
  }

  type QueueRow = { id: number; channel: string; alarm_id: string; seq: number; tier: number; kind: string; payload: string; attempts: number; next_at: number; created_at: number };

  const store: AlarmStore = {
    async list(filter = {}) {
      const q = listQuery(filter, false);
      return (await db.all<AlarmRow>(q.sql, q.params)).map(toAlarm);
    },
    async count(filter = {}) {
      const q = listQuery(filter, true);
      return (await db.get<{ n: number }>(q.sql, q.params))!.n;
    },
    async get(id) {
      const row = await db.get<AlarmRow>('select * from alarms where id = ?', [id]);
      return row ? toAlarm(row) : undefined;
    },
    async history(id): Promise<AlarmHistoryEntry[]> {
      return (await db.all<HistoryRow>('select * from history where alarm_id = ? order by seq', [id])).map((row) => toPayload(row).change);
    },
    async historyOf(ids) {
      const out: AlarmHistoryEntry[] = [];
      for (let i = 0; i < ids.length; i += 500) {
        const chunk = ids.slice(i, i + 500);
        const rows = await db.all<HistoryRow>(`select * from history where alarm_id in (${chunk.map(() => '?').join(', ')}) order by alarm_id, seq`, chunk);
        out.push(...rows.map((row) => toPayload(row).change));
      }
      return out;
    },
    async tailHistory(afterSeq, limit = 1000) {
      return (await db.all<HistoryRow>('select * from history where seq > ? order by seq limit ?', [afterSeq, limit])).map(toPayload);
    },
    async lastSeq() {
      return (await db.get<{ seq: number }>('select coalesce(max(seq), 0) as seq from history'))!.seq;
    },

    acknowledge: (id, by, note) =>
      db.write(async (sql) => {
        const row = await load(sql, id);
        if (row.closed_at !== null) throw transition('acknowledge', row, 'it is closed');
        if (row.acked) throw transition('acknowledge', row, `already acknowledged by ${row.acknowledged_by}`);
        const at = now();
        const change = await commit(sql, row, { acked: 1, acknowledged_at: at, acknowledged_by: by }, { action: 'acknowledged', by, at, note: note ?? null });
        // The operator signs for the cause once; its consequences are signed with it, each in its own history.
        for (const child of await sql.all<AlarmRow>('select * from alarms where parent_id = ? and acked = 0 and closed_at is null order by raised_at, id', [id])) {
          await commit(sql, child, { acked: 1, acknowledged_at: at, acknowledged_by: by }, { action: 'acknowledged', by, at, note: note ?? null, data: { withCause: id } });
        }
        return change;
      }),

    feedback: (id, by, fb) =>
      db.write(async (sql) => {
        const row = await load(sql, id);
        if (row.closed_at !== null) throw transition('record feedback on', row, 'it is closed');
        const measures = requireText('measures', fb.measures);
        return commit(sql, row, { cause: fb.cause }, { action: 'feedback', by, note: fb.note ?? null, data: { cause: fb.cause, measures } });
      }),

    shelve: (id, by, until, reason) =>
      db.write(async (sql) => {
        const row = await load(sql, id);
        const at = now();
        if (row.closed_at !== null) throw transition('shelve', row, 'it is closed');
        if (row.oos) throw transition('shelve', row, 'it is out of service for maintenance');
        if (!Number.isFinite(until) || until <= at) throw new HazwatchError('HW_ERR_VALIDATION', 'shelving must end in the future');
        if (until - at > maxShelveMs) throw new HazwatchError('HW_ERR_VALIDATION', `shelving may last at most ${Math.round(maxShelveMs / 60_000)} min`);
        return commit(sql, row, { shelved_until: until }, { action: 'shelved', by, at, note: requireText('reason', reason), data: { until } });
      }),

    unshelve: (id, by) =>
      db.write(async (sql) => {
        const row = await load(sql, id);
        if (row.shelved_until === null || row.closed_at !== null) throw transition('unshelve', row, 'it is not shelved');
        return commit(sql, row, { shelved_until: null }, { action: 'unshelved', by });
      }),

    clear: (id, by, reason) =>
      db.write(async (sql) => {
        const row = await load(sql, id);
        if (!row.active) throw transition('clear', row, 'its condition is not active');
        const at = now();
        return commit(sql, row, { active: 0, cleared_at: at, shelved_until: null }, { action: 'cleared_manually', by, at, note: requireText('reason', reason) });
      }),

    closeAlarm: (id, by, note) =>
      db.write(async (sql) => {
        const row = await load(sql, id);
        if (row.closed_at !== null) throw transition('close', row, 'it is already closed');
        if (row.active) throw transition('close', row, 'its condition is still active: it clears by itself, or clear it manually with a reason first');
        const at = now();
        return commit(sql, row, { closed_at: at, closed_by: by, shelved_until: null }, { action: 'closed', by, at, note: note ?? null });
      }),

    setMaintenance: (input) =>
      db.write(async (sql) => {
        const at = now();
        const from = input.from !== undefined && input.from > at ? input.from : at;
        if (!Number.isFinite(input.until) || input.until <= from) throw new HazwatchError('HW_ERR_VALIDATION', 'maintenance must end in the future, after it starts');
        const window: MaintenanceRow = {
          id: randomUUID(),
          enterprise: input.enterprise,
          device: input.device,
          condition: input.condition ?? null,
          by: input.by,
          reason: requireText('reason', input.reason),
          from_ts: from,
          until_ts: input.until,
          ended_at: null,
          ended_by: null,
          planned: from > at ? 1 : 0,
        };
        await sql.run(
          `insert into maintenance (id, enterprise, device, condition, by, reason, from_ts, until_ts, planned)
           values (@id, @enterprise, @device, @condition, @by, @reason, @from_ts, @until_ts, @planned)`,
          window,
        );
        // A window planned ahead starts at its time (expire(), run every tick); this one now.
        if (!window.planned) await startWindowIn(sql, window, input.by, at);
        return toWindow(window);
      }),

    endMaintenance: (id, by) =>
      db.write(async (sql) => {
        const window = await sql.get<MaintenanceRow>('select * from maintenance where id = ?', [id]);
        if (!window) throw new HazwatchError('HW_ERR_NOT_FOUND', `no maintenance window ${id}`, { id });
        if (window.ended_at !== null) throw new HazwatchError('HW_ERR_ALARM_TRANSITION', `maintenance ${id} already ended`, { id });
        await endWindowIn(sql, window, by, now());
        return toWindow((await sql.get<MaintenanceRow>('select * from maintenance where id = ?', [id]))!);
      }),

    async maintenance(filter: MaintenanceFilter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.enterprise) (where.push('enterprise = ?'), params.push(filter.enterprise));
      if (filter.enterprises) inOrNone(where, params, 'enterprise', filter.enterprises);
      if (filter.device) (where.push('device = ?'), params.push(filter.device));
      if (filter.activeAt !== undefined) {
        where.push('from_ts <= ? and until_ts > ? and (ended_at is null or ended_at > ?)');
        params.push(filter.activeAt, filter.activeAt, filter.activeAt);
      }
      if (filter.currentAt !== undefined) {
        where.push('until_ts > ? and ended_at is null');
        params.push(filter.currentAt);
      }
      const clause = where.length ? ` where ${where.join(' and ')}` : '';
      return (await db.all<MaintenanceRow>(`select * from maintenance${clause} order by from_ts desc`, params)).map(toWindow);
    },

    raise: (input) =>
      db.write(async (sql) => {
        const existing = await sql.get<AlarmRow>(ACTIVE, [input.enterprise, input.device, input.condition]);
        if (existing) return changeLevelIn(sql, existing, input);
        const at = input.at;
        const row: AlarmRow = {
          id: randomUUID(),
          enterprise: input.enterprise,
          device: input.device,
          device_class: input.deviceClass,
          site: input.site,
          hazard_source: input.hazardSource,
          condition: input.condition,
          level: input.level,
          peak_level: input.level,
          state: 'active_unacknowledged',
          active: 1,
          acked: 0,
          oos: 0,
          maintenance_id: null,
          shelved_until: null,
          metric: input.metric,
          value: encodeValue(input.value),
          threshold: input.threshold,
          message: input.message,
          message_zh: input.messageZh ?? null,
          raised_at: at,
          updated_at: at,
          acknowledged_at: null,
          acknowledged_by: null,
          cleared_at: null,
          closed_at: null,
          closed_by: null,
          cause: null,
          parent_id: input.parentId ?? null,
          snapshot: input.snapshot ?? null,
        };
        await sql.run(INSERT, row);
        const raised = await commit(sql, row, {}, { action: 'raised', by: SYSTEM, at, data: input.rule ? { rule: input.rule, threshold: input.threshold } : { threshold: input.threshold } });
        if (!row.parent_id) return raised;
        // Put under its cause from the start: said in its history, never silently.
        const parent = await sql.get<AlarmRow>('select * from alarms where id = ?', [row.parent_id]);
        await commit(sql, row, {}, { action: 'grouped', by: SYSTEM, at, data: { parent: row.parent_id, parentCondition: parent?.condition ?? null } });
        return raised;
      }),

    changeLevel: (id, input) => db.write(async (sql) => changeLevelIn(sql, await load(sql, id), input)),

    clearAuto: (id, value, at, message) =>
      db.write(async (sql) => {
        const row = await load(sql, id);
        if (!row.active) return undefined;
        return commit(sql, row, { active: 0, cleared_at: at, value: encodeValue(value) }, { action: 'cleared', by: SYSTEM, at, value, note: message ?? null });
      }),

    async activeInstances() {
      return (await db.all<AlarmRow>('select * from alarms where active = 1')).map(toAlarm);
    },
    async activeFor(enterprise, device, condition) {
      const row = await db.get<AlarmRow>(ACTIVE, [enterprise, device, condition]);
      return row ? toAlarm(row) : undefined;
    },

    expire: (t) =>
      db.write(async (sql) => {
        const changes: AlarmEventPayload[] = [];
        for (const row of await sql.all<AlarmRow>('select * from alarms where shelved_until is not null and shelved_until <= ? and closed_at is null order by raised_at, id', [t])) {
          changes.push(await commit(sql, row, { shelved_until: null }, { action: 'unshelved', by: SYSTEM, at: t, note: 'shelving expired' }));
        }
        for (const window of await sql.all<MaintenanceRow>('select * from maintenance where planned = 1 and ended_at is null and from_ts <= ? and until_ts > ? order by from_ts, id', [t, t])) {
          changes.push(...(await startWindowIn(sql, window, SYSTEM, t)));
        }
        for (const window of await sql.all<MaintenanceRow>('select * from maintenance where ended_at is null and until_ts <= ? order by until_ts, id', [t])) {
          if (window.planned) await sql.run('update maintenance set planned = 0 where id = ?', [window.id]);
          changes.push(...(await endWindowIn(sql, window, SYSTEM, t)));
        }
        return changes;
      }),

    group: (id, parentId, at) =>
      db.write(async (sql) => {
        const row = await load(sql, id);
        if (row.parent_id !== null || row.closed_at !== null || id === parentId) return undefined;
        const parent = await load(sql, parentId);
        // A consequence acknowledged before it was put under its cause stays acknowledged; one not yet
        // acknowledged is signed for with the cause if the cause already was.
        const acked = !row.acked && parent.acked ? { acked: 1, acknowledged_at: at, acknowledged_by: parent.acknowledged_by } : {};
        return commit(sql, row, { parent_id: parentId, ...acked }, { action: 'grouped', by: SYSTEM, at, data: { parent: parentId, parentCondition: parent.condition } });
      }),

    corroborate: (id, input) =>
      db.write(async (sql) => {
        const row = await load(sql, id);
        if (!row.active) return undefined;
        return commit(sql, row, {}, { action: 'corroborated', by: SYSTEM, at: input.at, note: input.note ?? null, data: { rule: input.rule, condition: input.condition, event: input.event, level: input.level } });
      }),

    recordNotified: (id, action, data) => db.write(async (sql) => commit(sql, await load(sql, id), {}, { action, by: SYSTEM, data })),

    async savePending({ enterprise, device, stages, lastTs }) {
      // Outside the writers' turn (core/sql.ts): no history row, and only this device's own rules process writes it.
      if (stages.length === 0) await db.run('delete from pending_stages where enterprise = ? and device = ?', [enterprise, device]);
      else
        await db.run(
          `insert into pending_stages (enterprise, device, stages, last_ts, updated_at) values (?, ?, ?, ?, ?)
           on conflict (enterprise, device) do update set stages = excluded.stages, last_ts = excluded.last_ts, updated_at = excluded.updated_at`,
          [enterprise, device, JSON.stringify(stages), lastTs, now()],
        );
    },
    async pendingStates() {
      const rows = await db.all<{ enterprise: string; device: string; stages: string; last_ts: number }>('select enterprise, device, stages, last_ts from pending_stages');
      return rows.map((r) => ({ enterprise: r.enterprise, device: r.device, stages: JSON.parse(r.stages) as PendingStage[], lastTs: Number(r.last_ts) }));
    },
    async cursor(name) {
      return (await db.get<{ seq: number }>('select seq from cursors where name = ?', [name]))?.seq ?? 0;
    },
    async setCursor(name, seq) {
      await db.write((sql) => setCursorIn(sql, name, seq));
    },
    enqueueNotifications: (cursorName, cursorSeq, jobs) =>
      db.write(async (sql) => {
        const at = now();
        for (const job of jobs) {
          await sql.run(
            `insert into notify_queue (channel, alarm_id, seq, tier, kind, payload, next_at, created_at)
             values (@channel, @alarmId, @seq, @tier, @kind, @payload, @nextAt, @createdAt)`,
            { channel: job.channel, alarmId: job.alarmId, seq: job.seq, tier: job.tier, kind: job.kind, payload: JSON.stringify(job.payload), nextAt: job.nextAt, createdAt: at },
          );
        }
        await setCursorIn(sql, cursorName, cursorSeq);
      }),
    async dueNotifications(channel, t, limit = 100) {
      return (await db.all<QueueRow>('select * from notify_queue where channel = ? and next_at <= ? order by id limit ?', [channel, t, limit])).map((r) => ({
        id: r.id,
        channel: r.channel,
        alarmId: r.alarm_id,
        seq: r.seq,
        tier: r.tier,
        kind: r.kind,
        payload: JSON.parse(r.payload) as AlarmEventPayload,
        attempts: r.attempts,
        nextAt: r.next_at,
        createdAt: r.created_at,
      }));
    },
    async pendingNotificationChannels() {
      return (await db.all<{ channel: string }>('select distinct channel from notify_queue order by channel')).map((r) => r.channel);
    },
    finishNotifications: (ids) =>
      db.write(async (sql) => {
        for (const id of ids) await sql.run('delete from notify_queue where id = ?', [id]);
      }),
    async retryNotification(id, nextAt, error) {
      await db.write((sql) => sql.run('update notify_queue set attempts = attempts + 1, next_at = ?, last_error = ? where id = ?', [nextAt, error.slice(0, 500), id]));
    },
    async dispose() {
      await db.close();
    },
  };
  return store;
}

function setCursorIn(sql: Sql, name: string, seq: number): Promise<number> {
  return sql.run('insert into cursors (name, seq) values (?, ?) on conflict(name) do update set seq = excluded.seq', [name, seq]);
}
