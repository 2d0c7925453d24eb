// The embedded alarm store: one SQLite file (WAL) shared by the rules process (raise, escalate, clear,
// publish) and the API process (operator actions). Every change is one row in an append-only history
// whose global `seq` is the outbox the rules process publishes from, so a change made by any process is
// published exactly in commit order, and a crash never loses one.
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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
import type {
  AlarmFilter,
  AlarmStore,
  LevelChangeInput,
  MaintenanceFilter,
  MaintenanceInput,
  NotificationJob,
  RaiseInput,
} from './store-types.ts';

export type { AlarmStore } from './store-types.ts';

export const SYSTEM = 'system';

const SCHEMA = `
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
  shelved_until integer,
  metric text,
  value text,
  threshold real,
  message text not null,
  message_zh text,
  raised_at integer not null,
  updated_at integer not null,
  acknowledged_at integer,
  acknowledged_by text,
  cleared_at integer,
  closed_at integer,
  closed_by text,
  cause text
);
-- One instance per device and condition while the condition lasts: the database itself refuses a duplicate.
create unique index if not exists alarms_one_active on alarms(enterprise, device, condition) where active = 1;
create index if not exists alarms_raised on alarms(raised_at);
create index if not exists alarms_enterprise on alarms(enterprise, raised_at);
create index if not exists alarms_device on alarms(enterprise, device, raised_at);
create index if not exists alarms_open on alarms(state) where state <> 'closed';

create table if not exists history (
  seq integer primary key autoincrement,
  alarm_id text not null,
  at integer not null,
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
create trigger if not exists history_no_update before update on history begin select raise(abort, 'alarm history is append-only'); end;
create trigger if not exists history_no_delete before delete on history begin select raise(abort, 'alarm history is append-only'); end;

create table if not exists maintenance (
  id text primary key,
  enterprise text not null,
  device text not null,
  condition text,
  by text not null,
  reason text not null,
  from_ts integer not null,
  until_ts integer not null,
  ended_at integer,
  ended_by text
);
create index if not exists maintenance_open on maintenance(until_ts) where ended_at is null;

create table if not exists cursors (
  name text primary key,
  seq integer not null
);

create table if not exists notify_queue (
  id integer primary key autoincrement,
  channel text not null,
  alarm_id text not null,
  seq integer not null,
  tier integer not null,
  kind text not null,
  payload text not null,
  attempts integer not null default 0,
  next_at integer not null,
  created_at integer not null,
  last_error text
);
create index if not exists notify_due on notify_queue(channel, next_at);
`;

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
}

/** Opens (creating if needed) the SQLite alarm store; several processes may open the same file. */
export function openAlarmStore(path: string, options: AlarmStoreOptions = {}): AlarmStore {
  const now = options.now ?? Date.now;
  const maxShelveMs = options.maxShelveMs ?? 24 * 3_600_000;
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 10000');
  db.exec(SCHEMA);
  // Stores made before rule files could give a Chinese line.
  if (!(db.prepare('pragma table_info(alarms)').all() as { name: string }[]).some((c) => c.name === 'message_zh')) db.exec('alter table alarms add column message_zh text');

  const stmt = {
    get: db.prepare('select * from alarms where id = ?'),
    active: db.prepare('select * from alarms where enterprise = ? and device = ? and condition = ? and active = 1'),
    allActive: db.prepare('select * from alarms where active = 1'),
    insert: db.prepare(
      `insert into alarms (id, enterprise, device, device_class, site, hazard_source, condition, level, peak_level, state, active,
         metric, value, threshold, message, message_zh, raised_at, updated_at)
       values (@id, @enterprise, @device, @device_class, @site, @hazard_source, @condition, @level, @peak_level, @state, 1,
         @metric, @value, @threshold, @message, @message_zh, @raised_at, @updated_at)`,
    ),
    update: db.prepare(
      `update alarms set level = @level, peak_level = @peak_level, state = @state, active = @active, acked = @acked, oos = @oos,
         maintenance_id = @maintenance_id, shelved_until = @shelved_until, value = @value, threshold = @threshold, message = @message, message_zh = @message_zh,
         updated_at = @updated_at, acknowledged_at = @acknowledged_at, acknowledged_by = @acknowledged_by, cleared_at = @cleared_at,
         closed_at = @closed_at, closed_by = @closed_by, cause = @cause
       where id = @id`,
    ),
    appendHistory: db.prepare(
      `insert into history (alarm_id, at, action, by, level, state, value, note, data, alarm)
       values (@alarm_id, @at, @action, @by, @level, @state, @value, @note, @data, @alarm)`,
    ),
    historyRow: db.prepare('select * from history where seq = ?'),
    history: db.prepare('select * from history where alarm_id = ? order by seq'),
    tail: db.prepare('select * from history where seq > ? order by seq limit ?'),
    lastSeq: db.prepare('select coalesce(max(seq), 0) as seq from history'),
    expiredShelves: db.prepare('select * from alarms where shelved_until is not null and shelved_until <= ? and closed_at is null'),
    insertWindow: db.prepare(
      `insert into maintenance (id, enterprise, device, condition, by, reason, from_ts, until_ts)
       values (@id, @enterprise, @device, @condition, @by, @reason, @from_ts, @until_ts)`,
    ),
    window: db.prepare('select * from maintenance where id = ?'),
    endWindow: db.prepare('update maintenance set ended_at = ?, ended_by = ? where id = ? and ended_at is null'),
    expiredWindows: db.prepare('select * from maintenance where ended_at is null and until_ts <= ?'),
    inScope: db.prepare(
      `select * from alarms where enterprise = @enterprise and device = @device and active = 1 and closed_at is null
         and (@condition is null or condition = @condition)`,
    ),
    ofWindow: db.prepare('select * from alarms where maintenance_id = ? and oos = 1 and closed_at is null'),
    cursor: db.prepare('select seq from cursors where name = ?'),
    setCursor: db.prepare('insert into cursors (name, seq) values (?, ?) on conflict(name) do update set seq = excluded.seq'),
    enqueue: db.prepare(
      `insert into notify_queue (channel, alarm_id, seq, tier, kind, payload, next_at, created_at)
       values (@channel, @alarmId, @seq, @tier, @kind, @payload, @nextAt, @createdAt)`,
    ),
    due: db.prepare('select * from notify_queue where channel = ? and next_at <= ? order by id limit ?'),
    pendingChannels: db.prepare('select distinct channel from notify_queue'),
    finish: db.prepare('delete from notify_queue where id = ?'),
    retry: db.prepare('update notify_queue set attempts = attempts + 1, next_at = ?, last_error = ? where id = ?'),
  };

  function load(id: string): AlarmRow {
    const row = stmt.get.get(id) as AlarmRow | undefined;
    if (!row) throw new HazwatchError('HW_ERR_NOT_FOUND', `no alarm ${id}`, { id });
    return row;
  }

  /** Writes the new row and one history entry in the caller's transaction; returns the published change. */
  function commit(
    before: AlarmRow,
    changes: Partial<AlarmRow>,
    entry: { action: AlarmAction; by: string; at?: number; note?: string | null; data?: Record<string, unknown> | null; value?: number | boolean | null },
  ): AlarmEventPayload {
    const at = entry.at ?? now();
    const row: AlarmRow = { ...before, ...changes };
    row.state = deriveState(row);
    if (entry.action !== 'notified' && entry.action !== 'escalated_notification') {
      row.updated_at = Math.max(at, before.updated_at);
      stmt.update.run(row);
    }
    const info = stmt.appendHistory.run({
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
    return toPayload(stmt.historyRow.get(info.lastInsertRowid) as HistoryRow);
  }

  const tx = <A extends unknown[], R>(fn: (...args: A) => R) => {
    // IMMEDIATE: take the write lock at the start, so two processes never deadlock upgrading a read lock.
    const t = db.transaction(fn);
    return (...args: A): R => t.immediate(...args);
  };

  function requireText(what: string, text: string | undefined): string {
    if (typeof text !== 'string' || text.trim() === '') throw new HazwatchError('HW_ERR_VALIDATION', `${what} is required`);
    return text.trim();
  }

  const acknowledge = tx((id: string, by: string, note?: string) => {
    const row = load(id);
    if (row.closed_at !== null) throw transition('acknowledge', row, 'it is closed');
    if (row.acked) throw transition('acknowledge', row, `already acknowledged by ${row.acknowledged_by}`);
    const at = now();
    return commit(row, { acked: 1, acknowledged_at: at, acknowledged_by: by }, { action: 'acknowledged', by, at, note: note ?? null });
  });

  const feedback = tx((id: string, by: string, fb: { cause: string; measures: string; note?: string }) => {
    const row = load(id);
    if (row.closed_at !== null) throw transition('record feedback on', row, 'it is closed');
    const measures = requireText('measures', fb.measures);
    return commit(row, { cause: fb.cause }, { action: 'feedback', by, note: fb.note ?? null, data: { cause: fb.cause, measures } });
  });

  const shelve = tx((id: string, by: string, until: number, reason: string) => {
    const row = load(id);
    const at = now();
    if (row.closed_at !== null) throw transition('shelve', row, 'it is closed');
    if (row.oos) throw transition('shelve', row, 'it is out of service for maintenance');
    if (!Number.isFinite(until) || until <= at) throw new HazwatchError('HW_ERR_VALIDATION', 'shelving must end in the future');
    if (until - at > maxShelveMs) throw new HazwatchError('HW_ERR_VALIDATION', `shelving may last at most ${Math.round(maxShelveMs / 60_000)} min`);
    return commit(row, { shelved_until: until }, { action: 'shelved', by, at, note: requireText('reason', reason), data: { until } });
  });

  const unshelve = tx((id: string, by: string, note?: string) => {
    const row = load(id);
    if (row.shelved_until === null || row.closed_at !== null) throw transition('unshelve', row, 'it is not shelved');
    return commit(row, { shelved_until: null }, { action: 'unshelved', by, note: note ?? null });
  });

  const clearManual = tx((id: string, by: string, reason: string) => {
    const row = load(id);
    if (!row.active) throw transition('clear', row, 'its condition is not active');
    const at = now();
    return commit(row, { active: 0, cleared_at: at, shelved_until: null }, { action: 'cleared_manually', by, at, note: requireText('reason', reason) });
  });

  const closeAlarm = tx((id: string, by: string, note?: string) => {
    const row = load(id);
    if (row.closed_at !== null) throw transition('close', row, 'it is already closed');
    if (row.active) throw transition('close', row, 'its condition is still active: it clears by itself, or clear it manually with a reason first');
    const at = now();
    return commit(row, { closed_at: at, closed_by: by, shelved_until: null }, { action: 'closed', by, at, note: note ?? null });
  });

  const raise = tx((input: RaiseInput): AlarmEventPayload | undefined => {
    const existing = stmt.active.get(input.enterprise, input.device, input.condition) as AlarmRow | undefined;
    if (existing) return changeLevelSync(existing, input);
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
    };
    stmt.insert.run(row);
    return commit(row, {}, { action: 'raised', by: SYSTEM, at, data: input.rule ? { rule: input.rule, threshold: input.threshold } : { threshold: input.threshold } });
  });

  function changeLevelSync(row: AlarmRow, input: LevelChangeInput): AlarmEventPayload | undefined {
    if (!row.active || row.level === input.level) return undefined;
    const action: AlarmAction = input.level < row.level ? 'escalated' : 'deescalated';
    return commit(
      row,
      {
        level: input.level,
        peak_level: Math.min(row.peak_level, input.level),
        value: encodeValue(input.value),
        threshold: input.threshold,
        message: input.message,
        message_zh: input.messageZh ?? null,
      },
      { action, by: SYSTEM, at: input.at, data: { from: row.level, to: input.level, threshold: input.threshold, ...(input.rule ? { rule: input.rule } : {}) } },
    );
  }

  const changeLevel = tx((id: string, input: LevelChangeInput) => changeLevelSync(load(id), input));

  const clearAuto = tx((id: string, value: number | boolean | null, at: number, message?: string) => {
    const row = load(id);
    if (!row.active) return undefined;
    return commit(row, { active: 0, cleared_at: at, value: encodeValue(value) }, { action: 'cleared', by: SYSTEM, at, value, note: message ?? null });
  });

  const endWindowSync = (window: MaintenanceRow, by: string, at: number): AlarmEventPayload[] => {
    stmt.endWindow.run(at, by, window.id);
    return (stmt.ofWindow.all(window.id) as AlarmRow[]).map((row) =>
      commit(row, { oos: 0, maintenance_id: null, cleared_at: row.cleared_at ?? at }, { action: 'returned_to_service', by, at, data: { maintenance: window.id } }),
    );
  };

  const expire = tx((t: number) => {
    const changes: AlarmEventPayload[] = [];
    for (const row of stmt.expiredShelves.all(t) as AlarmRow[]) {
      changes.push(commit(row, { shelved_until: null }, { action: 'unshelved', by: SYSTEM, at: t, note: 'shelving expired' }));
    }
    for (const window of stmt.expiredWindows.all(t) as MaintenanceRow[]) changes.push(...endWindowSync(window, SYSTEM, t));
    return changes;
  });

  const setMaintenance = tx((input: MaintenanceInput) => {
    const at = now();
    if (!Number.isFinite(input.until) || input.until <= at) throw new HazwatchError('HW_ERR_VALIDATION', 'maintenance must end in the future');
    const window: MaintenanceRow = {
      id: randomUUID(),
      enterprise: input.enterprise,
      device: input.device,
      condition: input.condition ?? null,
      by: input.by,
      reason: requireText('reason', input.reason),
      from_ts: at,
      until_ts: input.until,
      ended_at: null,
      ended_by: null,
    };
    stmt.insertWindow.run(window);
    // Alarms the maintenance is about are taken out of service (ISA-18.2), and given back when it ends.
    for (const row of stmt.inScope.all({ enterprise: input.enterprise, device: input.device, condition: window.condition }) as AlarmRow[]) {
      commit(row, { oos: 1, active: 0, maintenance_id: window.id, shelved_until: null }, { action: 'out_of_service', by: input.by, at, note: window.reason, data: { maintenance: window.id, until: window.until_ts } });
    }
    return toWindow(window);
  });

  const endMaintenance = tx((id: string, by: string) => {
    const window = stmt.window.get(id) as MaintenanceRow | undefined;
    if (!window) throw new HazwatchError('HW_ERR_NOT_FOUND', `no maintenance window ${id}`, { id });
    if (window.ended_at !== null) throw new HazwatchError('HW_ERR_ALARM_TRANSITION', `maintenance ${id} already ended`, { id });
    endWindowSync(window, by, now());
    return toWindow(stmt.window.get(id) as MaintenanceRow);
  });

  const recordNotified = tx((id: string, action: 'notified' | 'escalated_notification', data: Record<string, unknown>) =>
    commit(load(id), {}, { action, by: SYSTEM, data }),
  );

  const enqueue = tx((cursorName: string, cursorSeq: number, jobs: Omit<NotificationJob, 'id' | 'attempts' | 'createdAt'>[]) => {
    const at = now();
    for (const job of jobs) {
      stmt.enqueue.run({ channel: job.channel, alarmId: job.alarmId, seq: job.seq, tier: job.tier, kind: job.kind, payload: JSON.stringify(job.payload), nextAt: job.nextAt, createdAt: at });
    }
    stmt.setCursor.run(cursorName, cursorSeq);
  });

  const finish = tx((ids: number[]) => {
    for (const id of ids) stmt.finish.run(id);
  });

  function listQuery(filter: AlarmFilter, count: boolean): { sql: string; params: unknown[] } {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.enterprise) (where.push('enterprise = ?'), params.push(filter.enterprise));
    if (filter.device) (where.push('device = ?'), params.push(filter.device));
    const inList = (column: string, values: readonly unknown[] | undefined) => {
      if (!values || values.length === 0) return;
      where.push(`${column} in (${values.map(() => '?').join(', ')})`);
      params.push(...values);
    };
    inList('state', filter.states);
    inList('level', filter.levels?.filter((l) => (ALARM_LEVELS as readonly number[]).includes(l)));
    inList('condition', filter.conditions);
    if (filter.from !== undefined) (where.push('raised_at >= ?'), params.push(filter.from));
    if (filter.to !== undefined) (where.push('raised_at < ?'), params.push(filter.to));
    const clause = where.length ? ` where ${where.join(' and ')}` : '';
    if (count) return { sql: `select count(*) as n from alarms${clause}`, params };
    const limit = Math.max(1, Math.min(filter.limit ?? 100, 1000));
    const offset = Math.max(0, filter.offset ?? 0);
    return { sql: `select * from alarms${clause} order by raised_at desc, id limit ? offset ?`, params: [...params, limit, offset] };
  }

  const store: AlarmStore = {
    async list(filter = {}) {
      const q = listQuery(filter, false);
      return (db.prepare(q.sql).all(...q.params) as AlarmRow[]).map(toAlarm);
    },
    async count(filter = {}) {
      const q = listQuery(filter, true);
      return (db.prepare(q.sql).get(...q.params) as { n: number }).n;
    },
    async get(id) {
      const row = stmt.get.get(id) as AlarmRow | undefined;
      return row ? toAlarm(row) : undefined;
    },
    async history(id): Promise<AlarmHistoryEntry[]> {
      return (stmt.history.all(id) as HistoryRow[]).map((row) => toPayload(row).change);
    },
    async tailHistory(afterSeq, limit = 1000) {
      return (stmt.tail.all(afterSeq, limit) as HistoryRow[]).map(toPayload);
    },
    async lastSeq() {
      return (stmt.lastSeq.get() as { seq: number }).seq;
    },
    async acknowledge(id, by, note) {
      return acknowledge(id, by, note);
    },
    async feedback(id, by, fb) {
      return feedback(id, by, fb);
    },
    async shelve(id, by, until, reason) {
      return shelve(id, by, until, reason);
    },
    async unshelve(id, by) {
      return unshelve(id, by);
    },
    async clear(id, by, reason) {
      return clearManual(id, by, reason);
    },
    async closeAlarm(id, by, note) {
      return closeAlarm(id, by, note);
    },
    async setMaintenance(input) {
      return setMaintenance(input);
    },
    async endMaintenance(id, by) {
      return endMaintenance(id, by);
    },
    async maintenance(filter: MaintenanceFilter = {}) {
      const where: string[] = [];
      const params: unknown[] = [];
      if (filter.enterprise) (where.push('enterprise = ?'), params.push(filter.enterprise));
      if (filter.device) (where.push('device = ?'), params.push(filter.device));
      if (filter.activeAt !== undefined) {
        where.push('from_ts <= ? and until_ts > ? and (ended_at is null or ended_at > ?)');
        params.push(filter.activeAt, filter.activeAt, filter.activeAt);
      }
      const clause = where.length ? ` where ${where.join(' and ')}` : '';
      return (db.prepare(`select * from maintenance${clause} order by from_ts desc`).all(...params) as MaintenanceRow[]).map(toWindow);
    },
    async raise(input) {
      return raise(input);
    },
    async changeLevel(id, input) {
      return changeLevel(id, input);
    },
    async clearAuto(id, value, at, message) {
      return clearAuto(id, value, at, message);
    },
    async activeInstances() {
      return (stmt.allActive.all() as AlarmRow[]).map(toAlarm);
    },
    async activeFor(enterprise, device, condition) {
      const row = stmt.active.get(enterprise, device, condition) as AlarmRow | undefined;
      return row ? toAlarm(row) : undefined;
    },
    async expire(t) {
      return expire(t);
    },
    async recordNotified(id, action, data) {
      return recordNotified(id, action, data);
    },
    async cursor(name) {
      return (stmt.cursor.get(name) as { seq: number } | undefined)?.seq ?? 0;
    },
    async setCursor(name, seq) {
      stmt.setCursor.run(name, seq);
    },
    async enqueueNotifications(cursorName, cursorSeq, jobs) {
      enqueue(cursorName, cursorSeq, jobs);
    },
    async dueNotifications(channel, t, limit = 100) {
      type Row = { id: number; channel: string; alarm_id: string; seq: number; tier: number; kind: string; payload: string; attempts: number; next_at: number; created_at: number };
      return (stmt.due.all(channel, t, limit) as Row[]).map((r) => ({
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
      return (stmt.pendingChannels.all() as { channel: string }[]).map((r) => r.channel);
    },
    async finishNotifications(ids) {
      finish(ids);
    },
    async retryNotification(id, nextAt, error) {
      stmt.retry.run(nextAt, error.slice(0, 500), id);
    },
    async dispose() {
      if (db.open) db.close();
    },
  };
  return store;
}
