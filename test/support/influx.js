// A fresh database per test file on the real InfluxDB started by test/global-setup.ts.
import { randomBytes } from 'node:crypto';
export function influxUrl() {
    const url = process.env.HAZWATCH_TEST_INFLUX_URL;
    if (!url)
        throw new Error('HAZWATCH_TEST_INFLUX_URL is not set: run the tests with vitest (global setup starts influxd)');
    return url;
}
export async function influxQuery(db, q) {
    const res = await fetch(`${influxUrl()}/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(q)}`, { method: 'POST' });
    if (!res.ok)
        throw new Error(`influx query failed ${res.status}: ${await res.text()}`);
    return (await res.json());
}
/** Creates an empty database with a unique name; returns its name and a function that drops it. */
export async function createTestDatabase(prefix = 'hw_test') {
    const db = `${prefix}_${randomBytes(4).toString('hex')}`;
    await influxQuery(db, `CREATE DATABASE "${db}"`);
    return { db, url: influxUrl(), drop: async () => void (await influxQuery(db, `DROP DATABASE "${db}"`)) };
}
