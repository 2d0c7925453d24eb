// A real SMTP server for tests: Python's standard-library smtpd (3.11) on a free port, printing every
// mail it accepts as one JSON line. Undefined where Python has no smtpd (3.12 removed it).
import { spawn, spawnSync } from 'node:child_process';
import { freePort, waitFor } from './net.ts';

export const hasSmtpd = spawnSync('/usr/bin/python3', ['-W', 'ignore', '-c', 'import smtpd']).status === 0;

const SERVER = `
import smtpd, asyncore, json, sys
class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kw):
        print(json.dumps({"from": mailfrom, "to": rcpttos, "data": data.decode("utf-8", "replace") if isinstance(data, bytes) else data}), flush=True)
Sink(("127.0.0.1", int(sys.argv[1])), None, decode_data=False)
print("ready", flush=True)
asyncore.loop()
`;

export interface ReceivedMail {
  from: string;
  to: string[];
  data: string;
}

export interface SmtpSink {
  port: number;
  mails: ReceivedMail[];
  close(): void;
}

/** The decoded UTF-8 body of a base64 text mail as buildMessage writes it. */
export function mailBody(mail: ReceivedMail): string {
  return Buffer.from(mail.data.split(/\r?\n\r?\n/).slice(1).join('').replace(/\s+/g, ''), 'base64').toString('utf8');
}

export async function startSmtpSink(): Promise<SmtpSink> {
  const port = await freePort();
  const server = spawn('/usr/bin/python3', ['-W', 'ignore', '-c', SERVER, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const mails: ReceivedMail[] = [];
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
  return { port, mails, close: () => server.kill() };
}
