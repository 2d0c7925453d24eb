// A small SMTP client (RFC 5321) over node:net/tls, enough to hand an alarm notice or a warning to the
// site's mail relay: EHLO, STARTTLS when offered (or implicit TLS), AUTH PLAIN, MAIL/RCPT/DATA. No
// dependency. Shared by the alarm notifier (rules/notify) and the warning dispatcher (core/dispatch).
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { hostname } from 'node:os';
import { z } from 'zod';

export const SmtpServer = z
  .object({
    host: z.string(),
    port: z.number().int().min(1).max(65535).default(25),
    /** Implicit TLS (port 465); otherwise STARTTLS is used when the server offers it. */
    secure: z.boolean().default(false),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Accept self-signed certificates (test and closed networks only). */
    allowUnauthorized: z.boolean().default(false),
  })
  .strict();
export type SmtpServer = z.infer<typeof SmtpServer>;

export interface Mail {
  from: string;
  to: string[];
  subject: string;
  text: string;
}

function encodeHeader(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/** Builds the RFC 5322 message: UTF-8 text, base64 body (safe for any line length and Chinese text). */
export function buildMessage(mail: Mail, now: number): string {
  const body = Buffer.from(mail.text.replace(/\*\*/g, ''), 'utf8').toString('base64').replace(/.{76}/g, '$&\r\n');
  return [
    `From: ${mail.from}`,
    `To: ${mail.to.join(', ')}`,
    `Subject: ${encodeHeader(mail.subject)}`,
    `Date: ${new Date(now).toUTCString()}`,
    `Message-ID: <${now}.${Math.random().toString(36).slice(2)}@hazwatch>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    body,
  ].join('\r\n');
}

class SmtpSession {
  private buffer = '';
  private waiting: ((reply: { code: number; text: string }) => void) | undefined;
  private failure: Error | undefined;
  constructor(public socket: Socket | TLSSocket) {
    this.attach(socket);
  }
  attach(socket: Socket | TLSSocket): void {
    this.socket = socket;
    this.buffer = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffer += chunk;
      // A reply ends with a line "NNN text" (space after the code); "NNN-text" lines continue it.
      const m = this.buffer.match(/(?:^|\r\n)(\d{3}) [^\r\n]*\r\n$/);
      if (m && this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        const text = this.buffer;
        this.buffer = '';
        w({ code: Number(m[1]), text });
      }
    });
    socket.on('error', (err) => (this.failure = err));
  }
  read(): Promise<{ code: number; text: string }> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.socket.once('error', reject);
      this.socket.once('close', () => reject(new Error('SMTP server closed the connection')));
    });
  }
  async command(line: string | null, expect: number[]): Promise<string> {
    const reply = this.read();
    if (line !== null) this.socket.write(`${line}\r\n`);
    const r = await reply;
    if (!expect.includes(r.code)) throw new Error(`SMTP ${line?.split(' ')[0] ?? 'greeting'}: ${r.text.trim()}`);
    return r.text;
  }
}

/** Hands the mails to the server in one session; throws (to be retried) on any refusal. */
export async function sendMail(smtp: SmtpServer, mails: Mail[], now: number, timeoutMs: number): Promise<void> {
  const socket: Socket = smtp.secure
    ? tlsConnect({ host: smtp.host, port: smtp.port, servername: smtp.host, rejectUnauthorized: !smtp.allowUnauthorized })
    : netConnect({ host: smtp.host, port: smtp.port });
  socket.setTimeout(timeoutMs, () => socket.destroy(new Error('SMTP timeout')));
  const s = new SmtpSession(socket);
  try {
    await s.command(null, [220]);
    const me = hostname() || 'hazwatch';
    let ehlo = await s.command(`EHLO ${me}`, [250]);
    if (!smtp.secure && /STARTTLS/i.test(ehlo)) {
      await s.command('STARTTLS', [220]);
      const secured = tlsConnect({ socket, servername: smtp.host, rejectUnauthorized: !smtp.allowUnauthorized });
      await new Promise<void>((resolve, reject) => secured.once('secureConnect', resolve).once('error', reject));
      s.attach(secured);
      ehlo = await s.command(`EHLO ${me}`, [250]);
    }
    if (smtp.username) {
      const token = Buffer.from(`\u0000${smtp.username}\u0000${smtp.password ?? ''}`).toString('base64');
      await s.command(`AUTH PLAIN ${token}`, [235]);
    }
    for (const mail of mails) {
      await s.command(`MAIL FROM:<${mail.from}>`, [250]);
      for (const to of mail.to) await s.command(`RCPT TO:<${to}>`, [250, 251]);
      await s.command('DATA', [354]);
      const message = buildMessage(mail, now).replace(/^\./gm, '..');
      await s.command(`${message}\r\n.`, [250]);
    }
    await s.command('QUIT', [221]).catch(() => undefined);
  } finally {
    s.socket.destroy();
  }
}
