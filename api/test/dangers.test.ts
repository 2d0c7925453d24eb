// Hidden dangers through the API, on two API nodes sharing one data directory (as two nodes share a
// database): roles and the enterprise boundary, opening from an alarm, evidence judged by its bytes
// and its size, the recheck by another account, the audit log, and the overdue escalation recorded
// and handed to the hook exactly once per tier while both nodes' timers run.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import type { Danger } from '../../dangers/model.ts';
import { openRegistry, type Registry } from '../../registry/registry.ts';
import { openAlarmStore, type AlarmStore } from '../../rules/store.ts';
import { startApi, type ApiService } from '../start.ts';
import { raiseAlarm, seedPlant } from './fixture.ts';
import { ADMIN, login, type Harness } from './harness.ts';

const HOUR = 3_600_000;
const LIMIT = 64 * 1024;
const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==',
  'base64',
);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n');

let dir: string;
let registry: Registry;
let alarms: AlarmStore;
let a: ApiService;
let b: ApiService;
const clock = { t: Date.UTC(2026, 2, 1, 2, 0) };
const calls: { node: string; danger: string; tier: number }[] = [];
const headers: Record<string, Record<string, string>> = {};

const inject = (method: string, url: string, who: string | null, payload?: unknown, node = a) =>
  node.app.inject({ method: method as 'GET', url, headers: who ? headers[who] : {}, ...(payload !== undefined ? { payload: payload as object } : {}) });
const upload = (id: string, who: string, body: Buffer, type: string, name = 'photo.png', node = a) =>
  node.app.inject({ method: 'POST', url: `/api/v1/dangers/${id}/evidence?name=${encodeURIComponent(name)}`, headers: { ...headers[who], 'content-type': type }, payload: body });
const open = async (who: string, body: Record<string, unknown>) => {
  const res = await inject('POST', '/api/v1/dangers', who, { grade: 'general', responsible: { name: '张工', phone: '13800000000' }, deadline: clock.t + 24 * HOUR, ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().danger as Danger;
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hazwatch-dangers-'));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, api: { port: 0, adminPassword: ADMIN.password, loginRateLimit: 1000 }, dangers: { checkSeconds: 1, evidenceMaxBytes: LIMIT } } });
  registry = await openRegistry(join(dir, 'registry.db'));
  alarms = await openAlarmStore(join(dir, 'alarms.db'), { now: () => clock.t });
  const node = (name: string) =>
    startApi({
      config,
      log: silentLogger(),
      metrics: createMetricsRegistry(),
      registry,
      alarms,
      mqtt: false,
      now: () => clock.t,
      onDangerEscalated: async (danger, tier) => void calls.push({ node: name, danger: danger.id, tier }),
    });
  a = await node('a');
  b = await node('b');
  await seedPlant({ registry, alarms, clock } as unknown as Harness);
  const h = { api: a } as Harness;
  headers.admin = await login(h, ADMIN.username, ADMIN.password);
  for (const [username, role, enterprise] of [['sup', 'supervisor', null], ['op', 'operator', null], ['acme-user', 'enterprise', 'acme'], ['bravo-user', 'enterprise', 'bravo']] as const) {
    expect((await inject('POST', '/api/v1/accounts', 'admin', { username, password: `${username}-password-1`, role, enterprise })).statusCode).toBe(201);
    headers[username] = await login(h, username, `${username}-password-1`);
  }
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await alarms?.dispose();
  await registry?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('hidden dangers through the API', () => {
  test('opened by hand or from an alarm, within the enterprise boundary', async () => {
    // An enterprise user opens its own; its enterprise is the default, another is 403.
    const own = await open('acme-user', { title: '消防通道堵塞', origin: 'inspection', hazardSource: 'tankfarm' });
    expect(own).toMatchObject({ enterprise: 'acme', origin: 'inspection', state: 'open', createdBy: 'acme-user', hazardSource: 'tankfarm', position: { lat: 30.752, lon: 121.246, from: 'hazardSource' } });
    expect((await inject('POST', '/api/v1/dangers', 'acme-user', { enterprise: 'bravo', title: 'x', grade: 'general', responsible: { name: 'x' }, deadline: clock.t + HOUR })).statusCode).toBe(403);
    // What it refers to must exist; the deadline lies ahead; a title is needed by hand.
    const bad = (body: Record<string, unknown>) => inject('POST', '/api/v1/dangers', 'op', { enterprise: 'acme', title: 't', grade: 'major', responsible: { name: 'x' }, deadline: clock.t + HOUR, ...body });
    expect((await bad({ hazardSource: 'nope' })).json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.hazardSource' });
    expect((await bad({ device: 'nope' })).json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.device' });
    expect((await bad({ deadline: clock.t - 1 })).json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.deadline' });
    expect((await bad({ title: undefined })).json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.title' });
    expect((await bad({ grade: 'huge' })).json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.grade' });

    // From an alarm: enterprise, device, hazard source, title and text come from it.
    const alarm = await raiseAlarm({ registry, alarms, clock } as unknown as Harness, 'acme', 'gas-1', 2);
    const fromAlarm = await open('op', { alarmId: alarm.id });
    expect(fromAlarm).toMatchObject({ enterprise: 'acme', device: 'gas-1', hazardSource: 'tankfarm', alarmId: alarm.id, origin: 'alarm', title: '可燃气体浓度超限 · gas-1', description: 'test alarm' });
    const bravoAlarm = await raiseAlarm({ registry, alarms, clock } as unknown as Harness, 'bravo', 'gas-9', 1);
    // Another enterprise's alarm does not exist for an enterprise user.
    expect((await inject('POST', '/api/v1/dangers', 'acme-user', { alarmId: bravoAlarm.id, grade: 'major', responsible: { name: 'x' }, deadline: clock.t + HOUR })).statusCode).toBe(404);
    const bravo = await open('op', { alarmId: bravoAlarm.id, grade: 'major', title: 'LPG 球罐区泄漏隐患' });
    expect(bravo).toMatchObject({ enterprise: 'bravo', grade: 'major', title: 'LPG 球罐区泄漏隐患' });

    // The boundary: another enterprise's danger is not found; lists are the own enterprise's.
    expect((await inject('GET', `/api/v1/dangers/${bravo.id}`, 'acme-user')).statusCode).toBe(404);
    expect((await inject('POST', `/api/v1/dangers/${bravo.id}/rectify`, 'acme-user', {})).statusCode).toBe(404);
    expect((await upload(bravo.id, 'acme-user', PNG, 'image/png')).statusCode).toBe(404);
    const mine = (await inject('GET', '/api/v1/dangers', 'acme-user')).json();
    expect(mine.total).toBe(2);
    expect(new Set(mine.dangers.map((d: Danger) => d.enterprise))).toEqual(new Set(['acme']));
    expect((await inject('GET', '/api/v1/dangers?enterprise=bravo', 'acme-user')).statusCode).toBe(403);
    const all = (await inject('GET', '/api/v1/dangers?grade=major', 'op')).json();
    expect(all.dangers.map((d: Danger) => d.id)).toEqual([bravo.id]);
    // Both nodes serve the same dangers.
    expect((await inject('GET', `/api/v1/dangers/${bravo.id}`, 'sup', undefined, b)).json().danger.id).toBe(bravo.id);
  });

  test('evidence judged by its bytes and its size, kept with its hash, served in scope', async () => {
    const d = await open('acme-user', { title: '安全阀未校验' });
    // A photo sent as octet-stream is a photo; a page called photo.png with image/png is refused.
    const ok = await upload(d.id, 'acme-user', PNG, 'application/octet-stream', 'C:\\fakepath\\整改后.jpeg');
    expect(ok.statusCode, ok.body).toBe(201);
    const sha = createHash('sha256').update(PNG).digest('hex');
    expect(ok.json().evidence).toMatchObject({ name: '整改后.png', contentType: 'image/png', size: PNG.length, sha256: sha, by: 'acme-user' });
    const html = await upload(d.id, 'acme-user', Buffer.from('<html><script>alert(1)</script></html>'), 'image/png');
    expect(html.statusCode).toBe(415);
    expect(html.json()).toMatchObject({ code: 'HW_ERR_EVIDENCE_TYPE' });
    const big = await upload(d.id, 'acme-user', Buffer.concat([PDF, Buffer.alloc(LIMIT)]), 'application/pdf', 'report.pdf');
    expect(big.statusCode).toBe(413);
    expect(big.json()).toMatchObject({ code: 'HW_ERR_EVIDENCE_TOO_LARGE' });
    expect((await upload(d.id, 'acme-user', Buffer.alloc(0), 'application/pdf')).json()).toMatchObject({ code: 'HW_ERR_EVIDENCE_TYPE' });
    const pdf = await upload(d.id, 'acme-user', PDF, 'text/plain', 'report.txt', b);
    expect(pdf.json().evidence).toMatchObject({ name: 'report.pdf', contentType: 'application/pdf' });
    // Without a session nothing is read.
    expect((await a.app.inject({ method: 'POST', url: `/api/v1/dangers/${d.id}/evidence`, headers: { 'content-type': 'image/png' }, payload: PNG })).statusCode).toBe(401);

    const detail = (await inject('GET', `/api/v1/dangers/${d.id}`, 'op')).json();
    expect(detail.evidence.map((e: { name: string }) => e.name)).toEqual(['整改后.png', 'report.pdf']);
    expect(detail.danger.evidenceCount).toBe(2);
    // Downloaded from the other node, as it was sent, with the type it was judged to have.
    const got = await inject('GET', detail.evidence[0].url, 'acme-user', undefined, b);
    expect(got.statusCode).toBe(200);
    expect(got.headers['content-type']).toBe('image/png');
    expect(got.headers['x-content-type-options']).toBe('nosniff');
    expect(createHash('sha256').update(got.rawPayload).digest('hex')).toBe(sha);
    expect((await inject('GET', detail.evidence[0].url, 'bravo-user')).statusCode).toBe(404);
    expect((await inject('GET', `/api/v1/dangers/${d.id}/evidence/9999`, 'op')).statusCode).toBe(404);

    // The audit log has what was added, never the file.
    const audit = (await inject('GET', `/api/v1/audit?action=danger.evidence`, 'admin')).json();
    const entry = audit.find((e: { status: number; target: string; detail: { name?: string } }) => e.status === 201 && e.target === d.id && e.detail.name === '整改后.png');
    expect(entry).toMatchObject({ username: 'acme-user', enterprise: 'acme', detail: { name: '整改后.png', contentType: 'image/png', size: PNG.length, sha256: sha } });
    expect(JSON.stringify(audit)).not.toContain(PNG.toString('base64').slice(0, 20));
    expect(audit.some((e: { status: number }) => e.status === 415)).toBe(true);
  });

  test('rectified with evidence, rechecked by another account, failed and passed, closed; every step audited', async () => {
    const d = await open('sup', { enterprise: 'acme', title: '可燃气体探测器报警值设置过高', grade: 'major' });
    expect((await inject('POST', `/api/v1/dangers/${d.id}/rectify`, 'sup', {})).json()).toMatchObject({ code: 'HW_ERR_DANGER_NO_EVIDENCE' });
    expect((await upload(d.id, 'sup', PNG, 'image/png')).statusCode).toBe(201);
    expect((await inject('POST', `/api/v1/dangers/${d.id}/rectify`, 'sup', { note: '已重新标定' })).json().danger).toMatchObject({ state: 'rectified', rectifiedBy: 'sup' });
    // Four eyes: not the account that marked it rectified; not an operator nor the enterprise.
    const self = await inject('POST', `/api/v1/dangers/${d.id}/recheck`, 'sup', { result: 'pass' });
    expect(self.statusCode).toBe(403);
    expect(self.json()).toMatchObject({ code: 'HW_ERR_DANGER_SAME_ACCOUNT' });
    expect((await inject('POST', `/api/v1/dangers/${d.id}/recheck`, 'op', { result: 'pass' })).json()).toMatchObject({ code: 'HW_ERR_FORBIDDEN' });
    expect((await inject('POST', `/api/v1/dangers/${d.id}/recheck`, 'acme-user', { result: 'pass' })).statusCode).toBe(403);
    expect((await inject('POST', `/api/v1/dangers/${d.id}/close`, 'admin', {})).json()).toMatchObject({ code: 'HW_ERR_DANGER_TRANSITION' });
    expect((await inject('POST', `/api/v1/dangers/${d.id}/recheck`, 'admin', { result: 'fail' })).json()).toMatchObject({ code: 'HW_ERR_VALIDATION', field: 'body.deadline' });
    const failed = await inject('POST', `/api/v1/dangers/${d.id}/recheck`, 'admin', { result: 'fail', note: '未整改到位', deadline: clock.t + 48 * HOUR });
    expect(failed.json().danger).toMatchObject({ state: 'open', deadline: clock.t + 48 * HOUR });
    // The next round needs new evidence, this time from the enterprise.
    expect((await inject('POST', `/api/v1/dangers/${d.id}/rectify`, 'acme-user', {})).json()).toMatchObject({ code: 'HW_ERR_DANGER_NO_EVIDENCE' });
    expect((await upload(d.id, 'acme-user', PDF, 'application/pdf', 'report.pdf')).statusCode).toBe(201);
    expect((await inject('POST', `/api/v1/dangers/${d.id}/rectify`, 'acme-user', {})).statusCode).toBe(200);
    expect((await inject('POST', `/api/v1/dangers/${d.id}/recheck`, 'sup', { result: 'pass', note: '复查合格' })).json().danger.state).toBe('rechecked');
    expect((await inject('POST', `/api/v1/dangers/${d.id}/deadline`, 'sup', { deadline: clock.t + HOUR, reason: 'x' })).json()).toMatchObject({ code: 'HW_ERR_DANGER_TRANSITION' });
    expect((await inject('POST', `/api/v1/dangers/${d.id}/close`, 'acme-user', {})).statusCode).toBe(403);
    const closed = await inject('POST', `/api/v1/dangers/${d.id}/close`, 'sup', { note: '销号' });
    expect(closed.json().danger).toMatchObject({ state: 'closed', closedBy: 'sup' });

    const history = (await inject('GET', `/api/v1/dangers/${d.id}`, 'acme-user')).json().history;
    expect(history.map((e: { action: string; by: string }) => `${e.action}:${e.by}`)).toEqual([
      'opened:sup',
      'evidence_added:sup',
      'rectified:sup',
      'recheck_failed:admin',
      'evidence_added:acme-user',
      'rectified:acme-user',
      'recheck_passed:sup',
      'closed:sup',
    ]);
    const audit = (await inject('GET', `/api/v1/audit?enterprise=acme&limit=200`, 'admin')).json().filter((e: { target: string }) => e.target === d.id);
    const done = audit.filter((e: { status: number }) => e.status < 300).map((e: { action: string; username: string }) => `${e.action}:${e.username}`).reverse();
    expect(done).toEqual(['danger.open:sup', 'danger.evidence:sup', 'danger.rectify:sup', 'danger.recheck:admin', 'danger.evidence:acme-user', 'danger.rectify:acme-user', 'danger.recheck:sup', 'danger.close:sup']);
    // Refusals are recorded too.
    expect(audit.some((e: { action: string; status: number; username: string }) => e.action === 'danger.recheck' && e.status === 403 && e.username === 'sup')).toBe(true);
  });

  test('an overdue danger escalates once per tier while both nodes check every second; a new deadline starts over', async () => {
    const d = await open('op', { enterprise: 'bravo', title: '储罐呼吸阀堵塞', grade: 'major', deadline: clock.t + 60_000 });
    expect((await inject('GET', '/api/v1/dangers?overdue=true', 'op')).json().dangers.map((x: Danger) => x.id)).not.toContain(d.id);
    calls.length = 0;
    clock.t += 2 * 60_000;
    expect((await inject('GET', '/api/v1/dangers?overdue=true', 'op')).json().dangers.map((x: Danger) => x.id)).toContain(d.id);
    const escalated = async () => (await inject('GET', `/api/v1/dangers/${d.id}`, 'op')).json().history.filter((e: { action: string }) => e.action === 'escalated');
    await expect.poll(escalated, { timeout: 5000 }).toHaveLength(1);
    // Both timers have run again meanwhile: still one entry, one call.
    await new Promise((r) => setTimeout(r, 1300));
    expect(await escalated()).toMatchObject([{ by: 'system', data: { tier: 1 } }]);
    expect(calls.filter((c) => c.danger === d.id)).toEqual([{ node: expect.any(String), danger: d.id, tier: 1 }]);

    // Tier 2 (the bureau's duty) 4 h later for a major danger, once; never a third.
    clock.t += 4 * HOUR;
    await expect.poll(escalated, { timeout: 5000 }).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 1300));
    expect((await escalated()).map((e: { data: { tier: number } }) => e.data.tier)).toEqual([1, 2]);
    expect(calls.filter((c) => c.danger === d.id).map((c) => c.tier)).toEqual([1, 2]);
    expect((await inject('GET', `/api/v1/dangers/${d.id}`, 'op')).json().danger).toMatchObject({ escalatedTier: 2, nextEscalationAt: null, overdue: true });

    // Only regulators move a deadline; the escalation starts over from the new one.
    expect((await inject('POST', `/api/v1/dangers/${d.id}/deadline`, 'bravo-user', { deadline: clock.t + HOUR, reason: '延期' })).statusCode).toBe(403);
    const moved = await inject('POST', `/api/v1/dangers/${d.id}/deadline`, 'sup', { deadline: clock.t + HOUR, reason: '备件未到，延期一小时' });
    expect(moved.json().danger).toMatchObject({ escalatedTier: 0, overdue: false, deadline: clock.t + HOUR });
  });

  test('in the OpenAPI document', async () => {
    const doc = (await a.app.inject({ method: 'GET', url: '/docs/json' })).json();
    for (const path of ['/api/v1/dangers', '/api/v1/dangers/{id}', '/api/v1/dangers/{id}/evidence', '/api/v1/dangers/{id}/evidence/{evidenceId}', '/api/v1/dangers/{id}/recheck', '/api/v1/dangers/{id}/close', '/api/v1/dangers/{id}/deadline']) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.paths['/api/v1/dangers'].post.requestBody.content['application/json'].schema.properties.grade.enum).toEqual(['general', 'major']);
  });
});
