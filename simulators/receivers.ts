// Simulated receivers of the demo's outgoing messages (warnings, overdue hidden dangers): an SMS gateway
// in the generic shape of core/channels/sms.ts that posts a delivery report for every message a moment
// later, as real gateways do, and a WeCom and a DingTalk group robot answering {"errcode":0}. Field
// displays listen on the demo's own broker (hw/warnings/#). GET <url>/status tells what each got: the
// phones' and groups' inboxes. Not a provider's service: the real ones are on the internet.
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { readBody } from './province.ts';
import type { AddressInfo } from 'node:net';

export interface ReceivedMessage {
  at: number;
  to: string;
  text: string;
}

export interface ReceiversSim {
  url: string;
  /** Where delivery reports go once the API listens: its base URL and the report token. */
  reportTo(apiUrl: string, token: string, channel: string): void;
  status(): { sms: ReceivedMessage[]; wecom: ReceivedMessage[]; dingtalk: ReceivedMessage[]; reports: { sent: number; failed: number } };
  close(): Promise<void>;
}

const KEEP = 500;

export async function startReceiversSim(options: { reportDelayMs?: number } = {}): Promise<ReceiversSim> {
  const delay = options.reportDelayMs ?? 1500;
  const inbox = { sms: [] as ReceivedMessage[], wecom: [] as ReceivedMessage[], dingtalk: [] as ReceivedMessage[] };
  const reports = { sent: 0, failed: 0 };
  let target: { url: string; token: string; channel: string } | undefined;
  const timers = new Set<NodeJS.Timeout>();
  const keep = (list: ReceivedMessage[], m: ReceivedMessage) => {
    list.push(m);
    if (list.length > KEEP) list.shift();
  };

  const report = (id: string) => {
    const t = setTimeout(() => {
      timers.delete(t);
      if (!target) return;
      fetch(`${target.url}/api/v1/dispatch/reports/${target.channel}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${target.token}` },
        body: JSON.stringify([{ id, status: 'delivered' }]),
      }).then(
        (r) => (r.ok ? reports.sent++ : reports.failed++),
        () => reports.failed++,
      );
    }, delay);
    timers.add(t);
  };

  const server = createServer(async (req, res) => {
    const answer = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    try {
      const path = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'GET' && path === '/status') return answer(200, sim.status());
      if (req.method !== 'POST') return answer(404, { error: 'not found' });
      const body = JSON.parse((await readBody(req)) || '{}');
      if (path === '/sms/send') {
        const id = randomBytes(6).toString('hex');
        keep(inbox.sms, { at: Date.now(), to: String(body.phone), text: String(body.text) });
        report(id);
        return answer(200, { id });
      }
      if (path === '/wecom' || path === '/dingtalk') {
        const text = body.markdown?.content ?? body.markdown?.text ?? body.text?.content ?? '';
        const to = (body.text?.mentioned_mobile_list ?? body.at?.atMobiles ?? []).join(',') || 'group';
        keep(inbox[path.slice(1) as 'wecom'], { at: Date.now(), to, text });
        return answer(200, { errcode: 0, errmsg: 'ok' });
      }
      return answer(404, { error: 'not found' });
    } catch (err) {
      return answer(400, { error: (err as Error).message });
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const sim: ReceiversSim = {
    url,
    reportTo: (apiUrl, token, channel) => (target = { url: apiUrl, token, channel }),
    status: () => ({ sms: inbox.sms.slice(-50), wecom: inbox.wecom.slice(-20), dingtalk: inbox.dingtalk.slice(-20), reports: { ...reports } }),
    close: () => {
      for (const t of timers) clearTimeout(t);
      return new Promise<void>((r) => server.close(() => r()));
    },
  };
  return sim;
}

/** The demo's channels and audiences, all pointing at the simulated receivers and the demo's broker. */
export function demoMessaging(sim: ReceiversSim) {
  const reportToken = randomBytes(18).toString('base64url');
  return {
    dispatch: {
      channels: [
        { name: 'sms', type: 'sms' as const, gateway: { provider: 'generic' as const, url: `${sim.url}/sms/send`, idField: 'id' } },
        { name: 'duty-group', type: 'wecom' as const, url: `${sim.url}/wecom` },
        { name: 'leaders', type: 'dingtalk' as const, url: `${sim.url}/dingtalk`, secret: 'SECdemo' },
        { name: 'displays', type: 'mqtt' as const, retain: true },
      ],
      reportToken,
    },
    /** Red and orange alarms of the demo enterprise to its officers on duty by SMS, then its leader when nobody signs for them. */
    routes: [
      { enterprises: ['demo-chem'], levels: [1, 2] as (1 | 2)[], tier: 0, channels: [] as string[], duty: { channels: ['sms'] }, on: ['raised' as const, 'escalated' as const] },
      { enterprises: ['demo-chem'], levels: [1, 2] as (1 | 2)[], tier: 1, channels: [] as string[], duty: { channels: ['sms'] }, on: ['raised' as const] },
    ],
    audiences: [
      { id: 'duty_officers', zh: '值班人员（企业、园区、应急局）', en: 'People on duty (enterprise, park, bureau)', onDuty: true, kinds: [], regulators: true, channels: ['sms', 'duty-group'] },
      { id: 'safety_officers', zh: '企业安全管理人员', en: 'Enterprise safety officers', onDuty: false, kinds: ['safety_officer', 'principal'], regulators: false, channels: ['sms', 'leaders'] },
      { id: 'rescue_teams', zh: '救援队伍', en: 'Rescue teams', onDuty: false, kinds: ['rescue'], regulators: true, channels: ['sms'] },
      { id: 'public', zh: '周边公众（显示屏、广播）', en: 'The public nearby (displays, PA)', onDuty: false, kinds: [], regulators: false, channels: ['displays'] },
    ],
  };
}
