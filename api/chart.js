// The last hour of a device for the console chart, read from InfluxDB with InfluxQL over the v1 HTTP
// API (served by InfluxDB 1.x, and by 2.x/3.x through their v1 compatibility endpoints).
// Measurement and tag names are the storage contract (docs/storage.md).
import { DEVICE_CLASSES } from '../contract/catalog.ts';
/** InfluxQL string literal. Ids are already restricted to [A-Za-z0-9_.-], this is belt and braces. */
function literal(value) {
    return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
export async function deviceChart(influx, device, options) {
    const metrics = Object.entries(DEVICE_CLASSES[device.class].metrics).filter(([, spec]) => spec.type === 'number');
    const fields = metrics.map(([m]) => `mean("${m}") AS "${m}"`).join(', ');
    const q = `SELECT ${fields} FROM "${device.class}" WHERE "enterprise" = ${literal(device.enterprise)} AND "device" = ${literal(device.id)} ` +
        `AND time > now() - ${options.minutes}m GROUP BY time(${options.bucketSeconds}s) fill(null)`;
    const params = new URLSearchParams({ db: influx.database, q, epoch: 'ms' });
    const headers = {};
    if (influx.token)
        headers.authorization = `Token ${influx.token}`;
    else if (influx.username)
        headers.authorization = `Basic ${Buffer.from(`${influx.username}:${influx.password ?? ''}`).toString('base64')}`;
    const res = await fetch(`${influx.url.replace(/\/$/, '')}/query?${params}`, { headers, signal: options.signal ?? AbortSignal.timeout(10000) });
    if (!res.ok)
        throw new Error(`InfluxDB answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
    const body = (await res.json());
    const result = body.results?.[0];
    if (result?.error) {
        // A database nobody has written to yet is an empty chart, not a failure.
        if (/database not found/.test(result.error))
            return metrics.map(([metric, spec]) => ({ metric, unit: spec.unit, points: [] }));
        throw new Error(`InfluxDB: ${result.error}`);
    }
    const series = result?.series?.[0];
    return metrics.map(([metric, spec]) => {
        const col = series ? series.columns.indexOf(metric) : -1;
        const points = series && col >= 0 ? series.values.map((row) => [row[0], row[col]]) : [];
        return { metric, unit: spec.unit, points };
    });
}
