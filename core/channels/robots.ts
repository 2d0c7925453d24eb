// The group robots of the two chat platforms monitoring rooms use, as HTTP requests: the WeCom
// (企业微信) group robot and the DingTalk (钉钉) custom robot, with their size limits, mentions and
// DingTalk's signature; and how they say yes. Shared by the alarm notifier and the warning dispatcher.
import { createHmac } from 'node:crypto';

export interface HttpRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' };

/** Bytes of markdown a robot takes in one message (WeCom: 4096; DingTalk: about 20,000 in practice). */
export const ROBOT_LIMITS = { wecom: 4000, dingtalk: 18_000 } as const;

/**
 * WeCom group robot (https://developer.work.weixin.qq.com/document/path/91770, 群机器人配置说明):
 * msgtype markdown, content ≤ 4096 bytes. Markdown messages cannot @ people, so mentions go in a
 * following text message with mentioned_mobile_list.
 */
export function wecomRequests(url: string, messages: { title: string; text: string }[], mobiles: string[] = []): HttpRequest[] {
  const out = messages.map((m) => ({ url, headers: JSON_HEADERS, body: JSON.stringify({ msgtype: 'markdown', markdown: { content: m.text } }) }));
  if (mobiles.length && messages.length) out.push({ url, headers: JSON_HEADERS, body: JSON.stringify({ msgtype: 'text', text: { content: messages[0].title, mentioned_mobile_list: mobiles } }) });
  return out;
}

/** DingTalk signature ("加签"): HmacSHA256 over "<timestamp>\n<secret>", base64, URL-encoded. */
export function dingtalkSign(secret: string, timestamp: number): string {
  return encodeURIComponent(createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64'));
}

/** DingTalk custom robot: msgtype markdown {title, text}, at {atMobiles}; with a secret the URL is signed. */
export function dingtalkRequests(url: string, secret: string | undefined, now: number, messages: { title: string; text: string }[], mobiles: string[] = []): HttpRequest[] {
  return messages.map((m) => {
    const signed = secret ? `${url}${url.includes('?') ? '&' : '?'}timestamp=${now}&sign=${dingtalkSign(secret, now)}` : url;
    const mentions = mobiles.length ? `\n\n${mobiles.map((x) => `@${x}`).join(' ')}` : '';
    return { url: signed, headers: JSON_HEADERS, body: JSON.stringify({ msgtype: 'markdown', markdown: { title: m.title, text: m.text + mentions }, at: { atMobiles: mobiles, isAtAll: false } }) };
  });
}

export function webhookRequest(url: string, headers: Record<string, string> | undefined, body: unknown): HttpRequest {
  return { url, headers: { ...JSON_HEADERS, ...(headers ?? {}) }, body: JSON.stringify(body) };
}

/**
 * Posts one request; throws unless the receiver took it. Robots answer 200 with {"errcode":0}; anything
 * else (rate limit 45009, a wrong key, ...) is a failure to retry. Returns the body for callers that read an id.
 */
export async function post(req: HttpRequest, robot: boolean, timeoutMs: number): Promise<string> {
  const res = await fetch(req.url, { method: 'POST', headers: req.headers, body: req.body, signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  if (!res.ok) throw new Error(`HTTP ${res.status} ${text.slice(0, 200)}`);
  if (robot) {
    let errcode: unknown;
    try {
      errcode = (JSON.parse(text) as { errcode?: unknown }).errcode;
    } catch {
      errcode = 'not JSON';
    }
    if (errcode !== 0) throw new Error(`robot refused: ${text.slice(0, 200)}`);
  }
  return text;
}
