// The SMTP client against a real SMTP server (test/support/smtp.ts), with the alarm notifier's texts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LEVEL_COLOURS } from '../../../contract/alarms.ts';
import { ChannelConfig } from '../../../rules/notify/config.ts';
import { texts, type Notice } from '../../../rules/notify/formats.ts';
import { freePort, waitFor } from '../../../test/support/net.ts';
import { hasSmtpd, mailBody, startSmtpSink, type SmtpSink } from '../../../test/support/smtp.ts';
import { sendMail } from '../smtp.ts';

let sink: SmtpSink | undefined;

beforeAll(async () => {
  if (hasSmtpd) sink = await startSmtpSink();
});

afterAll(() => sink?.close());

const notice = (level: 1 | 2 | 3 | 4, device: string): Notice => ({
  kind: 'raised',
  tier: 0,
  payload: {
    alarm: { id: `id-${device}`, enterprise: 'acme', device, deviceClass: 'smoke_alarm', site: '2号仓库', hazardSource: null, condition: 'HW_ALM_SMOKE', level, peakLevel: level, state: 'active_unacknowledged', metric: null, value: true, threshold: null, message: 'Smoke alarm: device reported smoke', messageZh: null, raisedAt: 1, updatedAt: 1, acknowledgedAt: null, acknowledgedBy: null, clearedAt: null, closedAt: null, closedBy: null, shelvedUntil: null, cause: null, parentId: null, snapshot: null },
    change: { alarmId: `id-${device}`, seq: 1, at: Date.UTC(2026, 10, 23, 0, 0, 0), action: 'raised', by: 'system', level, state: 'active_unacknowledged', value: true, note: null, data: null },
  },
});

describe.skipIf(!hasSmtpd)('e-mail', () => {
  it('hands an alarm e-mail (UTF-8, Chinese text) to an SMTP server', async () => {
    const channel = ChannelConfig.parse({ name: 'mail', type: 'email', smtp: { host: '127.0.0.1', port: sink!.port }, from: 'hazwatch@example.com', to: ['duty@example.com', 'boss@example.com'] });
    if (channel.type !== 'email') throw new Error('unreachable');
    const [t] = texts(channel, [notice(1, 'smk-9')], { timeZone: 'Asia/Shanghai', now: Date.now() });
    await sendMail(channel.smtp, [{ from: channel.from, to: channel.to, subject: t.title, text: t.text }], Date.now(), 5000);
    await waitFor(() => sink!.mails.length === 1, 5000);
    expect(sink!.mails[0]).toMatchObject({ from: 'hazwatch@example.com', to: ['duty@example.com', 'boss@example.com'] });
    expect(sink!.mails[0].data).toMatch(/Subject: =\?UTF-8\?B\?/);
    const body = mailBody(sink!.mails[0]);
    expect(body).toContain(`${LEVEL_COLOURS[1].zh}预警`);
    expect(body).toContain('烟雾报警');
    expect(body).toContain('2026-11-23 08:00:00 (Asia/Shanghai)');
  });

  it('fails loudly when the server is not there (the caller then retries)', async () => {
    await expect(sendMail({ host: '127.0.0.1', port: await freePort(), secure: false, allowUnauthorized: false }, [{ from: 'a@example.com', to: ['b@example.com'], subject: 's', text: 't' }], Date.now(), 2000)).rejects.toThrow();
  });
});
