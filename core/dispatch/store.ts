// The outbox of messages to people: one row per recipient and channel, durable before anything is
// sent, so that a restart or a receiver's outage delays a message and never loses it. Enqueueing is
// idempotent (one row per source, revision, recipient and channel), so a crash between "published"
// and "queued" is mended by queueing again.
import type { Logger } from '../log.ts';
import { openDatabase, type Schema, type SqlDatabase } from '../sql.ts';

export const DELIVERY_STATES = ['queued', 'sent', 'delivered', 'failed'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

export interface DeliveryInput {
  /** What the message is about ('warning', 'danger', ...) and its id. */
  source: string;
  sourceId: string;
  /** 0 the first publication, then each update; the all-clear is the last. */
  revision: number;
  /** A person's id, or the channel's name for a group channel. */
  recipient: string;
  recipientName: string;
  channel: string;
  /** Phone or e-mail for personal channels; '' for group channels. */
  address: string;
  subject: string;
  body: string;
  level: number | null;
  /** Mobiles to mention in a group message (the people on duty). */
  mentions: string[];
}

export interface Delivery extends DeliveryInput {
  id: number;
  state: DeliveryState;
  attempts: number;
  nextAt: number;
  lastError: string | null;
  /** The receiver's id for the message (SMS BizId/SerialNo), matched by its delivery report. */
  messageId: string | null;
  /** What the receiver said when it took the message, or its delivery report. */
  receipt: string | null;
  createdAt: number;
  sentAt: number | null;
  doneAt: number | null;
}

const SCHEMA: Schema = {
  tables: `
create table if not exists deliveries (
  id {serial},
  source text not null,
  source_id text not null,
  revision integer not null,
  recipient text not null,
  recipient_name text not null,
  channel text not null,
  address text not null,
  subject text not null,
  body text not null,
  level integer,
  mentions text not null default '[]',
  state text not null default 'queued',
  attempts integer not null default 0,
  next_at bigint not null,
  last_error text,
  message_id text,
  receipt text,
  created_at bigint not null,
  sent_at bigint,
  done_at bigint,
  unique (source, source_id, revision, recipient, channel)
);
create index if not exists deliveries_due on deliveries (state, next_at);
create index if not exists deliveries_source on deliveries (source, source_id);
create index if not exists deliveries_message on deliveries (channel, message_id);
`,
};

type Row = {
  id: number;
  source: string;
  source_id: string;
  revision: number;
  recipient: string;
  recipient_name: string;
  channel: string;
  address: string;
  subject: string;
  body: string;
  level: number | null;
  mentions: string;
  state: DeliveryState;
  attempts: number;
  next_at: number;
  last_error: string | null;
  message_id: string | null;
  receipt: string | null;
  created_at: number;
  sent_at: number | null;
  done_at: number | null;
};

function toDelivery(r: Row): Delivery {
  return {
    id: Number(r.id),
    source: r.source,
    sourceId: r.source_id,
    revision: r.revision,
    recipient: r.recipient,
    recipientName: r.recipient_name,
    channel: r.channel,
    address: r.address,
    subject: r.subject,
    body: r.body,
    level: r.level,
    mentions: JSON.parse(r.mentions),
    state: r.state,
    attempts: r.attempts,
    nextAt: Number(r.next_at),
    lastError: r.last_error,
    messageId: r.message_id,
    receipt: r.receipt,
    createdAt: Number(r.created_at),
    sentAt: r.sent_at === null ? null : Number(r.sent_at),
    doneAt: r.done_at === null ? null : Number(r.done_at),
  };
}

export interface DeliveryReport {
  channel: string;
  messageId?: string;
  /** Our delivery id as the provider echoes it (OutId, ref). */
  ref?: string;
  delivered: boolean;
  error?: string;
}

export async function openOutbox(target: string, options: { now?: () => number; log?: Logger } = {}) {
  const now = options.now ?? Date.now;
  const db: SqlDatabase = await openDatabase(target, { lock: 'hazwatch-dispatch', log: options.log, schema: SCHEMA });

  return {
    where: db.where,

    /** Queues what is not queued yet; returns how many rows are new. */
    async enqueue(items: DeliveryInput[]): Promise<number> {
      if (items.length === 0) return 0;
      const t = now();
      return db.write(async (sql) => {
        let added = 0;
        for (const d of items) {
          added += await sql.run(
            `insert into deliveries (source, source_id, revision, recipient, recipient_name, channel, address, subject, body, level, mentions, next_at, created_at)
             values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) on conflict (source, source_id, revision, recipient, channel) do nothing`,
            [d.source, d.sourceId, d.revision, d.recipient, d.recipientName, d.channel, d.address, d.subject, d.body, d.level, JSON.stringify(d.mentions), t, t],
          );
        }
        return added;
      });
    },

    /** Queued deliveries whose time has come, oldest first. */
    async due(at: number, limit = 200): Promise<Delivery[]> {
      const rows = await db.all<Row>("select * from deliveries where state = 'queued' and next_at <= ? order by id limit ?", [at, limit]);
      return rows.map(toDelivery);
    },

    /** The receiver took it: final for channels without delivery reports, else waiting for one. */
    async sent(id: number, o: { messageId?: string; receipt: string; delivered: boolean }): Promise<void> {
      const t = now();
      await db.write((sql) =>
        sql.run(`update deliveries set state = ?, attempts = attempts + 1, message_id = ?, receipt = ?, sent_at = ?, done_at = ?, last_error = null where id = ? and state = 'queued'`, [
          o.delivered ? 'delivered' : 'sent',
          o.messageId ?? null,
          o.receipt,
          t,
          o.delivered ? t : null,
          id,
        ]),
      );
    },

    async retry(id: number, nextAt: number, error: string): Promise<void> {
      await db.write((sql) => sql.run("update deliveries set attempts = attempts + 1, next_at = ?, last_error = ? where id = ? and state = 'queued'", [nextAt, error.slice(0, 500), id]));
    },

    async fail(id: number, error: string): Promise<void> {
      await db.write((sql) => sql.run("update deliveries set state = 'failed', attempts = attempts + 1, last_error = ?, done_at = ? where id = ? and state = 'queued'", [error.slice(0, 500), now(), id]));
    },

    /** A delivery report from a provider; returns the delivery it concerned, if any is known. */
    async report(r: DeliveryReport): Promise<Delivery | undefined> {
      return db.write(async (sql) => {
        let row: Row | undefined;
        if (r.messageId) row = await sql.get<Row>('select * from deliveries where channel = ? and message_id = ?', [r.channel, r.messageId]);
        if (!row && r.ref && /^\d+$/.test(r.ref)) row = await sql.get<Row>('select * from deliveries where channel = ? and id = ?', [r.channel, Number(r.ref)]);
        if (!row) return undefined;
        const t = now();
        if (r.delivered) await sql.run("update deliveries set state = 'delivered', done_at = ?, receipt = ? where id = ?", [t, 'delivery report: delivered', row.id]);
        else await sql.run("update deliveries set state = 'failed', done_at = ?, last_error = ? where id = ?", [t, `delivery report: ${r.error ?? 'failed'}`.slice(0, 500), row.id]);
        return toDelivery((await sql.get<Row>('select * from deliveries where id = ?', [row.id]))!);
      });
    },

    async list(source: string, sourceId: string): Promise<Delivery[]> {
      return (await db.all<Row>('select * from deliveries where source = ? and source_id = ? order by revision, id', [source, sourceId])).map(toDelivery);
    },

    /** Counts by state per source id (for lists of warnings). */
    async progress(source: string, sourceIds: string[]): Promise<Map<string, Record<DeliveryState, number>>> {
      const out = new Map<string, Record<DeliveryState, number>>();
      if (sourceIds.length === 0) return out;
      const rows = await db.all<{ source_id: string; state: DeliveryState; n: number }>(
        `select source_id, state, count(*) as n from deliveries where source = ? and source_id in (${sourceIds.map(() => '?').join(',')}) group by source_id, state`,
        [source, ...sourceIds],
      );
      for (const id of sourceIds) out.set(id, { queued: 0, sent: 0, delivered: 0, failed: 0 });
      for (const r of rows) out.get(r.source_id)![r.state] = Number(r.n);
      return out;
    },

    close: () => db.close(),
  };
}

export type Outbox = Awaited<ReturnType<typeof openOutbox>>;
