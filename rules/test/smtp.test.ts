// E-mail notifications against a real SMTP server: Python's standard-library smtpd (3.11) on a free port.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEVEL_COLOURS } from '../../contract/alarms.ts';
import { freePort, waitFor } from '../../test/support/net.ts';
import { ChannelConfig } from '../notify/config.ts';
import { sendMail } from '../notify/smtp.ts';
import type { Notice } from '../notify/formats.ts';

const hasSmtpd = spawnSync('/usr/bin/python3', ['-W', 'ignore', '-c', 'import smtpd']).status === 0;

const SERVER = `
import smtpd, asyncore, json, sys
class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        print(json.dumps({"from": mailfrom, "to": rcpttos, "data": data.decode("utf-8", "replace") if isinstance(data, bytes) else data}), flush=True)
Sink(("127.0.0.1", int(sys.argv[1])), None, decode_data=False)
print("ready", flush=True)
asyncore.loop()
`;

let server: ChildProcess | undefined;
let port = 0;
const mails: { from: string; to: string[]; data: string }[] = [];

beforeAll(async () => {
  if (!hasSmtpd) return;
  port = await freePort();
  server = spawn('/usr/bin/python3', ['-W', 'ignore', '-c', SERVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let ready = false;
  let buf = '';
  server.stdout!.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line === 'ready') ready = true;
      else if (line.startsWith('{')) mails.push(JSON.parse(line));
    }
  });
  await waitFor(() => ready, 10_000);
});

afterAll(() => {
  server?.kill();
});

const notice = (level: 1 | 2 | 3 | 4, device: string): Notice => ({
  kind: 'raised',
  tier: 0,
  payload: {
    alarm: { id: `id-${device}`, enterprise: 'acme', device, deviceClass: 'smoke_alarm', site: '2号仓库', hazardSource: null, condition: 'HW_ALM_SMOKE', level, peakLevel: level, state: 'active_unacknowledged', metric: null, value: true, threshold: null, message: 'Smoke alarm: device reported smoke', messageZh: null, raisedAt: 1, updatedAt: 1, acknowledgedAt: null, acknowledgedBy: null, clearedAt: null, closedAt: null, closedBy: null, shelvedUntil: null, cause: null, parentId: null, snapshot: null },
    change: { alarmId: `id-${device}`, seq: 1, at: Date.UTC(2026, 10, 23, 0, 0, 0), action: 'raised', by: 'system', level, state: 'active_unacknowledged', value: true, note: null, data: null },
  },
});

describe.skipIf(!hasSmtpd)('e-mail notifications', () => {
  it('hands an alarm e-mail (UTF-8, Chinese text) to an SMTP server', async () => {
    const channel = ChannelConfig.parse({ name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port }, from: 'hazwatch@example.com', to: ['duty@example.com', 'boss@example.com'] });
    if (channel.type !== 'email') throw new Error('unreachable');
    await sendMail(channel, [notice(1, 'smk-9')], { timeZone: 'Asia/Shanghai', now: Date.now() }, 5000);
    await waitFor(() => mails.length === 1, 5000);
    expect(mails[0]).toMatchObject({ from: 'hazwatch@example.com', to: ['duty@example.com', 'boss@example.com'] });
    expect(mails[0].data).toMatch(/Subject: =\?UTF-8\?B\?/);
    const body = Buffer.from(mails[0].data.split(/\r?\n\r?\n/).slice(1).join('').replace(/\s+/g, ''), 'base64').toString('utf8');
    expect(body).toContain(`${LEVEL_COLOURS[1].zh}预警`);
    expect(body).toContain('烟雾报警');
    expect(body).toContain('2026-11-23 08:00:00 (Asia/Shanghai)');
  });

  it('fails loudly when the server is not there (the notifier then retries)', async () => {
    const channel = ChannelConfig.parse({ name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: await freePort() }, from: 'a@example.com', to: ['b@example.com'] });
    if (channel.type !== 'email') throw new Error('unreachable');
    await expect(sendMail(channel, [notice(2, 'x')], { timeZone: 'UTC', now: Date.now() }, 2000)).rejects.toThrow();
  });
});
