// InfluxDB 1.x: POST /write (line protocol, precision=ms, gzip) and InfluxQL on /query.
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { ensureRetention, type RetentionSettings } from '../retention.ts';
import { WriteError, classifyStatus, parseRetryAfter, type Writer } from './types.ts';

const gzip = promisify(gzipCallback);

export interface V1Options {
  url: string;
  database: string;
  retentionPolicy?: string;
  username?: string;
  password?: string;
  createDatabase?: boolean;
  /** Retention and downsampling set up at start (ingest/retention.ts). */
  retention?: RetentionSettings;
  timeoutMs: number;
  gzip: boolean;
}

function authHeaders(o: V1Options): Record<string, string> {
  return o.username ? { authorization: `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}` } : {};
}

function quoteIdent(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Runs one InfluxQL statement; returns the parsed JSON answer. */
export async function v1Query(o: V1Options, q: string, method: 'GET' | 'POST' = 'POST'): Promise<unknown> {
  const params = new URLSearchParams({ q, db: o.database, epoch: 'ms' });
  const res = await fetch(`${o.url.replace(/\/$/, '')}/query?${params}`, { method, headers: authHeaders(o), signal: AbortSignal.timeout(o.timeoutMs) });
  const body = (await res.json().catch(() => ({}))) as { error?: string; results?: { error?: string }[] };
  const error = body.error ?? body.results?.find((r) => r.error)?.error;
  if (!res.ok || error) throw new Error(`InfluxQL ${res.status}: ${error ?? res.statusText}`);
  return body;
}

export function v1Writer(o: V1Options): Writer {
  async function create(): Promise<string | undefined> {
    try {
      if (o.createDatabase !== false) await v1Query(o, `CREATE DATABASE ${quoteIdent(o.database)}`);
      if (o.retention?.enabled) await ensureRetention((q) => v1Query(o, q), o.database, o.retention, o.retentionPolicy);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }
  const params = new URLSearchParams({ db: o.database, precision: 'ms' });
  if (o.retentionPolicy) params.set('rp', o.retentionPolicy);
  const url = `${o.url.replace(/\/$/, '')}/write?${params}`;
  return {
    kind: 'v1',
    target: `${o.url} database ${o.database}${o.retentionPolicy ? ` rp ${o.retentionPolicy}` : ''}`,
    prepare: create,
    async write(text: string): Promise<void> {
      try {
        await post(text);
      } catch (err) {
        // The database was down when ingest started, or was dropped: create it, then try once more.
        if (err instanceof WriteError && err.status === 404 && o.createDatabase !== false && /database not found/i.test(err.message) && !(await create())) {
          await post(text);
          return;
        }
        throw err;
      }
    },
  };

  async function post(text: string): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'text/plain; charset=utf-8', ...authHeaders(o) };
    let body: Uint8Array | string = text;
    if (o.gzip && text.length > 1000) {
      body = await gzip(text);
      headers['content-encoding'] = 'gzip';
    }
    let res: Response;
    try {
      res = await fetch(url, { method: 'POST', headers, body: body as NonNullable<RequestInit['body']>, signal: AbortSignal.timeout(o.timeoutMs) });
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      throw new WriteError('transient', `${(err as Error).message}${cause ? ` (${cause})` : ''}`);
    }
    if (res.status === 204 || res.status === 200) {
      await res.arrayBuffer().catch(() => undefined);
      return;
    }
    const detail = (await res.text().catch(() => '')).slice(0, 500);
    throw new WriteError(classifyStatus(res.status), `HTTP ${res.status}: ${detail || res.statusText}`, {
      status: res.status,
      retryAfterMs: parseRetryAfter(res.headers.get('retry-after')),
    });
  }
}
