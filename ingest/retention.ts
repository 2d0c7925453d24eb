// Retention and downsampling on InfluxDB 1.x, set up by ingest at start: raw readings kept for
// `rawDays` (0: for ever) in the database's default retention policy, and minute and hour aggregates
// (mean, max and min of every numeric field; max and min of booleans) in the retention policies
// "minute" and "hour", kept for years, filled by continuous queries. Long chart ranges and dashboards
// read the aggregates (docs/storage.md). Idempotent: a second start changes nothing, a changed
// setting alters the policy or replaces the continuous query.

export interface RetentionSettings {
  enabled: boolean;
  /** Raw readings, days; 0 keeps them for ever. Records of major hazard monitoring: at least 30 days (domain.md). */
  rawDays: number;
  minuteDays: number;
  hourDays: number;
}

export type Query = (statement: string) => Promise<unknown>;

export const AGGREGATE_RPS = { minute: 'minute', hour: 'hour' } as const;

interface ResultSeries {
  columns: string[];
  values: unknown[][];
  name?: string;
}

function series(answer: unknown): ResultSeries[] {
  return ((answer as { results?: { series?: ResultSeries[] }[] }).results?.[0]?.series ?? []) as ResultSeries[];
}

const ident = (name: string) => `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
const duration = (days: number) => (days === 0 ? 'INF' : `${days}d`);

/** The continuous query that fills one aggregate policy from the raw one. */
function aggregateQuery(db: string, rawRp: string, into: string, every: string, resampleFor: string, group: string): { name: string; text: string } {
  const name = `hw_${into}`;
  // RESAMPLE FOR covers readings that arrive late (a gateway's buffer, a device back from a dead spot).
  return {
    name,
    text:
      `CREATE CONTINUOUS QUERY ${ident(name)} ON ${ident(db)} RESAMPLE EVERY ${every} FOR ${resampleFor} BEGIN ` +
      `SELECT mean(*), max(*), min(*) INTO ${ident(db)}.${ident(into)}.:MEASUREMENT FROM ${ident(db)}.${ident(rawRp)}./.*/ GROUP BY time(${group}), * END`,
  };
}

export function continuousQueries(db: string, rawRp: string): { name: string; text: string }[] {
  return [aggregateQuery(db, rawRp, AGGREGATE_RPS.minute, '1m', '10m', '1m'), aggregateQuery(db, rawRp, AGGREGATE_RPS.hour, '30m', '6h', '1h')];
}

/** Makes the database's policies and continuous queries what the settings say; returns the raw policy's name. */
export async function ensureRetention(query: Query, db: string, settings: RetentionSettings, rawRp?: string): Promise<string> {
  const policies = series(await query(`SHOW RETENTION POLICIES ON ${ident(db)}`))[0];
  const rows = (policies?.values ?? []).map((v) => Object.fromEntries(policies!.columns.map((c, i) => [c, v[i]])) as { name: string; duration: string; default: boolean });
  const raw = rawRp ?? rows.find((r) => r.default)?.name ?? 'autogen';
  const want = [
    { name: raw, days: settings.rawDays },
    { name: AGGREGATE_RPS.minute, days: settings.minuteDays },
    { name: AGGREGATE_RPS.hour, days: settings.hourDays },
  ];
  for (const p of want) {
    const have = rows.find((r) => r.name === p.name);
    // InfluxDB shows durations as e.g. 8760h0m0s, or 0s for INF.
    const haveHours = have ? (have.duration === '0s' ? 0 : Number(/^(\d+)h/.exec(have.duration)?.[1] ?? NaN)) : undefined;
    if (!have) await query(`CREATE RETENTION POLICY ${ident(p.name)} ON ${ident(db)} DURATION ${duration(p.days)} REPLICATION 1`);
    else if (haveHours !== p.days * 24) await query(`ALTER RETENTION POLICY ${ident(p.name)} ON ${ident(db)} DURATION ${duration(p.days)}`);
  }
  const cqs = series(await query('SHOW CONTINUOUS QUERIES')).find((s) => s.name === db);
  for (const cq of continuousQueries(db, raw)) {
    const existing = cqs?.values?.find((v) => v[0] === cq.name);
    // InfluxDB shows the statement with the quotes it does not need taken out.
    if (existing && String(existing[1]).replaceAll('"', '') === cq.text.replaceAll('"', '')) continue;
    if (existing) await query(`DROP CONTINUOUS QUERY ${ident(cq.name)} ON ${ident(db)}`);
    await query(cq.text);
  }
  return raw;
}

/**
 * Fills the aggregates for [from, to) now, a day at a time, as the continuous queries would have
 * (they only cover time after they were made, and late data within their RESAMPLE window).
 */
export async function downsample(query: Query, db: string, rawRp: string, from: number, to: number): Promise<number> {
  const DAY = 86_400_000;
  let written = 0;
  for (let start = Math.floor(from / 3_600_000) * 3_600_000; start < to; start += DAY) {
    const end = Math.min(start + DAY, to);
    for (const [into, group] of [[AGGREGATE_RPS.minute, '1m'], [AGGREGATE_RPS.hour, '1h']] as const) {
      const answer = await query(
        `SELECT mean(*), max(*), min(*) INTO ${ident(db)}.${ident(into)}.:MEASUREMENT FROM ${ident(db)}.${ident(rawRp)}./.*/ ` +
          `WHERE time >= ${start}ms AND time < ${end}ms GROUP BY time(${group}), *`,
      );
      written += Number(series(answer)[0]?.values?.[0]?.[1] ?? 0);
    }
  }
  return written;
}
