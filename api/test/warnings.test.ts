// Warning publication end to end (issue 16): a real API on real stores, the duty roster, a real
// Mosquitto for the field displays' topic, a real SMTP server, and local fakes of the SMS gateway and
// the WeCom/DingTalk robots (their services are on the internet) that record what they were sent.
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openRoster } from '../../registry/roster.ts';
import { seedDemoRoster } from '../../registry/roster-demo.ts';
import { startHttpSink, type HttpSink } from '../../test/support/http-sink.ts';
import { ownMosquitto, type OwnMosquitto } from '../../test/support/mosquitto.ts';
import { waitFor } from '../../test/support/net.ts';
import { hasSmtpd, mailBody, startSmtpSink, type SmtpSink } from '../../test/support/smtp.ts';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, startHarness, type Harness } from './harness.ts';

const REPORT_TOKEN = 'report-token-0123456789';
let h: Harness;
let sms: HttpSink;
let robots: HttpSink;
let smtp: SmtpSink | undefined;
let broker: OwnMosquitto;
let displays: mqtt.MqttClient;
const shown: { topic: string; payload: any; retain: boolean }[] = [];
const headers: Record<string, Record<string, string>> = {};
let smsIds = 0;
let wecomFailures = 2;

const call = async (who: string, method: string, url: string, payload?: unknown) => {
  const res = await h.api.app.inject({ method: method as 'GET', url, headers: headers[who], ...(payload !== undefined ? { payload: payload as object } : {}) });
  return { status: res.statusCode, body: res.json() };
};
const warning = async (id: string) => (await call('sup', 'GET', `/api/v1/warnings/${id}`)).body;
/** Waits until no message of this revision is queued, moving the API's clock on so that retries come due. */
const settled = async (id: string, revision: number) =>
  waitFor(async () => {
    h.clock.t += 250;
    const w = await warning(id);
    const of = w.deliveries.filter((d: any) => d.revision === revision);
    return of.length > 0 && of.every((d: any) => d.state !== 'queued');
  }, 20_000);

beforeAll(async () => {
  sms = await startHttpSink(() => ({ body: { id: `sms-${++smsIds}` } }));
  robots = await startHttpSink((r) => (r.path === '/wecom' && wecomFailures-- > 0 ? { status: 500, body: 'busy' } : { body: { errcode: 0, errmsg: 'ok' } }));
  if (hasSmtpd) smtp = await startSmtpSink();
  broker = await ownMosquitto();
  await broker.start();
  const channels = [
    { name: 'sms', type: 'sms', gateway: { provider: 'generic', url: `${sms.url}/send` } },
    ...(smtp ? [{ name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: smtp.port }, from: 'warnings@bureau.example.org' }] : []),
    { name: 'duty-group', type: 'wecom', url: `${robots.url}/wecom` },
    { name: 'leaders', type: 'dingtalk', url: `${robots.url}/dingtalk`, secret: 'SECtest' },
    { name: 'displays', type: 'mqtt' },
  ];
  h = await startHarness({
    mqtt: { url: broker.url, username: 'api', password: 'x' },
    config: {
      dispatch: { channels, reportToken: REPORT_TOKEN, pollMs: 50, retry: { initialMs: 100, maxMs: 400 } },
      warnings: {
        audiences: [
          { id: 'duty_officers', zh: '值班人员', en: 'People on duty', onDuty: true, regulators: true, channels: ['sms', 'mail', 'duty-group'] },
          { id: 'safety_officers', zh: '企业安全管理人员', en: 'Safety officers', kinds: ['safety_officer', 'principal'], regulators: false, channels: ['sms', 'leaders'] },
          { id: 'public', zh: '周边公众', en: 'The public', channels: ['displays'] },
        ],
      },
    },
  });
  await seedPlant(h);
  const roster = await openRoster(`${h.dir}/roster.db`);
  await seedDemoRoster(roster, { now: Date.now(), enterprise: { id: 'acme', name: 'Acme Chemicals' } });
  await roster.close();
  headers.admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [['sup', 'supervisor', null], ['sup2', 'supervisor', null], ['op', 'operator', null], ['acme-user', 'enterprise', 'acme'], ['bravo-user', 'enterprise', 'bravo']] as const) {
    expect((await call('admin', 'POST', '/api/v1/accounts', { username, password: `${username}-password-1`, role, enterprise })).status).toBe(201);
    headers[username] = await login(h, username, `${username}-password-1`);
  }
  displays = mqtt.connect(broker.url, { clientId: 'display-1' });
  displays.on('message', (topic, payload, packet) => shown.push({ topic, payload: JSON.parse(payload.toString()), retain: packet.retain }));
  await new Promise<void>((r) => displays.on('connect', () => displays.subscribe('hw/warnings/#', { qos: 1 }, () => r())));
}, 60_000);

afterAll(async () => {
  displays?.end(true);
  await h?.close();
  await sms?.close();
  await robots?.close();
  smtp?.close();
  await broker?.remove();
});

describe('warnings', () => {
  let id = '';

  it('drafts a warning from an alarm in one call, its texts filled from the alarm and its template', async () => {
    const alarm = await raiseAlarm(h, 'acme', 'gas-1', 1);
    const r = await call('op', 'POST', '/api/v1/warnings', { alarmId: alarm.id, audiences: ['duty_officers', 'safety_officers', 'public'] });
    expect(r.status).toBe(201);
    id = r.body.id;
    expect(r.body).toMatchObject({ state: 'draft', level: 1, enterprises: ['acme'], alarmId: alarm.id, createdBy: 'op', needsApproval: true });
    expect(r.body.title).toBe('Acme Chemicals气体泄漏红色预警');
    expect(r.body.text).toContain('【红色预警】');
    expect(r.body.text).toContain('gas-1');
    expect(r.body.textEn).toContain('[Red warning]');
    expect(r.body.history.map((e: any) => e.action)).toEqual(['drafted']);
  });

  it('a red warning waits for a second supervisor: the operator cannot approve, nor the one who drafted it', async () => {
    const submitted = await call('op', 'POST', `/api/v1/warnings/${id}/submit`, {});
    expect(submitted.body).toMatchObject({ state: 'pending_approval', submittedBy: 'op' });
    expect(submitted.body.deliveries).toEqual([]);
    expect((await call('op', 'POST', `/api/v1/warnings/${id}/approve`, {})).status).toBe(403);
    // A supervisor's own draft needs another supervisor.
    const own = await call('sup2', 'POST', '/api/v1/warnings', { level: 2, title: 't', text: '橙色预警测试', audiences: ['public'] });
    await call('sup2', 'POST', `/api/v1/warnings/${own.body.id}/submit`, {});
    const self = await call('sup2', 'POST', `/api/v1/warnings/${own.body.id}/approve`, {});
    expect(self).toMatchObject({ status: 403, body: { code: 'HW_ERR_FOUR_EYES' } });
    expect((await call('sup2', 'POST', `/api/v1/warnings/${own.body.id}/withdraw`, {})).body.state).toBe('withdrawn');
  });

  it('once approved, every person on duty and every group gets it on every channel, with receipts; a robot that fails is retried', async () => {
    const approved = await call('sup', 'POST', `/api/v1/warnings/${id}/approve`, { note: '核实无误' });
    expect(approved.status).toBe(200);
    expect(approved.body).toMatchObject({ state: 'published', approvedBy: 'sup', revisions: 1 });
    // On duty now: the enterprise's officer and leader, the park's, the bureau's two officers and leader;
    // safety officers and principals of the enterprise.
    const names = approved.body.recipients.map((r: any) => r.id).sort();
    expect(names).toEqual(expect.arrayContaining(['ent-guo', 'ent-yang']));
    expect(names.filter((n: string) => n.startsWith('bureau-')).length).toBeGreaterThanOrEqual(3);
    expect(names.some((n: string) => n.startsWith('park-'))).toBe(true);
    await settled(id, 1);
    const w = await warning(id);
    const byChannel = (c: string) => w.deliveries.filter((d: any) => d.channel === c);
    // SMS: one per person with a phone, the text as written; the gateway's ids kept for its reports.
    expect(byChannel('sms').length).toBe(w.recipients.length);
    expect(sms.requests.map((r) => r.body.phone).sort()).toEqual(w.recipients.map((r: any) => r.phone).sort());
    expect(sms.requests[0].body.text).toBe(w.text);
    expect(byChannel('sms').every((d: any) => d.state === 'sent' && /gateway accepted \(id sms-\d+\)/.test(d.receipt))).toBe(true);
    // WeCom: once for the duty group, mentioning the people on duty; refused twice, then taken.
    const wecom = byChannel('duty-group');
    expect(wecom).toHaveLength(1);
    expect(wecom[0]).toMatchObject({ state: 'delivered', attempts: 3, receipt: 'robot accepted (errcode 0)' });
    const mention = robots.requests.filter((r) => r.path === '/wecom' && r.body.msgtype === 'text').pop()!;
    const dutyPhones = w.recipients.filter((r: any) => r.audiences.includes('duty_officers')).map((r: any) => r.phone);
    expect([...mention.body.text.mentioned_mobile_list].sort()).toEqual([...new Set(dutyPhones)].sort());
    // DingTalk: signed, to the safety officers' group.
    const ding = robots.requests.find((r) => r.path === '/dingtalk')!;
    expect(ding.query.get('sign')).toBeTruthy();
    expect(ding.body.markdown.text).toContain(w.text);
    // The field displays: retained on hw/warnings/displays.
    await waitFor(() => shown.some((s) => s.payload.id === id), 5000);
    expect(shown.find((s) => s.payload.id === id)).toMatchObject({ topic: 'hw/warnings/displays', payload: { type: 'warning', level: 1, revision: 1, text: w.text } });
    if (smtp) {
      await waitFor(() => smtp!.mails.length >= byChannel('mail').length, 5000);
      expect(smtp.mails.map((m) => m.to[0]).sort()).toEqual(byChannel('mail').map((d: any) => d.address).sort());
      expect(mailBody(smtp.mails[0])).toContain(w.text);
    }
    expect(w.progress.queued).toBe(0);
  });

  it("the SMS gateway's delivery reports mark messages delivered or failed, with the reason", async () => {
    const w = await warning(id);
    const [a, b] = w.deliveries.filter((d: any) => d.channel === 'sms');
    const denied = await h.api.app.inject({ method: 'POST', url: '/api/v1/dispatch/reports/sms', payload: { id: 'x', status: 'delivered' } });
    expect(denied.statusCode).toBe(401);
    const ids = sms.requests.filter((r) => r.body.ref === String(a.id) || r.body.ref === String(b.id));
    expect(ids).toHaveLength(2);
    const res = await h.api.app.inject({
      method: 'POST',
      url: '/api/v1/dispatch/reports/sms',
      headers: { authorization: `Bearer ${REPORT_TOKEN}` },
      payload: [{ ref: String(a.id), status: 'delivered' }, { ref: String(b.id), status: 'failed', error: 'phone switched off' }],
    });
    expect(res.statusCode).toBe(200);
    const after = await warning(id);
    expect(after.deliveries.find((d: any) => d.id === a.id)).toMatchObject({ state: 'delivered' });
    expect(after.deliveries.find((d: any) => d.id === b.id)).toMatchObject({ state: 'failed', lastError: 'delivery report: phone switched off' });
  });

  it('an update and the all-clear go to the same recipients; the enterprise concerned sees it, another does not', async () => {
    const before = await warning(id);
    const smsBefore = sms.requests.length;
    const upd = await call('sup', 'POST', `/api/v1/warnings/${id}/update`, { text: '泄漏点已找到，正在封堵。' });
    expect(upd.body).toMatchObject({ state: 'published', revisions: 2 });
    await settled(id, 2);
    const cleared = await call('sup', 'POST', `/api/v1/warnings/${id}/all-clear`, { note: '现场检测正常。' });
    expect(cleared.body).toMatchObject({ state: 'all_clear', revisions: 3 });
    await settled(id, 3);
    const w = await warning(id);
    for (const rev of [2, 3]) {
      const of = w.deliveries.filter((d: any) => d.revision === rev && d.channel === 'sms');
      expect(of.map((d: any) => d.recipient).sort()).toEqual(before.recipients.map((r: any) => r.id).sort());
    }
    const texts = sms.requests.slice(smsBefore).map((r) => r.body.text);
    expect(texts.filter((t) => t.startsWith('【预警更新】'))).toHaveLength(before.recipients.length);
    expect(texts.filter((t) => t.startsWith('【预警解除】') && t.includes('现场检测正常'))).toHaveLength(before.recipients.length);
    expect(w.history.map((e: any) => e.action)).toEqual(['drafted', 'submitted', 'approved', 'published', 'updated', 'all_clear']);
    // The retained display message is now the all-clear.
    await waitFor(() => shown.some((s) => s.payload.id === id && s.payload.revision === 3), 5000);
    const seen = await call('acme-user', 'GET', `/api/v1/warnings/${id}`);
    expect(seen.status).toBe(200);
    // The enterprise sees who was told and how it went, not the bureau's phones and mailboxes.
    expect(seen.body.recipients.length).toBe(before.recipients.length);
    expect(JSON.stringify(seen.body.recipients)).not.toMatch(/1380000|@/);
    expect(seen.body.deliveries.every((d: any) => d.address === '' || d.address === '***')).toBe(true);
    expect((await call('bravo-user', 'GET', `/api/v1/warnings/${id}`)).status).toBe(404);
    expect((await call('bravo-user', 'GET', '/api/v1/warnings')).body.map((x: any) => x.id)).not.toContain(id);
    expect((await call('acme-user', 'POST', `/api/v1/warnings/${id}/update`, { text: 'x' })).status).toBe(403);
    const audit = (await call('admin', 'GET', '/api/v1/audit?limit=200')).body;
    const actions = audit.filter((e: any) => e.target === id).map((e: any) => e.action);
    expect(actions).toEqual(expect.arrayContaining(['warning.draft', 'warning.submit', 'warning.approve', 'warning.update', 'warning.all_clear']));
  });

  it('refuses to publish what would reach nobody', async () => {
    const d = await call('op', 'POST', '/api/v1/warnings', { level: 4, title: '蓝色预警', text: '测试', audiences: ['duty_officers'], enterprises: [] });
    // Area-wide, to people on duty: reaches the regulators; level 4 needs no approval here? it does (default all levels).
    await call('op', 'POST', `/api/v1/warnings/${d.body.id}/submit`, {});
    const r = await call('sup', 'POST', `/api/v1/warnings/${d.body.id}/approve`, {});
    expect(r.status).toBe(200);
    const nobody = await call('op', 'POST', '/api/v1/warnings', { level: 4, title: 'x', text: 'y', audiences: ['rescue_teams'] });
    await call('op', 'POST', `/api/v1/warnings/${nobody.body.id}/submit`, {});
    expect(await call('sup', 'POST', `/api/v1/warnings/${nobody.body.id}/approve`, {})).toMatchObject({ status: 409, body: { code: 'HW_ERR_WARNING_NO_RECIPIENTS' } });
    expect((await call('op', 'POST', '/api/v1/warnings', { level: 4, title: 'x', text: 'y', audiences: ['nobody'] })).body.code).toBe('HW_ERR_WARNING_AUDIENCE');
  });
});
