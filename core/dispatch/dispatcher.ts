// Sends what the outbox holds: one worker per channel, oldest first, each delivery retried with
// backoff while its receiver is down and failed for good, with the last reason, after the configured
// attempts. Runs in one process of the deployment at a time (the caller elects it, core/leader.ts),
// so nothing is sent twice by two nodes; after a crash a delivery whose answer was lost is sent again
// (at least once). SMS delivery reports arrive through `report`.
import type { Logger } from '../log.ts';
import { counter, type Registry as MetricsRegistry } from '../metrics.ts';
import { dingtalkRequests, post, webhookRequest, wecomRequests } from '../channels/robots.ts';
import { smsAccepted, smsReports, smsRequest } from '../channels/sms.ts';
import { sendMail } from '../channels/smtp.ts';
import { mqttTopic, type DispatchChannel, type DispatchConfig } from './config.ts';
import type { Delivery, Outbox } from './store.ts';

export interface DispatcherOptions {
  outbox: Outbox;
  config: DispatchConfig;
  log: Logger;
  metrics: MetricsRegistry;
  now?: () => number;
  /** Publishes on the deployment's broker, resolving at its PUBACK (for mqtt channels). */
  publish?: (topic: string, payload: string, retain: boolean) => Promise<void>;
}

export interface Receipt {
  messageId?: string;
  receipt: string;
  /** True when the receiver's answer is all we will ever know (no delivery report follows). */
  delivered: boolean;
}

export function createDispatcher(options: DispatcherOptions) {
  const { outbox, config, log } = options;
  const now = options.now ?? Date.now;
  const channels = new Map(config.channels.map((c) => [c.name, c]));
  const sentTotal = counter(options.metrics, 'hazwatch_dispatch_sent_total', 'Messages to people taken by their receiver', ['channel', 'type']);
  const failures = counter(options.metrics, 'hazwatch_dispatch_failures_total', 'Failed sending attempts (retried) and deliveries failed for good', ['channel', 'outcome']);
  const reports = counter(options.metrics, 'hazwatch_dispatch_reports_total', 'Delivery reports received', ['channel', 'outcome']);
  const busy = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let running = false;

  async function send(channel: DispatchChannel, d: Delivery): Promise<Receipt> {
    const timeoutMs = config.retry.timeoutMs;
    const message = { title: d.subject, text: d.body };
    switch (channel.type) {
      case 'sms': {
        const req = smsRequest(channel.gateway, { phone: d.address, text: d.body, ref: String(d.id) }, now());
        const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(timeoutMs) });
        const messageId = smsAccepted(channel.gateway, res.status, await res.text());
        return { messageId, receipt: `gateway accepted${messageId ? ` (id ${messageId})` : ''}`, delivered: false };
      }
      case 'email':
        await sendMail(channel.smtp, [{ from: channel.from, to: [d.address], subject: d.subject, text: d.body }], now(), timeoutMs);
        return { receipt: 'mail server accepted (250)', delivered: true };
      case 'wecom':
        for (const req of wecomRequests(channel.url, [message], d.mentions)) await post(req, true, timeoutMs);
        return { receipt: 'robot accepted (errcode 0)', delivered: true };
      case 'dingtalk':
        for (const req of dingtalkRequests(channel.url, channel.secret, now(), [message], d.mentions)) await post(req, true, timeoutMs);
        return { receipt: 'robot accepted (errcode 0)', delivered: true };
      case 'webhook':
        await post(webhookRequest(channel.url, channel.headers, { type: d.source, id: d.sourceId, revision: d.revision, level: d.level, subject: d.subject, text: d.body, mentions: d.mentions }), false, timeoutMs);
        return { receipt: 'webhook accepted (2xx)', delivered: true };
      case 'mqtt': {
        if (!options.publish) throw new Error('no broker connection in this process');
        const payload = JSON.stringify({ type: d.source, id: d.sourceId, revision: d.revision, level: d.level, subject: d.subject, text: d.body, at: now() });
        await options.publish(mqttTopic(channel), payload, channel.retain);
        return { receipt: 'broker accepted (PUBACK)', delivered: true };
      }
    }
  }

  async function work(name: string, jobs: Delivery[]): Promise<void> {
    if (busy.has(name)) return;
    busy.add(name);
    try {
      const channel = channels.get(name);
      for (const d of jobs) {
        if (!running) return;
        if (!channel) {
          failures.inc({ channel: name, outcome: 'failed' });
          await outbox.fail(d.id, `channel "${name}" is no longer configured`);
          continue;
        }
        try {
          const r = await send(channel, d);
          await outbox.sent(d.id, r);
          sentTotal.inc({ channel: name, type: channel.type });
        } catch (err) {
          const reason = (err as Error).message ?? String(err);
          const attempts = d.attempts + 1;
          if (attempts >= config.retry.maxAttempts) {
            failures.inc({ channel: name, outcome: 'failed' });
            log.error({ channel: name, delivery: d.id, source: d.source, id: d.sourceId, recipient: d.recipient, attempts, err: reason }, 'message failed for good after retries');
            await outbox.fail(d.id, reason);
            continue;
          }
          failures.inc({ channel: name, outcome: 'retry' });
          const delay = Math.min(config.retry.maxMs, config.retry.initialMs * 2 ** (attempts - 1));
          log.warn({ channel: name, delivery: d.id, attempts, retryInMs: delay, err: reason }, 'message receiver failed; retrying');
          await outbox.retry(d.id, now() + delay, reason);
        }
      }
    } catch (err) {
      log.error({ err, channel: name }, 'dispatch worker failed');
    } finally {
      busy.delete(name);
    }
  }

  const dispatcher = {
    channels: config.channels,

    /** Sends whatever is due, one worker per channel. */
    async tick(): Promise<void> {
      if (!running) return;
      const due = await outbox.due(now());
      const byChannel = new Map<string, Delivery[]>();
      for (const d of due) (byChannel.get(d.channel) ?? byChannel.set(d.channel, []).get(d.channel)!).push(d);
      await Promise.all([...byChannel].map(([name, jobs]) => work(name, jobs)));
    },

    start(): void {
      if (running) return;
      running = true;
      const loop = () => {
        timer = setTimeout(() => void dispatcher.tick().catch((err) => log.error({ err }, 'dispatch tick failed')).finally(() => running && loop()), config.pollMs);
        timer.unref();
      };
      void dispatcher.tick().catch((err) => log.error({ err }, 'dispatch tick failed'));
      loop();
    },

    async stop(): Promise<void> {
      running = false;
      if (timer) clearTimeout(timer);
      for (let i = 0; i < 500 && busy.size > 0; i++) await new Promise((r) => setTimeout(r, 10));
    },

    /** A provider's delivery reports for an SMS channel; returns what to answer it. */
    async report(channelName: string, body: unknown): Promise<{ known: number; unknown: number; answer: unknown } | undefined> {
      const channel = channels.get(channelName);
      if (!channel || channel.type !== 'sms') return undefined;
      const parsed = smsReports(channel.gateway.provider, body);
      let known = 0;
      for (const r of parsed.reports) {
        const d = await outbox.report({ channel: channelName, ...r });
        reports.inc({ channel: channelName, outcome: !d ? 'unknown' : r.delivered ? 'delivered' : 'failed' });
        if (d) known++;
      }
      return { known, unknown: parsed.reports.length - known, answer: parsed.answer };
    },
  };
  return dispatcher;
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
