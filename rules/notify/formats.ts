// Message bodies for each channel type: our generic webhook JSON, the WeCom (企业微信) group robot
// markdown message and the DingTalk (钉钉) custom robot markdown message (with its signature), and a
// plain-text e-mail. A flood summary lists every alarm it stands for, split into several messages
// when a robot's size limit would cut it: no alarm is ever dropped from the list.
import { ALARM_CONDITIONS, LEVEL_COLOURS, type AlarmEventPayload } from '../../contract/alarms.ts';
import { dingtalkRequests, ROBOT_LIMITS, webhookRequest, wecomRequests, type HttpRequest } from '../../core/channels/robots.ts';
import type { ChannelConfig } from './config.ts';

export interface Notice {
  kind: string;
  tier: number;
  payload: AlarmEventPayload;
}

export interface FormatContext {
  timeZone: string;
  consoleUrl?: string;
  now: number;
}

const TIER_NAMES = ['enterprise duty officer', 'enterprise principal', 'regulator'];
const TIER_ZH = ['企业值班人员', '企业负责人', '监管部门'];
const KIND_ZH: Record<string, string> = { raised: '报警', escalated: '报警升级', cleared: '报警解除', escalation: '超时未签收，逐级上报' };

/** WeCom markdown content is limited to 4096 bytes; DingTalk's practical limit is ~20000 bytes. */
const LIMITS: Record<string, number> = { ...ROBOT_LIMITS, webhook: Infinity, email: Infinity };

function time(ts: number, tz: string): string {
  const parts = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(ts));
  return `${parts.replace(',', '')} (${tz})`;
}

function line(n: Notice, ctx: FormatContext): string {
  const a = n.payload.alarm;
  const c = LEVEL_COLOURS[a.level];
  const spec = ALARM_CONDITIONS[a.condition];
  return `【${c.zh}预警 L${a.level}】${spec.zh} ${a.enterprise}/${a.device}${a.site ? ` (${a.site})` : ''} · ${time(n.payload.change.at, ctx.timeZone)}`;
}

function detail(n: Notice, ctx: FormatContext): string[] {
  const a = n.payload.alarm;
  const c = LEVEL_COLOURS[a.level];
  const spec = ALARM_CONDITIONS[a.condition];
  const out = [
    `**【${c.zh}预警 Level ${a.level} ${c.name}】${KIND_ZH[n.kind] ?? n.kind}：${spec.zh}**`,
    `${spec.title} (${a.condition})`,
    `> 企业 Enterprise: ${a.enterprise}`,
    `> 设备 Device: ${a.device}${a.site ? ` · ${a.site}` : ''}${a.hazardSource ? ` · 危险源 ${a.hazardSource}` : ''}`,
    `> ${a.message}`,
    `> 时间 Time: ${time(n.payload.change.at, ctx.timeZone)}`,
    `> 状态 State: ${a.state}`,
  ];
  if (n.kind === 'escalation') out.push(`> 已上报 Escalated to: ${TIER_ZH[n.tier] ?? n.tier} (${TIER_NAMES[n.tier] ?? n.tier}), 未签收 not acknowledged since ${time(a.raisedAt, ctx.timeZone)}`);
  if (ctx.consoleUrl) out.push(`[处置 Handle](${ctx.consoleUrl.replace(/\/$/, '')}/alarms/${a.id})`);
  else out.push(`> ID: ${a.id}`);
  return out;
}

/** Splits a summary into pages that fit the channel's limit; every alarm appears on exactly one page. */
function pages(header: (page: number, pagesTotal: number) => string, lines: string[], limit: number): string[] {
  const out: string[][] = [[]];
  let size = Buffer.byteLength(header(99, 99)) + 2;
  for (const l of lines) {
    const b = Buffer.byteLength(l) + 1;
    if (size + b > limit && out[out.length - 1].length > 0) {
      out.push([]);
      size = Buffer.byteLength(header(99, 99)) + 2;
    }
    out[out.length - 1].push(l);
    size += b;
  }
  return out.map((ls, i) => `${header(i + 1, out.length)}\n${ls.join('\n')}`);
}

/** The texts to send for one notice or a flood summary of several (one text per message). */
export function texts(channel: ChannelConfig, notices: Notice[], ctx: FormatContext): { title: string; text: string }[] {
  if (notices.length === 1) {
    const n = notices[0];
    const a = n.payload.alarm;
    return [{ title: `${LEVEL_COLOURS[a.level].zh}预警 ${ALARM_CONDITIONS[a.condition].zh} ${a.device}`, text: detail(n, ctx).join('\n') }];
  }
  const worst = Math.min(...notices.map((n) => n.payload.alarm.level));
  const lines = notices.map((n, i) => `${i + 1}. ${line(n, ctx)}${n.kind !== 'raised' ? ` [${KIND_ZH[n.kind] ?? n.kind}]` : ''}`);
  const header = (p: number, t: number) =>
    `**报警汇总 Alarm flood summary: ${notices.length} alarms${t > 1 ? ` (part ${p}/${t})` : ''}, most severe: ${LEVEL_COLOURS[worst as 1].zh} L${worst}**\n> 报警过多，已合并发送 (EEMUA 191 flood); 全部报警如下 every alarm is listed.`;
  return pages(header, lines, LIMITS[channel.type] ?? Infinity).map((text) => ({ title: `报警汇总 ${notices.length} alarms`, text }));
}

/** HTTP requests for a webhook-type channel. */
export function httpRequests(channel: Exclude<ChannelConfig, { type: 'email' }>, notices: Notice[], ctx: FormatContext): HttpRequest[] {
  if (channel.type === 'webhook') {
    const body =
      notices.length === 1
        ? { type: 'alarm', kind: notices[0].kind, tier: notices[0].tier, ...notices[0].payload, text: texts(channel, notices, ctx)[0].text }
        : { type: 'summary', count: notices.length, alarms: notices.map((n) => ({ kind: n.kind, tier: n.tier, ...n.payload })), text: texts(channel, notices, ctx).map((t) => t.text).join('\n') };
    return [webhookRequest(channel.url, channel.headers, body)];
  }
  if (channel.type === 'wecom') return wecomRequests(channel.url, texts(channel, notices, ctx), channel.mentionedMobiles);
  return dingtalkRequests(channel.url, channel.secret, ctx.now, texts(channel, notices, ctx), channel.atMobiles);
}
