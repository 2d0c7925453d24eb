// SMS through the gateway a bureau already contracts: the request each provider expects, how it says
// it took the message (and the id its delivery report will carry), and the delivery reports it posts
// back. Providers: `generic` (a JSON POST, for in-house gateways and SMS cats), `aliyun` (Dysmsapi
// 2017-05-25 SendSms, RPC signature HMAC-SHA1) and `tencent` (SMS 2021-01-11 SendSms, TC3-HMAC-SHA256).
// Mainland providers send only pre-approved templates: the warning text goes in as a template parameter.
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { HttpRequest } from './robots.ts';

export const SmsGateway = z.discriminatedUnion('provider', [
  z
    .object({
      provider: z.literal('generic'),
      /** POST {phone, text, ref} as JSON; the answer's `idField` is the id its reports carry. */
      url: z.string().url(),
      headers: z.record(z.string(), z.string()).optional(),
      idField: z.string().default('id'),
    })
    .strict(),
  z
    .object({
      provider: z.literal('aliyun'),
      url: z.string().url().default('https://dysmsapi.aliyuncs.com/'),
      accessKeyId: z.string().min(1),
      accessKeySecret: z.string().min(1),
      signName: z.string().min(1),
      templateCode: z.string().min(1),
      /** The template's variable that takes the text, e.g. ${content}. */
      textParam: z.string().default('content'),
      regionId: z.string().default('cn-hangzhou'),
    })
    .strict(),
  z
    .object({
      provider: z.literal('tencent'),
      url: z.string().url().default('https://sms.tencentcloudapi.com/'),
      secretId: z.string().min(1),
      secretKey: z.string().min(1),
      smsSdkAppId: z.string().min(1),
      signName: z.string().min(1),
      templateId: z.string().min(1),
      region: z.string().default('ap-guangzhou'),
    })
    .strict(),
]);
export type SmsGateway = z.infer<typeof SmsGateway>;

export interface SmsMessage {
  phone: string;
  text: string;
  /** Our delivery id, sent where the provider keeps one (OutId, SessionContext) and echoed in reports. */
  ref: string;
}

/** RFC 3986 encoding as Alibaba Cloud's RPC signature requires (space %20, * %2A, ~ kept). */
function percentEncode(s: string): string {
  return encodeURIComponent(s).replace(/\+/g, '%20').replace(/\*/g, '%2A').replace(/%7E/g, '~').replace(/[!'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** Alibaba Cloud RPC signature (V1): HMAC-SHA1 over "POST&%2F&<encoded sorted query>" with "<secret>&". */
export function aliyunSignature(params: Record<string, string>, secret: string, method = 'POST'): string {
  const canonical = Object.keys(params)
    .sort()
    .map((k) => `${percentEncode(k)}=${percentEncode(params[k])}`)
    .join('&');
  const toSign = `${method}&${percentEncode('/')}&${percentEncode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(toSign).digest('base64');
}

const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();

/** Tencent Cloud API 3.0 signature TC3-HMAC-SHA256 over content-type and host. */
export function tencentAuthorization(o: { secretId: string; secretKey: string; host: string; body: string; timestamp: number; service?: string }): string {
  const service = o.service ?? 'sms';
  const date = new Date(o.timestamp * 1000).toISOString().slice(0, 10);
  const canonical = `POST\n/\n\ncontent-type:application/json; charset=utf-8\nhost:${o.host}\n\ncontent-type;host\n${sha256hex(o.body)}`;
  const scope = `${date}/${service}/tc3_request`;
  const toSign = `TC3-HMAC-SHA256\n${o.timestamp}\n${scope}\n${sha256hex(canonical)}`;
  const key = hmac(hmac(hmac(`TC3${o.secretKey}`, date), service), 'tc3_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return `TC3-HMAC-SHA256 Credential=${o.secretId}/${scope}, SignedHeaders=content-type;host, Signature=${signature}`;
}

/** Mainland numbers in E.164 for the providers that want it (+86...). */
function e164(phone: string): string {
  const p = phone.replace(/[\s-]/g, '');
  return p.startsWith('+') ? p : `+86${p}`;
}

export function smsRequest(gw: SmsGateway, m: SmsMessage, now: number): HttpRequest {
  const json = { 'content-type': 'application/json; charset=utf-8' };
  if (gw.provider === 'generic') return { url: gw.url, headers: { ...json, ...(gw.headers ?? {}) }, body: JSON.stringify({ phone: m.phone, text: m.text, ref: m.ref }) };
  if (gw.provider === 'aliyun') {
    const params: Record<string, string> = {
      AccessKeyId: gw.accessKeyId,
      Action: 'SendSms',
      Format: 'JSON',
      OutId: m.ref,
      PhoneNumbers: m.phone.replace(/^\+86/, ''),
      RegionId: gw.regionId,
      SignName: gw.signName,
      SignatureMethod: 'HMAC-SHA1',
      SignatureNonce: randomUUID(),
      SignatureVersion: '1.0',
      TemplateCode: gw.templateCode,
      TemplateParam: JSON.stringify({ [gw.textParam]: m.text }),
      Timestamp: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      Version: '2017-05-25',
    };
    const signed = { Signature: aliyunSignature(params, gw.accessKeySecret), ...params };
    const body = Object.entries(signed)
      .map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`)
      .join('&');
    return { url: gw.url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body };
  }
  const body = JSON.stringify({ PhoneNumberSet: [e164(m.phone)], SmsSdkAppId: gw.smsSdkAppId, SignName: gw.signName, TemplateId: gw.templateId, TemplateParamSet: [m.text], SessionContext: m.ref });
  const host = new URL(gw.url).host;
  const timestamp = Math.floor(now / 1000);
  return {
    url: gw.url,
    headers: {
      ...json,
      authorization: tencentAuthorization({ secretId: gw.secretId, secretKey: gw.secretKey, host, body, timestamp }),
      'x-tc-action': 'SendSms',
      'x-tc-timestamp': String(timestamp),
      'x-tc-version': '2021-01-11',
      'x-tc-region': gw.region,
    },
    body,
  };
}

/** Reads the gateway's answer: the id its delivery reports will carry, or throws with its reason. */
export function smsAccepted(gw: SmsGateway, status: number, text: string): string {
  if (status < 200 || status >= 300) throw new Error(`HTTP ${status} ${text.slice(0, 200)}`);
  let body: Record<string, any>;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`SMS gateway answered non-JSON: ${text.slice(0, 200)}`);
  }
  if (gw.provider === 'generic') return String(body[gw.idField] ?? '');
  if (gw.provider === 'aliyun') {
    // {"Code":"OK","Message":"OK","BizId":"...","RequestId":"..."}; any other Code is a refusal (isv.BUSINESS_LIMIT_CONTROL ...).
    if (body.Code !== 'OK') throw new Error(`aliyun ${body.Code}: ${body.Message ?? ''}`);
    return String(body.BizId ?? '');
  }
  const r = body.Response ?? {};
  if (r.Error) throw new Error(`tencent ${r.Error.Code}: ${r.Error.Message ?? ''}`);
  const s = (r.SendStatusSet ?? [])[0];
  if (!s || s.Code !== 'Ok') throw new Error(`tencent ${s?.Code ?? 'no status'}: ${s?.Message ?? ''}`);
  return String(s.SerialNo ?? '');
}

export interface SmsReport {
  /** The provider's id of the message (BizId, SerialNo) or our ref, whichever the report carries. */
  messageId?: string;
  ref?: string;
  delivered: boolean;
  error?: string;
  at?: number;
}

/** Delivery reports as each provider posts them (one or many per request); what to answer it. */
export function smsReports(provider: SmsGateway['provider'], body: unknown): { reports: SmsReport[]; answer: unknown } {
  const list = Array.isArray(body) ? body : [body];
  if (provider === 'generic') {
    // {id?, ref?, status: 'delivered' | 'failed', error?}
    return { reports: list.map((r: any) => ({ messageId: r.id ? String(r.id) : undefined, ref: r.ref ? String(r.ref) : undefined, delivered: r.status === 'delivered', error: r.error ? String(r.error) : r.status !== 'delivered' ? String(r.status) : undefined })), answer: { ok: true } };
  }
  if (provider === 'aliyun') {
    // SmsReport push: [{phone_number, success, biz_id, out_id, err_code, err_msg, report_time}]
    return { reports: list.map((r: any) => ({ messageId: r.biz_id, ref: r.out_id, delivered: r.success === true, error: r.success === true ? undefined : `${r.err_code ?? ''} ${r.err_msg ?? ''}`.trim() })), answer: { code: 0, msg: '成功' } };
  }
  // Tencent status report: [{sid, mobile, report_status: 'SUCCESS' | 'FAIL', errmsg, description, user_receive_time}]
  return { reports: list.map((r: any) => ({ messageId: r.sid, delivered: r.report_status === 'SUCCESS', error: r.report_status === 'SUCCESS' ? undefined : `${r.errmsg ?? ''} ${r.description ?? ''}`.trim() })), answer: { result: 0, errmsg: 'OK' } };
}
