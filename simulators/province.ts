// A simulated upper-level (provincial) platform for the northbound forwarder (northbound/): an HTTP
// receiver that takes the JSON each message kind is POSTed as, counts it by path and message id, and
// is down (503) during scheduled outages, so that a demo shows the forwarder holding its backlog and
// catching up. GET <url>/status tells what arrived: per path, how many, how many twice, the last one.
// Not a real platform's protocol: northbound/examples/demo-province.yaml is written for it.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProvinceOutage {
  /** The first outage starts this long after the simulator (ms). */
  afterMs: number;
  /** Each lasts this long (ms). */
  forMs: number;
  /** And comes back this often (ms); absent: once. */
  everyMs?: number;
}

export interface ProvinceStatus {
  up: boolean;
  received: number;
  /** The same message id received again (a re-send after a lost answer). */
  duplicates: number;
  refusedDuringOutage: number;
  byPath: Record<string, { count: number; last: unknown }>;
  outages: number;
}

export interface ProvinceSim {
  url: string;
  status(): ProvinceStatus;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;
const ID_FIELDS = ['msgId', 'messageId', 'id'];

/** A request's body as text, at most MAX_BODY bytes (the simulated receivers' too). */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export async function startProvinceSim(options: { host?: string; port?: number; outage?: ProvinceOutage; now?: () => number } = {}): Promise<ProvinceSim> {
  const now = options.now ?? Date.now;
  const started = now();
  const seen = new Set<string>();
  const status: ProvinceStatus = { up: true, received: 0, duplicates: 0, refusedDuringOutage: 0, byPath: {}, outages: 0 };
  let lastOutage = -1;

  const down = (): boolean => {
    const o = options.outage;
    if (!o) return false;
    const since = now() - started - o.afterMs;
    if (since < 0) return false;
    const cycle = o.everyMs ? Math.floor(since / o.everyMs) : 0;
    if (!o.everyMs && since >= o.forMs) return false;
    const inCycle = o.everyMs ? since % o.everyMs : since;
    if (inCycle >= o.forMs) return false;
    if (cycle !== lastOutage) {
      lastOutage = cycle;
      status.outages++;
    }
    return true;
  };

  const server: Server = createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path.endsWith('/status')) {
      status.up = !down();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(status));
      return;
    }
    if (req.method !== 'POST') return void res.writeHead(405).end();
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch {
      return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 400, message: 'not JSON' }));
    }
    if (down()) {
      status.refusedDuringOutage++;
      return void res.writeHead(503, { 'retry-after': '5' }).end();
    }
    const id = ID_FIELDS.map((f) => (body as Record<string, unknown>)?.[f]).find((v) => typeof v === 'string' || typeof v === 'number');
    if (id !== undefined && seen.has(String(id))) status.duplicates++;
    else if (id !== undefined) seen.add(String(id));
    status.received++;
    const entry = (status.byPath[path] ??= { count: 0, last: null });
    entry.count++;
    entry.last = body;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 0, message: 'ok' }));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${options.host ?? '127.0.0.1'}:${port}/province`,
    status: () => ({ ...status, up: !down() }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
