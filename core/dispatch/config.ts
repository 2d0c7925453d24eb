// Where warnings (and any message to people) can go: the channels of the one entry point for
// publishing (一个口子发布). Personal channels reach one person at an address (SMS to a phone,
// e-mail to a mailbox); group channels reach a place once (a WeCom or DingTalk group, with the people
// concerned mentioned; a webhook; an MQTT topic that field displays and PA/broadcast controllers follow).
import { z } from 'zod';
import { WARNING_TOPIC_PREFIX } from '../../contract/topics.ts';
import { SmsGateway } from '../channels/sms.ts';
import { SmtpServer } from '../channels/smtp.ts';

const HttpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL');
const Name = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'lower-case letters, digits, - and _');

export const DispatchChannel = z.discriminatedUnion('type', [
  z.object({ name: Name, type: z.literal('sms'), gateway: SmsGateway }).strict(),
  z.object({ name: Name, type: z.literal('email'), smtp: SmtpServer, from: z.string().email() }).strict(),
  z.object({ name: Name, type: z.literal('wecom'), url: HttpUrl }).strict(),
  z.object({ name: Name, type: z.literal('dingtalk'), url: HttpUrl, secret: z.string().optional() }).strict(),
  z.object({ name: Name, type: z.literal('webhook'), url: HttpUrl, headers: z.record(z.string(), z.string()).optional() }).strict(),
  z
    .object({
      name: Name,
      type: z.literal('mqtt'),
      /** Field displays and PA controllers subscribe here (the broker lets devices read hw/warnings/#); the payload is the warning as JSON. */
      topic: z.string().regex(/^[^#+]+$/, 'a topic without wildcards').optional(),
      /** Keep the last message on the topic so that a display that restarts shows the warning in force. */
      retain: z.boolean().default(true),
    })
    .strict(),
]);
export type DispatchChannel = z.infer<typeof DispatchChannel>;

/** The topic of an mqtt channel: its own, else hw/warnings/<name>. */
export function mqttTopic(channel: Extract<DispatchChannel, { type: 'mqtt' }>): string {
  return channel.topic ?? `${WARNING_TOPIC_PREFIX}/${channel.name}`;
}

/** Channels that reach one person at an address of theirs, and which address. */
export const PERSONAL: Partial<Record<DispatchChannel['type'], 'phone' | 'email'>> = { sms: 'phone', email: 'email' };

/** Retries of a message whose receiver refused it: backoff doubling from initialMs to maxMs, then failed for good. */
export const RetryConfig = z
  .object({
    initialMs: z.number().int().min(10).default(2000),
    maxMs: z.number().int().min(100).default(300_000),
    /** After this many failed attempts the message is failed for good, logged with its last reason. */
    maxAttempts: z.number().int().min(1).default(20),
    timeoutMs: z.number().int().min(100).default(10_000),
  })
  .strict()
  .prefault({});

export const dispatchConfig = z
  .object({
    channels: z.array(DispatchChannel).default([]),
    retry: RetryConfig,
    /** Bearer token SMS gateways present when they post delivery reports (POST /api/v1/dispatch/reports/<channel>). */
    reportToken: z.string().min(16).optional(),
    /** How often the sender looks for due deliveries. */
    pollMs: z.number().int().min(20).default(500),
  })
  .strict()
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    for (const [i, ch] of c.channels.entries()) {
      if (seen.has(ch.name)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `channel name "${ch.name}" used twice` });
      seen.add(ch.name);
    }
  })
  .prefault({});
export type DispatchConfig = z.infer<typeof dispatchConfig>;
