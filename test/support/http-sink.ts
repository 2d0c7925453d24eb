// A local fake of the receivers messages go to (SMS gateways, WeCom and DingTalk robots, webhooks): a
// real HTTP server on loopback that records what it got and answers as `answer` says, so a test can
// make it refuse (HTTP 500, a robot's errcode) to see retries. Fake only because the real services are
// on the internet; what is checked is what they would have received.
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { freePort } from './net.ts';

export interface SinkRequest {
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or as a form, when it is one. */
  body: any;
}

export type Answer = (req: SinkRequest) => { status?: number; body: unknown };

export async function startHttpSink(answer: Answer = () => ({ body: { errcode: 0, errmsg: 'ok' } })) {
  const requests: SinkRequest[] = [];
  const sink = { requests, answer, url: '', close: async () => {} };
  const server = createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (text += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      let body: any = text;
      try {
        body = JSON.parse(text);
      } catch {
        if (String(req.headers['content-type']).includes('x-www-form-urlencoded')) body = Object.fromEntries(new URLSearchParams(text));
      }
      const r: SinkRequest = { path: url.pathname, query: url.searchParams, headers: req.headers, text, body };
      requests.push(r);
      const a = sink.answer(r);
      res.writeHead(a.status ?? 200, { 'content-type': 'application/json' }).end(JSON.stringify(a.body));
    });
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  sink.url = `http://127.0.0.1:${port}`;
  sink.close = () => new Promise<void>((r) => server.close(() => r()));
  return sink;
}
export type HttpSink = Awaited<ReturnType<typeof startHttpSink>>;
