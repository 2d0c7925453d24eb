// Notification settings: channels (where a message can go), routes (which alarms go to which channels,
// by enterprise, level and escalation tier), escalation times, flood limits and retries.
import { z } from 'zod';
import { AlarmLevel } from '../../contract/alarms.ts';
import { SmtpServer } from '../../core/channels/smtp.ts';
import { RetryConfig } from '../../core/dispatch/config.ts';

const HttpUrl = z.string().url().refine((u) => /^https?:\/\//.test(u), 'an http(s) URL');

export const ChannelConfig = z.discriminatedUnion('type', [
  z
    .object({
      name: z.string().min(1),
      type: z.literal('webhook'),
      url: HttpUrl,
      headers: z.record(z.string(), z.string()).optional(),
    })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      /** WeCom (企业微信) group robot: https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=... */
      type: z.literal('wecom'),
      url: HttpUrl,
      mentionedMobiles: z.array(z.string()).optional(),
    })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      /** DingTalk (钉钉) custom robot: https://oapi.dingtalk.com/robot/send?access_token=... */
      type: z.literal('dingtalk'),
      url: HttpUrl,
      /** The robot's signing secret (SEC...), when "加签" is enabled. */
      secret: z.string().optional(),
      atMobiles: z.array(z.string()).optional(),
    })
    .strict(),
  z
    .object({
      name: z.string().min(1),
      type: z.literal('email'),
      smtp: SmtpServer,
      from: z.string().email(),
      to: z.array(z.string().email()).min(1),
    })
    .strict(),
]);
export type ChannelConfig = z.infer<typeof ChannelConfig>;

export const NOTIFY_KINDS = ['raised', 'escalated', 'cleared', 'escalation'] as const;
export type NotifyKind = (typeof NOTIFY_KINDS)[number];

export const RouteConfig = z
  .object({
    /** Enterprise ids, or ['*'] for every enterprise (a regulator's route). */
    enterprises: z.array(z.string()).min(1).default(['*']),
    levels: z.array(AlarmLevel).min(1).default([1, 2, 3, 4]),
    /** 0 enterprise duty officer, 1 enterprise principal, 2 regulator. */
    tier: z.number().int().min(0).max(2).default(0),
    /** Channels of rules.notify.channels: fixed receivers (groups, webhooks, mailboxes). */
    channels: z.array(z.string()).default([]),
    /**
     * Whoever is on duty at this tier of the duty roster (registry/roster.ts: the chain of the alarm's
     * enterprise unit: its officers, its leader, the park's officers, ...), reached through these personal
     * channels of `dispatch.channels` (sms, email) by the API's sender, not fixed addresses.
     */
    duty: z.object({ channels: z.array(z.string()).min(1) }).strict().optional(),
    /** Which changes are sent on this route (tier 0); higher tiers receive escalations. */
    on: z.array(z.enum(['raised', 'escalated', 'cleared'])).default(['raised', 'escalated', 'cleared']),
  })
  .strict();
export type RouteConfig = z.infer<typeof RouteConfig>;

export const notifyConfig = z
  .object({
    channels: z.array(ChannelConfig).default([]),
    routes: z.array(RouteConfig).default([]),
    escalation: z
      .object({
        /** Minutes an active alarm may stay unacknowledged before the next tier is told, per level. */
        ackTimeoutMinutes: z
          .object({ 1: z.number().positive().default(5), 2: z.number().positive().default(15), 3: z.number().positive().default(30), 4: z.number().positive().default(120) })
          .strict()
          .prefault({}),
        /** Devices on a grade-1 major hazard source escalate this much faster (domain.md, Grading). */
        grade1Factor: z.number().min(0.05).max(1).default(0.5),
      })
      .strict()
      .prefault({}),
    flood: z
      .object({
        /** EEMUA 191: more than 10 alarms in 10 minutes per operator is a flood. */
        maxMessages: z.number().int().min(1).default(10),
        windowMinutes: z.number().positive().default(10),
        /** During a flood, messages are held this long and then sent together as one summary. */
        holdSeconds: z.number().min(0).max(3600).default(30),
        /** Levels always sent one by one, flood or not (they still count towards the rate). */
        exemptLevels: z.array(AlarmLevel).default([1]),
      })
      .strict()
      .prefault({}),
    retry: RetryConfig,
    /** Time zone of the times written in messages. */
    timeZone: z.string().default('Asia/Shanghai'),
    /** Link to the operator console, put in messages as <consoleUrl>/alarms/<id>. */
    consoleUrl: z.string().url().optional(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const names = new Set<string>();
    for (const [i, ch] of c.channels.entries()) {
      if (names.has(ch.name)) ctx.addIssue({ code: 'custom', path: ['channels', i, 'name'], message: `channel name "${ch.name}" used twice` });
      names.add(ch.name);
    }
    for (const [i, r] of c.routes.entries()) {
      if (r.channels.length === 0 && !r.duty) ctx.addIssue({ code: 'custom', path: ['routes', i, 'channels'], message: 'a route names channels, or duty, or both' });
      for (const name of r.channels) if (!names.has(name)) ctx.addIssue({ code: 'custom', path: ['routes', i, 'channels'], message: `unknown channel "${name}"` });
    }
  })
  .prefault({});
export type NotifyConfig = z.infer<typeof notifyConfig>;
