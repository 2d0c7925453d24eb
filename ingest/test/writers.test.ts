// The writers against the real InfluxDB 1.x of the global setup; the v2 writer's handling of 429 /
// 503 / Retry-After against a fake HTTP server, because a real InfluxDB cannot be made to answer so.
import { createServer, type IncomingMessage } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../core/log.ts';
import { createTestDatabase, influxQuery } from '../../test/support/influx.ts';
import { waitFor } from '../../test/support/net.ts';
import { startDrain } from '../drain.ts';
import { openSpool } from '../spool.ts';
import { parseRetryAfter, retryDelay, WriteError } from '../writers/index.ts';
import { v1Writer } from '../writers/v1.ts';
import { v2Writer } from '../writers/v2.ts';
import { tempDir } from './helpers.ts';

describe('retry policy', () => {
  it('backs off exponentially with jitter, up to the ceiling, and obeys Retry-After', () => {
    const o = { minMs: 500, maxMs: 30_000 };
    expect(retryDelay(1, o, undefined, () => 1)).toBe(500);
    expect(retryDelay(3, o, undefined, () => 1)).toBe(2000);
    expect(retryDelay(3, o, undefined, () => 0)).toBe(1000);
    expect(retryDelay(20, o, undefined, () => 1)).toBe(30_000);
    expect(retryDelay(1, o, 7000)).toBe(7000);
    expect(parseRetryAfter('12')).toBe(12_000);
    expect(parseRetryAfter(new Date(Date.now() + 60_000).toUTCString())).toBeGreaterThan(55_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });
});

describe('v1 writer on a real InfluxDB 1.x', () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  beforeAll(async () => {
    db = await createTestDatabase('hw_ingest_w');
  });
  afterAll(async () => db?.drop());

  it('writes gzipped line protocol at ms precision', async () => {
    const w = v1Writer({ url: db.url, database: db.db, timeoutMs: 5000, gzip: true });
    const lines = Array.from({ length: 500 }, (_, i) => `oxygen,device=o-${i % 5},enterprise=acme o2=20.9 ${1_795_000_000_000 + i}`);
    await w.write(lines.join('\n'));
    const res = await influxQuery(db.db, 'SELECT count(o2) FROM oxygen');
    expect(res.results[0].series![0].values[0][1]).toBe(500);
  });

  it('creates a missing database when allowed', async () => {
    const name = `${db.db}_new`;
    const w = v1Writer({ url: db.url, database: name, timeoutMs: 5000, gzip: false, createDatabase: true });
    await w.write('oxygen,device=o-1,enterprise=acme o2=20.9 1795000000000');
    const res = await influxQuery(name, 'SELECT count(o2) FROM oxygen');
    expect(res.results[0].series![0].values[0][1]).toBe(1);
    await influxQuery(name, `DROP DATABASE "${name}"`);
  });

  it('a message the database refuses for good is set aside; the rest of the batch is stored', async () => {
    // A field first written as integer by another tool: our float for it is a type conflict (HTTP 400).
    await fetch(`${db.url}/write?db=${db.db}&precision=ms`, { method: 'POST', body: 'vessel,device=t-1,enterprise=acme level=3i 1795000000000' });
    const d = tempDir();
    const spool = openSpool(`${d.dir}/spool.db`, { maxBytes: 1e6 });
    spool.append([
      { receivedAt: 0, lines: ['vessel,device=t-2,enterprise=acme temperature=21.5 1795000000001'] },
      { receivedAt: 0, lines: ['vessel,device=t-1,enterprise=acme level=2.5 1795000000002'] },
      { receivedAt: 0, lines: ['vessel,device=t-3,enterprise=acme temperature=23.5 1795000000003'] },
    ]);
    const refused: number[] = [];
    const drain = startDrain({
      spool,
      writer: v1Writer({ url: db.url, database: db.db, timeoutMs: 5000, gzip: true }),
      log: silentLogger(),
      batchSize: 100,
      flushMs: 10,
      retry: { minMs: 10, maxMs: 100 },
      onRefused: (points) => refused.push(points),
    });
    await waitFor(() => spool.stats().messages === 0);
    await drain.stop();
    expect(refused).toEqual([1]);
    expect(spool.stats().refused).toBe(1);
    const res = await influxQuery(db.db, 'SELECT count(temperature), count(level) FROM vessel');
    expect(res.results[0].series![0].values[0].slice(1)).toEqual([2, 1]); // the two good ones; level only as first written
    spool.close();
    d.remove();
  });
});

describe('v2 writer: back-off on 429 and 503 (fake server)', () => {
  const seen: { status: number; at: number; gzip: boolean; body: string; auth?: string; url?: string }[] = [];
  const script = [
    { status: 429, headers: { 'retry-after': '1' } },
    { status: 503, headers: {} },
    { status: 204, headers: {} },
  ];
  let url = '';
  let server: ReturnType<typeof createServer>;

  beforeAll(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const raw = Buffer.concat(chunks);
      const gzip = req.headers['content-encoding'] === 'gzip';
      const step = script[Math.min(seen.length, script.length - 1)];
      seen.push({ status: step.status, at: Date.now(), gzip, body: (gzip ? gunzipSync(raw) : raw).toString(), auth: req.headers.authorization, url: req.url });
      res.writeHead(step.status, { 'content-type': 'application/json', ...step.headers });
      res.end(step.status === 204 ? undefined : JSON.stringify({ code: 'unavailable', message: 'busy' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('reports the status and Retry-After, and the drain waits as asked before trying again', async () => {
    const w = v2Writer({ url, token: 'secret-token', org: 'acme', bucket: 'hazwatch', timeoutMs: 2000, gzip: true });
    const err = await w.write('x a=1 1').catch((e) => e as WriteError);
    expect(err).toBeInstanceOf(WriteError);
    expect(err).toMatchObject({ failure: 'transient', status: 429, retryAfterMs: 1000 });
    seen.length = 0;

    const d = tempDir();
    const spool = openSpool(`${d.dir}/spool.db`, { maxBytes: 1e6 });
    const body = Array.from({ length: 200 }, (_, i) => `gas_toxic,device=g-1,enterprise=acme ppm=${i} ${1_795_000_000_000 + i}`);
    spool.append([{ receivedAt: 0, lines: body }]);
    const delays: number[] = [];
    const drain = startDrain({
      spool,
      writer: w,
      log: silentLogger(),
      batchSize: 1000,
      flushMs: 10,
      retry: { minMs: 50, maxMs: 100 },
      onError: (_e, _attempt, delay) => delays.push(delay),
    });
    await waitFor(() => spool.stats().messages === 0, 10_000);
    await drain.stop();
    expect(seen.map((s) => s.status)).toEqual([429, 503, 204]);
    // Retry-After: 1 is taken as given; the 503 without it falls back to the exponential backoff.
    expect(delays[0]).toBe(1000);
    expect(delays[1]).toBeLessThanOrEqual(100);
    expect(seen[2]).toMatchObject({ gzip: true, auth: 'Token secret-token' });
    expect(seen[2].url).toBe('/api/v2/write?bucket=hazwatch&precision=ms&org=acme');
    expect(seen[2].body.split('\n')).toEqual(body);
    spool.close();
    d.remove();
  });
});
