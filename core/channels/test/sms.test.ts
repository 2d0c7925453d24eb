// SMS gateway request shapes and signatures, the providers' answers, and their delivery reports.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { aliyunSignature, SmsGateway, smsAccepted, smsReports, smsRequest, tencentAuthorization } from '../sms.ts';

describe('SMS gateways', () => {
  it("Alibaba Cloud's RPC signature gives the value of the provider's own published example", () => {
    // Dysmsapi "签名机制" example (GET, AccessKeySecret testSecret): Signature zJDF+Lrzhj/ThnlvIToysFRq6t4=
    const p = { AccessKeyId: 'testId', Action: 'SendSms', Format: 'XML', OutId: '123', PhoneNumbers: '15300000001', RegionId: 'cn-hangzhou', SignName: '阿里云短信测试专用', SignatureMethod: 'HMAC-SHA1', SignatureNonce: '45e25e9b-0a6f-4070-8c85-2956eda1b466', SignatureVersion: '1.0', TemplateCode: 'SMS_71390007', TemplateParam: '{"customer":"test"}', Timestamp: '2017-07-12T02:42:19Z', Version: '2017-05-25' };
    expect(aliyunSignature(p, 'testSecret', 'GET')).toBe('zJDF+Lrzhj/ThnlvIToysFRq6t4=');
  });

  it('an Alibaba Cloud request carries the text as the template parameter, our id as OutId, and a valid signature', () => {
    const gw = SmsGateway.parse({ provider: 'aliyun', url: 'http://127.0.0.1:1/', accessKeyId: 'kid', accessKeySecret: 'ks', signName: '应急管理局', templateCode: 'SMS_1' });
    const req = smsRequest(gw, { phone: '+8613800000001', text: '【红色预警】测试', ref: '42' }, Date.UTC(2026, 11, 6, 1, 2, 3));
    const form = Object.fromEntries(new URLSearchParams(req.body));
    expect(form).toMatchObject({ Action: 'SendSms', PhoneNumbers: '13800000001', OutId: '42', SignName: '应急管理局', TemplateCode: 'SMS_1', Timestamp: '2026-12-06T01:02:03Z' });
    expect(JSON.parse(form.TemplateParam)).toEqual({ content: '【红色预警】测试' });
    const { Signature, ...rest } = form;
    expect(Signature).toBe(aliyunSignature(rest, 'ks'));
  });

  it('a Tencent Cloud request is signed TC3-HMAC-SHA256 over its body, host and date', () => {
    const gw = SmsGateway.parse({ provider: 'tencent', url: 'http://127.0.0.1:9/', secretId: 'AKID1', secretKey: 'sk', smsSdkAppId: '1400000000', signName: '应急', templateId: '123' });
    const now = Date.UTC(2026, 11, 6, 1, 2, 3);
    const req = smsRequest(gw, { phone: '13800000001', text: 'x', ref: '7' }, now);
    expect(JSON.parse(req.body)).toEqual({ PhoneNumberSet: ['+8613800000001'], SmsSdkAppId: '1400000000', SignName: '应急', TemplateId: '123', TemplateParamSet: ['x'], SessionContext: '7' });
    expect(req.headers).toMatchObject({ 'x-tc-action': 'SendSms', 'x-tc-version': '2021-01-11', 'x-tc-timestamp': String(now / 1000) });
    // The same signature computed step by step as the provider's documentation lays it out.
    const hex = (s: string) => createHash('sha256').update(s).digest('hex');
    const canonical = ['POST', '/', '', 'content-type:application/json; charset=utf-8', 'host:127.0.0.1:9', '', 'content-type;host', hex(req.body)].join('\n');
    const toSign = ['TC3-HMAC-SHA256', String(now / 1000), '2026-12-06/sms/tc3_request', hex(canonical)].join('\n');
    const k = (key: string | Buffer, s: string) => createHmac('sha256', key).update(s).digest();
    const sig = createHmac('sha256', k(k(k('TC3sk', '2026-12-06'), 'sms'), 'tc3_request')).update(toSign).digest('hex');
    expect(req.headers.authorization).toBe(`TC3-HMAC-SHA256 Credential=AKID1/2026-12-06/sms/tc3_request, SignedHeaders=content-type;host, Signature=${sig}`);
    expect(tencentAuthorization({ secretId: 'AKID1', secretKey: 'sk', host: '127.0.0.1:9', body: req.body, timestamp: now / 1000 })).toBe(req.headers.authorization);
  });

  it("reads each provider's yes and no, and the id its delivery reports carry", () => {
    const generic = SmsGateway.parse({ provider: 'generic', url: 'http://x/', idField: 'msgid' });
    expect(smsAccepted(generic, 200, '{"msgid":"m1"}')).toBe('m1');
    expect(() => smsAccepted(generic, 503, 'busy')).toThrow(/HTTP 503/);
    const ali = SmsGateway.parse({ provider: 'aliyun', accessKeyId: 'a', accessKeySecret: 'b', signName: 'c', templateCode: 'd' });
    expect(smsAccepted(ali, 200, '{"Code":"OK","BizId":"900619746936498440^0"}')).toBe('900619746936498440^0');
    expect(() => smsAccepted(ali, 200, '{"Code":"isv.BUSINESS_LIMIT_CONTROL","Message":"触发分钟级流控"}')).toThrow(/BUSINESS_LIMIT_CONTROL/);
    const tc = SmsGateway.parse({ provider: 'tencent', secretId: 'a', secretKey: 'b', smsSdkAppId: 'c', signName: 'd', templateId: 'e' });
    expect(smsAccepted(tc, 200, '{"Response":{"SendStatusSet":[{"SerialNo":"2640:1","Code":"Ok"}],"RequestId":"r"}}')).toBe('2640:1');
    expect(() => smsAccepted(tc, 200, '{"Response":{"SendStatusSet":[{"Code":"LimitExceeded.PhoneNumberDailyLimit","Message":"limit"}]}}')).toThrow(/DailyLimit/);
    expect(() => smsAccepted(tc, 200, '{"Response":{"Error":{"Code":"AuthFailure.SignatureFailure","Message":"bad"}}}')).toThrow(/SignatureFailure/);
  });

  it('parses delivery reports as each provider posts them', () => {
    expect(smsReports('aliyun', [{ phone_number: '138', success: false, biz_id: 'b1', out_id: '5', err_code: 'MK:0001', err_msg: '用户关机' }]).reports).toEqual([{ messageId: 'b1', ref: '5', delivered: false, error: 'MK:0001 用户关机' }]);
    expect(smsReports('tencent', [{ sid: 's1', report_status: 'SUCCESS', errmsg: 'DELIVRD' }]).reports).toEqual([{ messageId: 's1', delivered: true, error: undefined }]);
    expect(smsReports('generic', { id: 'm1', status: 'delivered' }).reports[0]).toMatchObject({ messageId: 'm1', delivered: true });
  });
});
