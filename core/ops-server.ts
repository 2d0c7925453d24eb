// The operations endpoints every long-running process serves beside its real work, for the
// orchestrator and Prometheus: /healthz (the process is alive), /readyz (it can do its job now:
// broker reachable, database writable, ...) and /metrics (prom-client text format).
// Plain node:http on purpose: it must stay up and cheap even when the process is in trouble.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './log.ts';

export interface OpsServerOptions {
  host?: string;
  /** 0 picks a free port (tests); see `url` of the result. */
  port: number;
  metrics: Registry;
  /** Readiness probe; a throw or a slow answer (over `readyTimeoutMs`) counts as not ready. */
  ready?: () => boolean | Promise<boolean>;
  readyTimeoutMs?: number;
  log?: Logger;
}

export interface OpsServer {
  name: string;
  url: string;
  port: number;
  close(): Promise<void>;
}

async function probe(ready: OpsServerOptions['ready'], timeoutMs: number): Promise<boolean> {
  if (!ready) return true;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(ready),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function serveOps(options: OpsServerOptions): Promise<OpsServer> {
  const host = options.host ?? '127.0.0.1';
  const readyTimeoutMs = options.readyTimeoutMs ?? 2000;
  const send = (res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    switch (path) {
      case '/healthz':
        return send(res, 200, 'ok\n');
      case '/readyz': {
        const ok = await probe(options.ready, readyTimeoutMs);
        return send(res, ok ? 200 : 503, ok ? 'ready\n' : 'not ready\n');
      }
      case '/metrics':
        return send(res, 200, await options.metrics.metrics(), options.metrics.contentType);
      default:
        return send(res, 404, 'not found: /healthz, /readyz, /metrics\n');
    }
  };
  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      options.log?.error({ err }, 'ops endpoint failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  options.log?.info({ url }, 'ops endpoints listening (/healthz, /readyz, /metrics)');
  return {
    name: 'ops-server',
    url,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
