// Retention and downsampling on the real InfluxDB 1.x of the global setup: the policies and continuous
// queries ingest sets up at start, idempotent and following a changed setting; the aggregates they
// fill (mean, max, min; booleans max and min) from readings; the 30-day minimum of the setting.
import { afterAll, describe, expect, it } from 'vitest';
import { deviceChart } from '../../api/chart.ts';
import { loadConfig } from '../../core/config.ts';
import { createTestDatabase, influxQuery } from '../../test/support/influx.ts';
import { continuousQueries, downsample, ensureRetention, type RetentionSettings } from '../retention.ts';
import { v1Query, v1Writer } from '../writers/v1.ts';

const dbs: { drop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop().catch(() => undefined);
});

const SETTINGS: RetentionSettings = { enabled: true, rawDays: 0, minuteDays: 730, hourDays: 3650 };

async function fresh() {
  const db = await createTestDatabase('hw_retention');
  dbs.push(db);
  const statements: string[] = [];
  const query = (q: string) => {
    statements.push(q);
    return v1Query({ url: db.url, database: db.db, timeoutMs: 5000, gzip: false }, q);
  };
  return { db, query, statements };
}

async function policies(db: string): Promise<Record<string, string>> {
  const s = (await influxQuery(db, `SHOW RETENTION POLICIES ON "${db}"`)).results[0].series![0];
  return Object.fromEntries(s.values.map((v) => [v[0] as string, v[1] as string]));
}

describe('retention and downsampling (InfluxDB 1.x)', () => {
  it('sets up the raw, minute and hour policies and the continuous queries, once, and follows a changed setting', async () => {
    const { db, query, statements } = await fresh();
    expect(await ensureRetention(query, db.db, SETTINGS)).toBe('autogen');
    expect(await policies(db.db)).toEqual({ autogen: '0s', minute: '17520h0m0s', hour: '87600h0m0s' });
    const cqs = (await influxQuery(db.db, 'SHOW CONTINUOUS QUERIES')).results[0].series!.find((s) => s.name === db.db)!;
    expect(cqs.values.map((v) => v[0])).toEqual(['hw_minute', 'hw_hour']);
    // A second start changes nothing.
    statements.length = 0;
    await ensureRetention(query, db.db, SETTINGS);
    expect(statements.filter((s) => /^(CREATE|ALTER|DROP)/.test(s))).toEqual([]);
    // Raw kept 90 days now: only the policy is altered.
    await ensureRetention(query, db.db, { ...SETTINGS, rawDays: 90 });
    expect(statements.filter((s) => /^(CREATE|ALTER|DROP)/.test(s))).toEqual([`ALTER RETENTION POLICY "autogen" ON "${db.db}" DURATION 90d`]);
    expect((await policies(db.db)).autogen).toBe('2160h0m0s');
    expect(continuousQueries(db.db, 'autogen')[0].text).toContain('RESAMPLE EVERY 1m FOR 10m');
  });

  it('fills minute and hour aggregates from raw readings: mean, max and min of numbers, max and min of booleans', async () => {
    const { db, query } = await fresh();
    await ensureRetention(query, db.db, SETTINGS);
    const t0 = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
    const lines = [0.3, 0.5, 0.1, 0.4].map((p, i) => `fire_water,enterprise=acme,device=fw-1 pressure=${p},pump_running=${i === 2} ${t0 + i * 20_000}`);
    const res = await fetch(`${db.url}/write?db=${db.db}&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(res.status).toBe(204);
    expect(await downsample(query, db.db, 'autogen', t0, t0 + 3_600_000)).toBeGreaterThan(0);
    const minute = (await influxQuery(db.db, `SELECT * FROM "minute"."fire_water"`)).results[0].series![0];
    const rows = minute.values.map((v) => Object.fromEntries(minute.columns.map((c, i) => [c, v[i]])));
    expect(rows.map((r) => [r.time, r.device, r.mean_pressure, r.max_pressure, r.min_pressure, r.max_pump_running, r.min_pump_running])).toEqual([
      [t0, 'fw-1', expect.closeTo(0.3, 9), 0.5, 0.1, true, false],
      [t0 + 60_000, 'fw-1', 0.4, 0.4, 0.4, false, false],
    ]);
    const hour = (await influxQuery(db.db, `SELECT mean_pressure, max_pressure FROM "hour"."fire_water"`)).results[0].series![0];
    expect(hour.values).toEqual([[t0, expect.closeTo(0.325, 9), 0.5]]);
    // The console's chart over a month reads the minute aggregates, over a year the hour ones.
    const device = { enterprise: 'acme', id: 'fw-1', class: 'fire_water' as const };
    const points = async (minutes: number, bucketSeconds: number) =>
      (await deviceChart({ url: db.url, database: db.db }, device, { minutes, bucketSeconds })).find((s) => s.metric === 'pressure')!.points.filter(([, v]) => v !== null);
    expect(await points(30 * 24 * 60, 3600)).toEqual([[t0, expect.closeTo(0.35, 9)]]);
    expect(await points(365 * 24 * 60, 86_400)).toEqual([[expect.any(Number), expect.closeTo(0.325, 9)]]);
    // Without the aggregates (retention off), the raw readings.
    const other = await createTestDatabase('hw_retention');
    dbs.push(other);
    await fetch(`${other.url}/write?db=${other.db}&precision=ms`, { method: 'POST', body: lines.join('\n') });
    expect(await (async () => (await deviceChart({ url: other.url, database: other.db }, device, { minutes: 30 * 24 * 60, bucketSeconds: 3600 })).find((s) => s.metric === 'pressure')!.points.filter(([, v]) => v !== null))()).toEqual([[t0, expect.closeTo(0.325, 9)]]);
  });

  it('is set up by the v1 writer when ingest prepares its database, and refuses to keep raw readings under 30 days', async () => {
    const { db } = await fresh();
    const config = loadConfig({ env: {}, overrides: { ingest: { influx: { kind: 'v1', url: db.url, database: db.db, retention: { rawDays: 400 } } } } });
    expect(await v1Writer({ ...config.ingest.influx, url: db.url }).prepare!()).toBeUndefined();
    expect((await policies(db.db)).autogen).toBe('9600h0m0s');
    expect(() => loadConfig({ env: {}, overrides: { ingest: { influx: { retention: { rawDays: 10 } } } } })).toThrowError(/at least 30 days/);
  });
});
