// InfluxDB 2.x, 3.x and Cloud: /api/v2/write through @influxdata/influxdb-client's transport (token
// auth, gzip above a threshold, HttpError with the server's headers). Its WriteApi is not used: it
// buffers and retries in memory, which would hide failures from the spool that owns durability.
import { HttpError, InfluxDB } from '@influxdata/influxdb-client';
import { WriteError, classifyStatus, parseRetryAfter } from './types.ts';
export function v2Writer(o) {
    const influx = new InfluxDB({ url: o.url, token: o.token, timeout: o.timeoutMs });
    const params = new URLSearchParams({ bucket: o.bucket, precision: 'ms' });
    if (o.org)
        params.set('org', o.org);
    const path = `/api/v2/write?${params}`;
    return {
        kind: 'v2',
        target: `${o.url} bucket ${o.bucket}${o.org ? ` org ${o.org}` : ''}`,
        async write(text) {
            try {
                await influx.transport.request(path, text, {
                    method: 'POST',
                    headers: { 'content-type': 'text/plain; charset=utf-8' },
                    ...(o.gzip ? { gzipThreshold: 1000 } : {}),
                });
            }
            catch (err) {
                if (err instanceof HttpError) {
                    throw new WriteError(classifyStatus(err.statusCode), `HTTP ${err.statusCode}: ${(err.body ?? err.message).slice(0, 500)}`, {
                        status: err.statusCode,
                        retryAfterMs: parseRetryAfter(err.headers?.['retry-after']),
                    });
                }
                throw new WriteError('transient', `${err.message}${err.code ? ` (${err.code})` : ''}`);
            }
        },
    };
}
