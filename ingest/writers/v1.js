// InfluxDB 1.x: POST /write (line protocol, precision=ms, gzip) and InfluxQL on /query.
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { WriteError, classifyStatus, parseRetryAfter } from './types.ts';
const gzip = promisify(gzipCallback);
function authHeaders(o) {
    return o.username ? { authorization: `Basic ${Buffer.from(`${o.username}:${o.password ?? ''}`).toString('base64')}` } : {};
}
function quoteIdent(name) {
    return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}
/** Runs one InfluxQL statement; returns the parsed JSON answer. */
export async function v1Query(o, q, method = 'POST') {
    const params = new URLSearchParams({ q, db: o.database, epoch: 'ms' });
    const res = await fetch(`${o.url.replace(/\/$/, '')}/query?${params}`, { method, headers: authHeaders(o), signal: AbortSignal.timeout(o.timeoutMs) });
    const body = (await res.json().catch(() => ({})));
    const error = body.error ?? body.results?.find((r) => r.error)?.error;
    if (!res.ok || error)
        throw new Error(`InfluxQL ${res.status}: ${error ?? res.statusText}`);
    return body;
}
export function v1Writer(o) {
    async function create() {
        if (o.createDatabase === false)
            return undefined;
        try {
            await v1Query(o, `CREATE DATABASE ${quoteIdent(o.database)}`);
            return undefined;
        }
        catch (err) {
            return err.message;
        }
    }
    const params = new URLSearchParams({ db: o.database, precision: 'ms' });
    if (o.retentionPolicy)
        params.set('rp', o.retentionPolicy);
    const url = `${o.url.replace(/\/$/, '')}/write?${params}`;
    return {
        kind: 'v1',
        target: `${o.url} database ${o.database}${o.retentionPolicy ? ` rp ${o.retentionPolicy}` : ''}`,
        prepare: create,
        async write(text) {
            try {
                await post(text);
            }
            catch (err) {
                // The database was down when ingest started, or was dropped: create it, then try once more.
                if (err instanceof WriteError && err.status === 404 && o.createDatabase !== false && /database not found/i.test(err.message) && !(await create())) {
                    await post(text);
                    return;
                }
                throw err;
            }
        },
    };
    async function post(text) {
        const headers = { 'content-type': 'text/plain; charset=utf-8', ...authHeaders(o) };
        let body = text;
        if (o.gzip && text.length > 1000) {
            body = await gzip(text);
            headers['content-encoding'] = 'gzip';
        }
        let res;
        try {
            res = await fetch(url, { method: 'POST', headers, body: body, signal: AbortSignal.timeout(o.timeoutMs) });
        }
        catch (err) {
            const cause = err.cause?.code;
            throw new WriteError('transient', `${err.message}${cause ? ` (${cause})` : ''}`);
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
