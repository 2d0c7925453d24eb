// Notifications: alarm changes are turned into queued jobs (one per channel) in the same transaction
// that moves the notifier's cursor, so none is lost or queued twice; one worker per channel delivers
// them in order with retries and backoff while the receiver is down; above the flood rate a channel
// gets one summary listing every alarm instead of one message each; an active alarm nobody has
// signed for in time is escalated to the next tier (duty officer → principal → regulator).
import { ALARM_LEVELS, type AlarmEventPayload, type AlarmLevel } from '../../contract/alarms.ts';
import { HazwatchError } from '../../contract/errors.ts';
import type { Logger } from '../../core/log.ts';
import { counter, type Registry as MetricsRegistry } from '../../core/metrics.ts';
import { PERSONAL, type DispatchChannel } from '../../core/dispatch/config.ts';
import type { DeliveryInput, Outbox } from '../../core/dispatch/store.ts';
import { peopleAtTier, type RosterStore } from '../../registry/roster.ts';
import type { AlarmStore, NotificationJob } from '../store-types.ts';
import type { ChannelConfig, NotifyConfig, RouteConfig } from './config.ts';
import { httpRequests, texts, type Notice } from './formats.ts';
import { post } from '../../core/channels/robots.ts';
import { sendMail } from '../../core/channels/smtp.ts';

export interface NotifierOptions {
  store: AlarmStore;
  config: NotifyConfig;
  log: Logger;
  metrics: MetricsRegistry;
  now?: () => number;
  /** Grade of the major hazard source of an alarm's device (faster escalation for grade 1). */
  hazardGrade?: (enterprise: string, device: string) => number | undefined;
  /** For routes to whoever is on duty: the roster's chain and the outbox of messages to people. */
  duty?: DutyRouting;
}

export interface DutyRouting {
  /** The people at this tier of the duty chain of the enterprise's unit now (the last tier when the chain is shorter). */
  people(enterprise: string, tier: number, at: number): Promise<{ id: string; name: string; phone?: string; email?: string }[]>;
  outbox: Pick<Outbox, 'enqueue'>;
  channels: DispatchChannel[];
}

export const NOTIFY_CURSOR = 'notify';

/** DutyRouting.people from the duty roster (registry/roster.ts). */
export function rosterPeople(roster: Pick<RosterStore, 'unitFor' | 'dutyChain'>): DutyRouting['people'] {
  return async (enterprise, tier, at) =>
    (await peopleAtTier(roster, enterprise, tier, at)).people.map((p) => ({ id: p.id, name: p.name, ...(p.phone ? { phone: p.phone } : {}), ...(p.email ? { email: p.email } : {}) }));
}

function routeMatches(route: RouteConfig, enterprise: string, level: AlarmLevel): boolean {
  return (route.enterprises.includes('*') || route.enterprises.includes(enterprise)) && route.levels.includes(level);
}

export function createNotifier(options: NotifierOptions) {
  const { store, config, log } = options;
  const now = options.now ?? Date.now;
  const channels = new Map<string, ChannelConfig>(config.channels.map((c) => [c.name, c]));
  for (const r of config.routes) {
    for (const c of r.channels) if (!channels.has(c)) throw new HazwatchError('HW_ERR_CONFIG', `rules.notify.routes: unknown channel "${c}" (channels: ${[...channels.keys()].join(', ') || 'none'})`);
  }
  const sent = counter(options.metrics, 'hazwatch_rules_notifications_total', 'Notification messages delivered', ['channel', 'type', 'summary']);
  const failed = counter(options.metrics, 'hazwatch_rules_notification_failures_total', 'Failed notification attempts (retried) and messages given up', ['channel', 'outcome']);
  /** Send times per channel, for flood detection. */
  const history = new Map<string, number[]>();
  /** Unacknowledged active alarms and the tier they have reached. */
  const watch = new Map<string, { level: AlarmLevel; enterprise: string; device: string; tier: number; since: number }>();
  const busy = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  /** The channel jobs of a change; with `kindOnly`, one job naming its kind and tier whatever the routes (for duty routes). */
  function jobsFor(p: AlarmEventPayload, kindOnly = false): Omit<NotificationJob, 'id' | 'attempts' | 'createdAt'>[] {
    const { alarm, change } = p;
    let kind: string | undefined;
    let tier = 0;
    if (change.action === 'raised') kind = 'raised';
    else if (change.action === 'escalated') kind = 'escalated';
    else if (change.action === 'cleared' || change.action === 'cleared_manually') kind = 'cleared';
    else if (change.action === 'escalated_notification') {
      kind = 'escalation';
      tier = Number(change.data?.tier ?? 1);
    }
    if (!kind) return [];
    if (kindOnly) return [{ channel: '', alarmId: alarm.id, seq: change.seq, tier, kind, payload: p, nextAt: now() }];
    const names = new Set<string>();
    for (const route of config.routes) {
      if (!routeMatches(route, alarm.enterprise, change.level)) continue;
      if (kind === 'escalation' ? route.tier !== tier : route.tier !== 0 || !route.on.includes(kind as 'raised')) continue;
      for (const c of route.channels) names.add(c);
    }
    return [...names].map((channel) => ({ channel, alarmId: alarm.id, seq: change.seq, tier, kind: kind!, payload: p, nextAt: now() }));
  }

  function track(p: AlarmEventPayload): void {
    const { alarm, change } = p;
    if (alarm.state === 'active_unacknowledged') {
      const w = watch.get(alarm.id);
      if (!w) watch.set(alarm.id, { level: alarm.level, enterprise: alarm.enterprise, device: alarm.device, tier: 0, since: change.at });
      else {
        if (change.action === 'escalated_notification') {
          w.tier = Number(change.data?.tier ?? w.tier + 1);
          w.since = change.at;
        }
        w.level = alarm.level;
      }
    } else watch.delete(alarm.id);
  }

  function timeoutMs(w: { level: AlarmLevel; enterprise: string; device: string }): number {
    const minutes = config.escalation.ackTimeoutMinutes[w.level];
    const factor = options.hazardGrade?.(w.enterprise, w.device) === 1 ? config.escalation.grade1Factor : 1;
    return minutes * 60_000 * factor;
  }

  const maxTier = Math.max(0, ...config.routes.map((r) => r.tier));
  const dutyChannels = new Map((options.duty?.channels ?? []).map((c) => [c.name, c]));
  for (const r of config.routes) {
    if (r.duty && !options.duty) throw new HazwatchError('HW_ERR_CONFIG', 'rules.notify.routes: a route to whoever is on duty needs the duty roster and dispatch channels (this process has none)');
    for (const c of r.duty?.channels ?? []) {
      const ch = dutyChannels.get(c);
      if (!ch || !PERSONAL[ch.type]) throw new HazwatchError('HW_ERR_CONFIG', `rules.notify.routes: duty channel "${c}" is not a personal channel (sms, email) of dispatch.channels (${[...dutyChannels.values()].filter((x) => PERSONAL[x.type]).map((x) => x.name).join(', ') || 'none'})`);
    }
  }

  /** The messages to the people on duty for these changes, one per person and personal channel. */
  async function dutyMessages(p: AlarmEventPayload): Promise<{ rows: DeliveryInput[]; told: string[]; tier: number } | undefined> {
    const job = jobsFor(p, true)[0];
    if (!job || !options.duty) return undefined;
    const routes = config.routes.filter((r) => r.duty && routeMatches(r, p.alarm.enterprise, p.change.level) && (job.kind === 'escalation' ? r.tier === job.tier : r.tier === 0 && r.on.includes(job.kind as 'raised')));
    if (routes.length === 0) return undefined;
    const people = await options.duty.people(p.alarm.enterprise, job.tier, now());
    const [t] = texts({ name: 'duty', type: 'webhook', url: 'http://duty' }, [{ kind: job.kind, tier: job.tier, payload: p }], { timeZone: config.timeZone, consoleUrl: config.consoleUrl, now: now() });
    const body = t.text.replace(/\*\*/g, '').replace(/^> /gm, '').replace(/\[([^\]]+)\]\(([^)]+)\)/g, '$1: $2');
    const rows: DeliveryInput[] = [];
    for (const name of new Set(routes.flatMap((r) => r.duty!.channels))) {
      const ch = dutyChannels.get(name)!;
      for (const person of people) {
        const address = PERSONAL[ch.type] === 'phone' ? person.phone : person.email;
        if (address) rows.push({ source: 'alarm', sourceId: p.alarm.id, revision: p.change.seq, recipient: person.id, recipientName: person.name, channel: name, address, subject: t.title, body, level: p.change.level, mentions: [] });
      }
    }
    return { rows, told: [...new Set(rows.map((r) => r.recipientName))], tier: job.tier };
  }

  async function deliver(channel: ChannelConfig, notices: Notice[]): Promise<void> {
    const ctx = { timeZone: config.timeZone, consoleUrl: config.consoleUrl, now: now() };
    if (channel.type === 'email') {
      const mails = texts(channel, notices, ctx).map((t) => ({ from: channel.from, to: channel.to, subject: t.title, text: t.text }));
      await sendMail(channel.smtp, mails, ctx.now, config.retry.timeoutMs);
      return;
    }
    for (const req of httpRequests(channel, notices, ctx)) await post(req, channel.type !== 'webhook', config.retry.timeoutMs);
  }

  async function work(name: string): Promise<void> {
    if (busy.has(name) || stopped) return;
    const channel = channels.get(name);
    busy.add(name);
    try {
      for (;;) {
        const jobs = await store.dueNotifications(name, now(), 500);
        if (jobs.length === 0 || stopped) return;
        if (!channel) {
          // Channel removed from the configuration: the queued messages cannot go anywhere; record that.
          for (const job of jobs) await store.recordNotified(job.alarmId, 'notified', { channel: name, ok: false, error: 'channel no longer configured', seq: job.seq, delivered: true });
          await store.finishNotifications(jobs.map((j) => j.id));
          continue;
        }
        const t = now();
        const windowMs = config.flood.windowMinutes * 60_000;
        const recent = (history.get(name) ?? []).filter((x) => t - x < windowMs);
        history.set(name, recent);
        const flood = recent.length + jobs.length > config.flood.maxMessages;
        let batches: NotificationJob[][];
        if (!flood) batches = jobs.map((j) => [j]);
        else {
          const exempt = jobs.filter((j) => config.flood.exemptLevels.includes(j.payload.change.level));
          const grouped = jobs.filter((j) => !config.flood.exemptLevels.includes(j.payload.change.level));
          batches = exempt.map((j) => [j]);
          // In a flood, wait for more to come (holdSeconds after the oldest), then send them all as one summary;
          // a backlog that built up while the receiver was down goes out at once.
          const oldest = Math.min(...grouped.map((j) => j.createdAt));
          const waited = grouped.some((j) => j.attempts > 0) || t - oldest >= config.flood.holdSeconds * 1000;
          if (grouped.length > 1 && (waited || recent.length === 0)) batches.push(grouped);
          else if (grouped.length === 1 && waited) batches.push(grouped);
          if (batches.length === 0) return;
        }
        for (const batch of batches) {
          try {
            await deliver(channel, batch.map((j) => ({ kind: j.kind, tier: j.tier, payload: j.payload })));
          } catch (err) {
            const attempts = batch[0].attempts + 1;
            if (attempts >= config.retry.maxAttempts) {
              failed.inc({ channel: name, outcome: 'given_up' });
              log.error({ err, channel: name, alarms: batch.map((j) => j.alarmId) }, 'notification given up after retries');
              for (const j of batch) await store.recordNotified(j.alarmId, 'notified', { channel: name, ok: false, attempts, error: String((err as Error).message).slice(0, 300), kind: j.kind, tier: j.tier, seq: j.seq, delivered: true });
              await store.finishNotifications(batch.map((j) => j.id));
              continue;
            }
            failed.inc({ channel: name, outcome: 'retry' });
            const delay = Math.min(config.retry.maxMs, config.retry.initialMs * 2 ** (attempts - 1));
            log.warn({ channel: name, attempts, retryInMs: delay, err: (err as Error).message }, 'notification receiver failed; retrying');
            for (const j of batch) await store.retryNotification(j.id, now() + delay, (err as Error).message);
            // Keep the order: later messages of this channel wait behind the failed one.
            return;
          }
          recent.push(now());
          sent.inc({ channel: name, type: channel.type, summary: String(batch.length > 1) });
          for (const j of batch) {
            await store.recordNotified(j.alarmId, 'notified', { channel: name, ok: true, kind: j.kind, tier: j.tier, seq: j.seq, attempts: j.attempts + 1, ...(batch.length > 1 ? { summary: batch.length } : {}), delivered: true });
          }
          await store.finishNotifications(batch.map((j) => j.id));
        }
      }
    } catch (err) {
      log.error({ err, channel: name }, 'notification worker failed');
    } finally {
      busy.delete(name);
    }
  }

  const notifier = {
    /** Tailer handler: queue the notifications of these changes and move the cursor, atomically. */
    async handle(changes: AlarmEventPayload[]): Promise<void> {
      const jobs = changes.flatMap((c) => jobsFor(c));
      // To whoever is on duty: queued in the outbox first (idempotent), so a crash before the cursor
      // moves queues them again without doubling them.
      if (options.duty) {
        for (const p of changes) {
          const m = await dutyMessages(p);
          if (!m) continue;
          if (m.rows.length) await options.duty.outbox.enqueue(m.rows);
          else log.error({ alarm: p.alarm.id, enterprise: p.alarm.enterprise, tier: m.tier }, 'nobody on duty can be told of this alarm (no roster unit, shift, or address for the duty channels)');
          await store.recordNotified(p.alarm.id, 'notified', { duty: true, tier: m.tier, kind: jobsFor(p, true)[0].kind, people: m.told, messages: m.rows.length, seq: p.change.seq, ok: m.rows.length > 0, queued: true });
        }
      }
      await store.enqueueNotifications(NOTIFY_CURSOR, changes[changes.length - 1].change.seq, jobs);
      for (const p of changes) track(p);
      for (const name of new Set(jobs.map((j) => j.channel))) void work(name);
    },

    /** Starts (again, after a stop: the publisher role may come and go) from what the store holds. */
    async start(): Promise<void> {
      stopped = false;
      watch.clear();
      // Rebuild escalation state from the store: active alarms nobody has signed for yet.
      for (const alarm of await store.list({ states: ['active_unacknowledged'], limit: 1000 })) {
        const hist = await store.history(alarm.id);
        const esc = hist.filter((h) => h.action === 'escalated_notification');
        const last = esc[esc.length - 1];
        watch.set(alarm.id, { level: alarm.level, enterprise: alarm.enterprise, device: alarm.device, tier: last ? Number(last.data?.tier ?? esc.length) : 0, since: last?.at ?? alarm.raisedAt });
      }
      timer = setInterval(() => void notifier.tick(), 1000);
      timer.unref();
    },

    /** Escalations due, and queued messages due for (re)delivery. */
    async tick(): Promise<void> {
      const t = now();
      for (const [id, w] of watch) {
        if (w.tier >= maxTier || t - w.since < timeoutMs(w)) continue;
        const next = w.tier + 1;
        w.tier = next;
        w.since = t;
        try {
          await store.recordNotified(id, 'escalated_notification', { tier: next, reason: 'not acknowledged in time', timeoutMinutes: timeoutMs(w) / 60_000 });
        } catch (err) {
          w.tier = next - 1;
          log.error({ err, alarm: id }, 'recording an escalation failed');
        }
      }
      for (const name of await store.pendingNotificationChannels()) void work(name);
    },

    /** Resolves when no worker is busy and nothing is due (tests). */
    async idle(): Promise<void> {
      for (let i = 0; i < 500; i++) {
        if (busy.size === 0) return;
        await new Promise((r) => setTimeout(r, 10));
      }
    },

    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearInterval(timer);
      await notifier.idle();
    },

    levels: ALARM_LEVELS,
  };
  return notifier;
}

export type Notifier = ReturnType<typeof createNotifier>;
