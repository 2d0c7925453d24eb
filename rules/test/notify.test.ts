// Notifications against a real HTTP receiver on loopback (node:http): generic webhook, WeCom and
// DingTalk robot formats, retry while the receiver is down, escalation to the next tier, flood summary.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { freePort, waitFor } from '../../test/support/net.ts';
import { notifyConfig } from '../notify/config.ts';
import { dingtalkSign } from '../../core/channels/robots.ts';
import { createNotifier, NOTIFY_CURSOR, rosterPeople } from '../notify/notifier.ts';
import { dispatchConfig } from '../../core/dispatch/config.ts';
import { openOutbox } from '../../core/dispatch/store.ts';
import { openRoster } from '../../registry/roster.ts';
import { seedDemoRoster } from '../../registry/roster-demo.ts';
import { createTailer } from '../outbox.ts';
import { openAlarmStore } from '../store.ts';
import type { AlarmStore, RaiseInput } from '../store-types.ts';

interface Received {
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown>;
}

/** A real HTTP receiver; answers robots like WeCom/DingTalk do ({"errcode":0}). */
async function receiver(port?: number) {
  const received: Received[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      received.push({ path: url.pathname, query: url.searchParams, body: JSON.parse(text) as Record<string, unknown> });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ errcode: 0, errmsg: 'ok' }));
    });
  });
  const p = port ?? (await freePort());
  await new Promise<void>((r) => server.listen(p, '127.0.0.1', r));
  return { port: p, received, url: `http://127.0.0.1:${p}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}

function input(device: string, over: Partial<RaiseInput> = {}): RaiseInput {
  return { enterprise: 'acme', device, deviceClass: 'gas_combustible', site: 'north', hazardSource: null, condition: 'HW_ALM_GAS_LEL_HIGH', level: 2, metric: 'lel', value: 30, threshold: 25, message: 'Combustible gas concentration high: lel 30 %LEL ≥ 25 %LEL', at: Date.now(), ...over };
}

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (closers.length) await closers.pop()!().catch(() => undefined);
});

async function pipeline(store: AlarmStore, notify: Record<string, unknown>) {
  const log = silentLogger();
  const metrics = createMetricsRegistry();
  const notifier = createNotifier({ store, config: notifyConfig.parse(notify), log, metrics });
  const tailer = createTailer({ store, name: NOTIFY_CURSOR, cursor: 'handler', handle: (c) => notifier.handle(c), log, metrics, pollMs: 20 });
  await tailer.start();
  await notifier.start();
  const tick = setInterval(() => void notifier.tick(), 50);
  closers.push(async () => {
    clearInterval(tick);
    await tailer.stop();
    await notifier.stop();
  });
  return { notifier, tailer };
}

const tmpStore = () => openAlarmStore(join(mkdtempSync(join(tmpdir(), 'hw-notify-')), 'alarms.db'));

describe('notifications', () => {
  it('delivers to a generic webhook, retries with backoff while the receiver is down, and records `notified`', async () => {
    const port = await freePort(); // nothing listens yet: the receiver is down
    const store = await tmpStore();
    closers.push(() => store.dispose());
    await pipeline(store, {
      channels: [{ name: 'duty', type: 'webhook', url: `http://127.0.0.1:${port}/hook` }],
      routes: [{ enterprises: ['acme'], levels: [1, 2], channels: ['duty'] }],
      retry: { initialMs: 100, maxMs: 400 },
    });
    const raised = (await store.raise(input('gas-01')))!;
    // A level-4 alarm is not routed to this channel.
    await store.raise(input('gas-02', { condition: 'HW_ALM_DEVICE_FAULT', level: 4 }));
    await waitFor(async () => (await store.dueNotifications('duty', Date.now() + 10_000)).some((j) => j.attempts >= 2), 5000);
    const rx = await receiver(port);
    closers.push(rx.close);
    await waitFor(() => rx.received.length >= 1, 5000);
    expect(rx.received[0].path).toBe('/hook');
    expect(rx.received[0].body).toMatchObject({ type: 'alarm', kind: 'raised', tier: 0, alarm: { id: raised.alarm.id, level: 2, condition: 'HW_ALM_GAS_LEL_HIGH' } });
    await waitFor(async () => (await store.history(raised.alarm.id)).some((h) => h.action === 'notified'), 5000);
    const notified = (await store.history(raised.alarm.id)).find((h) => h.action === 'notified')!;
    expect(notified.data).toMatchObject({ channel: 'duty', ok: true, kind: 'raised' });
    expect(Number(notified.data!.attempts)).toBeGreaterThanOrEqual(3);
    // Clearing is announced too; nothing about the level-4 alarm.
    await store.clearAuto(raised.alarm.id, 3, Date.now());
    await waitFor(() => rx.received.length === 2, 5000);
    expect(rx.received[1].body).toMatchObject({ kind: 'cleared' });
    expect(rx.received.every((r) => (r.body.alarm as { device: string }).device === 'gas-01')).toBe(true);
  });

  it('speaks the WeCom and DingTalk robot formats (markdown, DingTalk signature)', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const store = await tmpStore();
    closers.push(() => store.dispose());
    await pipeline(store, {
      channels: [
        { name: 'wecom', type: 'wecom', url: `${rx.url}/cgi-bin/webhook/send?key=abc`, mentionedMobiles: ['13800001111'] },
        { name: 'ding', type: 'dingtalk', url: `${rx.url}/robot/send?access_token=tok`, secret: 'SECtest', atMobiles: ['13800002222'] },
      ],
      routes: [{ channels: ['wecom', 'ding'] }],
    });
    await store.raise(input('gas-01', { level: 1 }));
    await waitFor(() => rx.received.length === 3, 5000);
    const wecom = rx.received.filter((r) => r.path === '/cgi-bin/webhook/send');
    expect(wecom[0].query.get('key')).toBe('abc');
    expect(wecom[0].body).toMatchObject({ msgtype: 'markdown' });
    const content = (wecom[0].body.markdown as { content: string }).content;
    expect(content).toContain('红色预警');
    expect(content).toContain('可燃气体浓度超限');
    expect(Buffer.byteLength(content)).toBeLessThanOrEqual(4096);
    expect(wecom[1].body).toMatchObject({ msgtype: 'text', text: { mentioned_mobile_list: ['13800001111'] } });
    const ding = rx.received.find((r) => r.path === '/robot/send')!;
    expect(ding.query.get('access_token')).toBe('tok');
    const ts = Number(ding.query.get('timestamp'));
    expect(encodeURIComponent(ding.query.get('sign')!)).toBe(dingtalkSign('SECtest', ts));
    expect(ding.body).toMatchObject({ msgtype: 'markdown', markdown: { title: expect.stringContaining('红色预警') }, at: { atMobiles: ['13800002222'], isAtAll: false } });
  });

  it('escalates an alarm nobody signs for to the next tier, and stops once it is acknowledged', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const store = await tmpStore();
    closers.push(() => store.dispose());
    await pipeline(store, {
      channels: [
        { name: 'duty', type: 'webhook', url: `${rx.url}/duty` },
        { name: 'principal', type: 'webhook', url: `${rx.url}/principal` },
        { name: 'regulator', type: 'webhook', url: `${rx.url}/regulator` },
      ],
      routes: [
        { enterprises: ['acme'], tier: 0, channels: ['duty'] },
        { enterprises: ['acme'], tier: 1, channels: ['principal'] },
        { enterprises: ['*'], tier: 2, levels: [1, 2], channels: ['regulator'] },
      ],
      escalation: { ackTimeoutMinutes: { 2: 0.005 } }, // 300 ms
    });
    const a = (await store.raise(input('gas-01')))!;
    await waitFor(() => rx.received.some((r) => r.path === '/regulator'), 5000);
    expect(rx.received.map((r) => r.path)).toEqual(['/duty', '/principal', '/regulator']);
    expect(rx.received[1].body).toMatchObject({ kind: 'escalation', tier: 1 });
    const escalations = (await store.history(a.alarm.id)).filter((h) => h.action === 'escalated_notification');
    expect(escalations.map((h) => h.data?.tier)).toEqual([1, 2]);

    // A second alarm acknowledged in time is never escalated.
    const b = (await store.raise(input('gas-02')))!;
    await store.acknowledge(b.alarm.id, 'op.li');
    await new Promise((r) => setTimeout(r, 800));
    const forB = rx.received.filter((r) => (r.body.alarm as { id: string }).id === b.alarm.id).map((r) => r.path);
    expect(forB).toEqual(['/duty']);
  });

  it('groups a flood into one summary that lists every alarm (EEMUA 191 rate)', async () => {
    const port = await freePort(); // down while the flood comes in, so that it queues up
    const store = await tmpStore();
    closers.push(() => store.dispose());
    await pipeline(store, {
      channels: [{ name: 'duty', type: 'webhook', url: `http://127.0.0.1:${port}/` }],
      routes: [{ channels: ['duty'], on: ['raised'] }],
      flood: { maxMessages: 3, windowMinutes: 10 },
      retry: { initialMs: 50, maxMs: 100 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push((await store.raise(input(`gas-${i}`)))!.alarm.id);
    await waitFor(async () => (await store.dueNotifications('duty', Date.now() + 10_000)).length === 12, 5000);
    const rx = await receiver(port);
    closers.push(rx.close);
    await waitFor(async () => (await store.dueNotifications('duty', Date.now() + 10_000)).length === 0, 5000);
    // Fewer messages than alarms, and every alarm is in one of them.
    expect(rx.received.length).toBeLessThan(12);
    const listed = rx.received.flatMap((r) => (r.body.type === 'summary' ? (r.body.alarms as { alarm: { id: string } }[]).map((a) => a.alarm.id) : [(r.body.alarm as { id: string }).id]));
    expect(listed.sort()).toEqual([...ids].sort());
    expect(rx.received.some((r) => r.body.type === 'summary')).toBe(true);
    for (const id of ids) expect((await store.history(id)).some((h) => h.action === 'notified')).toBe(true);
  });

  it('in a steady flood sends the first alarms one by one, then holds the rest and sends them as summaries; red alarms go at once', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const store = await tmpStore();
    closers.push(() => store.dispose());
    await pipeline(store, {
      channels: [{ name: 'duty', type: 'webhook', url: `${rx.url}/` }],
      routes: [{ channels: ['duty'], on: ['raised'] }],
      flood: { maxMessages: 3, windowMinutes: 10, holdSeconds: 0.4 },
    });
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      ids.push((await store.raise(input(`gas-${i}`, { level: i === 6 ? 1 : 2 })))!.alarm.id);
      await new Promise((r) => setTimeout(r, 60));
    }
    await waitFor(async () => (await store.dueNotifications('duty', Date.now() + 60_000)).length === 0, 5000);
    const kinds = rx.received.map((r) => r.body.type);
    expect(kinds.slice(0, 3)).toEqual(['alarm', 'alarm', 'alarm']);
    expect(kinds.filter((k) => k === 'summary').length).toBeGreaterThanOrEqual(1);
    expect(rx.received.length).toBeLessThan(10);
    // The red one was not held back in a summary.
    expect(rx.received.some((r) => r.body.type === 'alarm' && (r.body.alarm as { id: string }).id === ids[6])).toBe(true);
    const listed = rx.received.flatMap((r) => (r.body.type === 'summary' ? (r.body.alarms as { alarm: { id: string } }[]).map((a) => a.alarm.id) : [(r.body.alarm as { id: string }).id]));
    expect(listed.sort()).toEqual([...ids].sort());
  });
});

describe('notifications to whoever is on duty', () => {
  it('tells the officers on duty of the enterprise by SMS through the outbox, then its leader when nobody signs for it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-notify-duty-'));
    const roster = await openRoster(join(dir, 'roster.db'));
    await seedDemoRoster(roster, { now: Date.now(), enterprise: { id: 'acme', name: 'Acme' } });
    const outbox = await openOutbox(join(dir, 'warnings.db'));
    const store = await openAlarmStore(join(dir, 'alarms.db'));
    closers.push(() => roster.close(), () => outbox.close(), () => store.dispose());
    const channels = dispatchConfig.parse({ channels: [{ name: 'sms', type: 'sms', gateway: { provider: 'generic', url: 'http://127.0.0.1:9/send' } }] }).channels;
    const log = silentLogger();
    const metrics = createMetricsRegistry();
    const config = notifyConfig.parse({
      routes: [
        { enterprises: ['acme'], tier: 0, duty: { channels: ['sms'] } },
        { enterprises: ['acme'], tier: 1, duty: { channels: ['sms'] } },
      ],
      escalation: { ackTimeoutMinutes: { 2: 0.005 } }, // 300 ms
    });
    const notifier = createNotifier({ store, config, log, metrics, duty: { people: rosterPeople(roster), outbox, channels } });
    const tailer = createTailer({ store, name: NOTIFY_CURSOR, cursor: 'handler', handle: (c) => notifier.handle(c), log, metrics, pollMs: 20 });
    await tailer.start();
    await notifier.start();
    const tick = setInterval(() => void notifier.tick(), 50);
    closers.push(async () => (clearInterval(tick), await tailer.stop(), await notifier.stop()));

    const unit = (await roster.unitFor('acme'))!;
    const chain = await roster.dutyChain(unit.id, Date.now());
    const a = (await store.raise(input('gas-01')))!;
    await waitFor(async () => (await outbox.list('alarm', a.alarm.id)).length >= chain[0].people.length + chain[1].people.length, 5000);
    const rows = await outbox.list('alarm', a.alarm.id);
    const [raised, escalated] = [rows.filter((r) => r.revision === a.change.seq), rows.filter((r) => r.revision !== a.change.seq)];
    expect(raised.map((r) => r.address).sort()).toEqual(chain[0].people.map((p) => p.phone).sort());
    expect(raised[0].body).toContain('可燃气体浓度超限');
    expect(escalated.map((r) => r.recipient)).toEqual(chain[1].people.map((p) => p.id));
    expect(escalated[0].body).toContain('超时未签收');
    const told = (await store.history(a.alarm.id)).filter((h) => h.action === 'notified' && h.data?.duty);
    expect(told.map((h) => h.data?.tier)).toEqual([0, 1]);
    expect(told[0].data?.people).toEqual(chain[0].people.map((p) => p.name));
    // Refused at start: a duty route over a channel that is not personal, or without a roster.
    expect(() => createNotifier({ store, config, log, metrics: createMetricsRegistry() })).toThrow(/duty roster/);
  });
});
