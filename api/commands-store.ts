// The device-command store (issue 15): every command sent to a device, where it stands, and every step
// of it with its time (sent, the device's answers, expired), kept append-only as the record of who asked
// a device to do what and what came of it. A SQLite file of its own (<dataDir>/commands.db) or the
// deployment's PostgreSQL (database.url), like the other shared stores (core/sql.ts), so that every API
// node sees every command and any of them may take a device's reply or expire a command.
import { nextStatus, type CommandStatus, type ReplyStatus } from '../contract/commands.ts';
import type { DeviceClass } from '../contract/catalog.ts';
import type { Logger } from '../core/log.ts';
import { openDatabase, type Schema, type Sql, type SqlDatabase } from '../core/sql.ts';

const SCHEMA: Schema = {
  tables: `
create table if not exists commands (
  id text primary key,
  enterprise text not null,
  device text not null,
  device_class text not null,
  name text not null,
  args text not null default '{}',
  status text not null,
  message text,
  requested_by text not null,
  requested_at bigint not null,
  expires_at bigint not null,
  run_seconds integer not null,
  finish_by bigint,
  updated_at bigint not null
);
create index if not exists commands_device on commands (enterprise, device, requested_at);
create index if not exists commands_status on commands (status);
create table if not exists command_steps (
  seq {serial},
  command_id text not null,
  status text not null,
  at bigint not null,
  device_ts bigint,
  by text not null,
  message text,
  applied integer not null
);
create index if not exists command_steps_command on command_steps (command_id, seq);
`,
  appendOnly: [{ table: 'command_steps', what: 'the history of device commands' }],
};

/** One step of a command: who moved it where, when; `applied: false` for answers that came too late or twice. */
export interface CommandStep {
  status: CommandStatus;
  at: number;
  /** The device's own time of its answer, when it gave one. */
  deviceTs: number | null;
  /** The account that sent it, `device` for its answers, `platform` for an expiry or a failed publish. */
  by: string;
  message: string | null;
  applied: boolean;
}

export interface DeviceCommand {
  id: string;
  enterprise: string;
  device: string;
  deviceClass: DeviceClass;
  name: string;
  args: Record<string, unknown>;
  status: CommandStatus;
  message: string | null;
  requestedBy: string;
  requestedAt: number;
  expiresAt: number;
  /** Once accepted: when the device must have finished (accepted + the command's runSeconds). */
  finishBy: number | null;
  updatedAt: number;
  steps?: CommandStep[];
}

export interface NewCommand {
  id: string;
  enterprise: string;
  device: string;
  deviceClass: DeviceClass;
  name: string;
  args: Record<string, unknown>;
  requestedBy: string;
  requestedAt: number;
  expiresAt: number;
  runSeconds: number;
}

type Row = {
  id: string;
  enterprise: string;
  device: string;
  device_class: DeviceClass;
  name: string;
  args: string;
  status: CommandStatus;
  message: string | null;
  requested_by: string;
  requested_at: number;
  expires_at: number;
  run_seconds: number;
  finish_by: number | null;
  updated_at: number;
};
type StepRow = { command_id: string; status: CommandStatus; at: number; device_ts: number | null; by: string; message: string | null; applied: number };

const n = (v: number | string | null): number | null => (v === null ? null : Number(v));

function toCommand(r: Row): DeviceCommand {
  return {
    id: r.id,
    enterprise: r.enterprise,
    device: r.device,
    deviceClass: r.device_class,
    name: r.name,
    args: JSON.parse(r.args) as Record<string, unknown>,
    status: r.status,
    message: r.message,
    requestedBy: r.requested_by,
    requestedAt: Number(r.requested_at),
    expiresAt: Number(r.expires_at),
    finishBy: n(r.finish_by),
    updatedAt: Number(r.updated_at),
  };
}

function toStep(r: StepRow): CommandStep {
  return { status: r.status, at: Number(r.at), deviceTs: n(r.device_ts), by: r.by, message: r.message, applied: Number(r.applied) === 1 };
}

const OPEN = `status in ('sent', 'accepted')`;

/** What became of a device's reply. */
export type ReplyOutcome = { outcome: 'applied'; command: DeviceCommand } | { outcome: 'ignored'; command: DeviceCommand } | { outcome: 'unknown' };

export type CommandStore = Awaited<ReturnType<typeof openCommandStore>>;

export async function openCommandStore(target: string, options: { log?: Logger } = {}) {
  const db: SqlDatabase = await openDatabase(target, { lock: 'commands', log: options.log, schema: SCHEMA });

  const step = (sql: Sql, id: string, s: Omit<CommandStep, 'applied'> & { applied?: boolean }) =>
    sql.run('insert into command_steps (command_id, status, at, device_ts, by, message, applied) values (?, ?, ?, ?, ?, ?, ?)', [id, s.status, s.at, s.deviceTs, s.by, s.message, s.applied === false ? 0 : 1]);

  const store = {
    where: db.where,
    dialect: db.dialect,

    /**
     * Records a command as sent, unless another command to the device still waits for its answer
     * (then `busy` names it). Recorded before it is published, so that a quick reply finds it.
     */
    async create(c: NewCommand): Promise<{ command: DeviceCommand } | { busy: DeviceCommand }> {
      const result = await db.write(async (sql) => {
        const open = await sql.get<Row>(`select * from commands where enterprise = ? and device = ? and ${OPEN} order by requested_at desc limit 1`, [c.enterprise, c.device]);
        if (open) return { busy: toCommand(open) };
        await sql.run(
          `insert into commands (id, enterprise, device, device_class, name, args, status, message, requested_by, requested_at, expires_at, run_seconds, finish_by, updated_at)
           values (?, ?, ?, ?, ?, ?, 'sent', null, ?, ?, ?, ?, null, ?)`,
          [c.id, c.enterprise, c.device, c.deviceClass, c.name, JSON.stringify(c.args), c.requestedBy, c.requestedAt, c.expiresAt, c.runSeconds, c.requestedAt],
        );
        await step(sql, c.id, { status: 'sent', at: c.requestedAt, deviceTs: null, by: c.requestedBy, message: null });
        return undefined;
      });
      return result ?? { command: (await store.get(c.id))! };
    },

    /** Ends a command the broker did not take (no connection, refused): failed, with why. */
    async undelivered(id: string, at: number, message: string): Promise<DeviceCommand | undefined> {
      await db.write(async (sql) => {
        const changed = await sql.run(`update commands set status = 'failed', message = ?, updated_at = ? where id = ? and status = 'sent'`, [message, at, id]);
        if (changed) await step(sql, id, { status: 'failed', at, deviceTs: null, by: 'platform', message });
      });
      return store.get(id);
    },

    /**
     * Takes a device's reply. Only a reply from the device the command was sent to counts; one that
     * does not move the command (a repeat, or an answer after it ended) is kept as a step, not applied.
     */
    async reply(enterprise: string, device: string, r: { id: string; status: ReplyStatus; message?: string; deviceTs?: number | null }, at: number): Promise<ReplyOutcome> {
      const outcome = await db.write(async (sql): Promise<'applied' | 'ignored' | 'unknown'> => {
        const row = await sql.get<Row>('select * from commands where id = ? and enterprise = ? and device = ?', [r.id, enterprise, device]);
        if (!row) return 'unknown';
        const next = nextStatus(row.status, r.status);
        const message = r.message ?? null;
        if (!next) {
          // The same answer again (QoS 1 may deliver twice, several API nodes hear it): once is enough.
          // Anything else that does not move it (an answer after it expired) is kept, marked not applied.
          const seen = await sql.get<{ n: number }>(`select count(*) as n from command_steps where command_id = ? and status = ? and by = 'device'`, [r.id, r.status]);
          if (Number(seen?.n ?? 0) === 0) await step(sql, r.id, { status: r.status, at, deviceTs: r.deviceTs ?? null, by: 'device', message, applied: false });
          return 'ignored';
        }
        const finishBy = next === 'accepted' ? at + Number(row.run_seconds) * 1000 : n(row.finish_by);
        await sql.run('update commands set status = ?, message = coalesce(?, message), finish_by = ?, updated_at = ? where id = ?', [next, message, finishBy, at, r.id]);
        await step(sql, r.id, { status: next, at, deviceTs: r.deviceTs ?? null, by: 'device', message });
        return 'applied';
      });
      if (outcome === 'unknown') return { outcome };
      return { outcome, command: (await store.get(r.id))! };
    },

    /**
     * Expires what waited too long: sent and not answered by its expiresAt, or accepted and not
     * finished by its finishBy. Any node may run it; the transaction expires each command once.
     */
    async expire(now: number): Promise<DeviceCommand[]> {
      const ids = await db.write(async (sql) => {
        const due = await sql.all<Row>(`select * from commands where (status = 'sent' and expires_at <= ?) or (status = 'accepted' and finish_by <= ?)`, [now, now]);
        for (const row of due) {
          const message = row.status === 'sent' ? 'no answer from the device before the command expired' : 'accepted, but no final answer from the device in time';
          await sql.run(`update commands set status = 'expired', message = ?, updated_at = ? where id = ?`, [message, now, row.id]);
          await step(sql, row.id, { status: 'expired', at: now, deviceTs: null, by: 'platform', message });
        }
        return due.map((r) => r.id);
      });
      return Promise.all(ids.map(async (id) => (await store.get(id))!));
    },

    /** One command with its steps, oldest first. */
    async get(id: string): Promise<DeviceCommand | undefined> {
      const row = await db.get<Row>('select * from commands where id = ?', [id]);
      if (!row) return undefined;
      const steps = await db.all<StepRow>('select * from command_steps where command_id = ? order by seq', [id]);
      return { ...toCommand(row), steps: steps.map(toStep) };
    },

    /** A device's commands, newest first, with their steps. */
    async list(enterprise: string, device: string, limit = 50): Promise<DeviceCommand[]> {
      const rows = await db.all<Row>('select * from commands where enterprise = ? and device = ? order by requested_at desc, id desc limit ?', [enterprise, device, limit]);
      if (!rows.length) return [];
      const steps = await db.all<StepRow>(`select * from command_steps where command_id in (${rows.map(() => '?').join(', ')}) order by seq`, rows.map((r) => r.id));
      const by = new Map<string, CommandStep[]>();
      for (const s of steps) by.set(s.command_id, [...(by.get(s.command_id) ?? []), toStep(s)]);
      return rows.map((r) => ({ ...toCommand(r), steps: by.get(r.id) ?? [] }));
    },

    close: () => db.close(),
  };
  return store;
}
