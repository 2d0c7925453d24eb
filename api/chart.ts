// A device's recent values for the console chart, read from InfluxDB with InfluxQL over the v1 HTTP
// API (served by InfluxDB 1.x, and by 2.x/3.x through their v1 compatibility endpoints). Long ranges
// read the minute or hour aggregates that ingest's retention set-up keeps (ingest/retention.ts), and
// the raw readings where those do not exist.
// Measurement and tag names are the storage contract (docs/storage.md).
import { DEVICE_CLASSES, type DeviceClass } from '../contract/catalog.ts';

export interface InfluxTarget {
  url: string;
  database: string;
  username?: string;
  password?: string;
  token?: string;
}

export interface ChartSeries {
  metric: string;
  unit: string;
  /** [epoch ms, mean value or null for an empty bucket] */
  points: [number, number | null][];
}

/** InfluxQL string literal. Ids are already restricted to [A-Za-z0-9_.-], this is belt and braces. */
function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Which readings a range reads: raw up to 2 days, minute aggregates up to 60 days, hour ones beyond. */
export function chartSource(minutes: number): { rp: string | null; field: (metric: string) => string } {
  if (minutes > 60 * 24 * 60) return { rp: 'hour', field: (m) => `mean_${m}` };
  if (minutes > 2 * 24 * 60) return { rp: 'minute', field: (m) => `mean_${m}` };
  return { rp: null, field: (m) => m };
}

export async function deviceChart(
  influx: InfluxTarget,
  device: { enterprise: string; id: string; class: DeviceClass },
  options: { minutes: number; bucketSeconds: number; signal?: AbortSignal },
): Promise<ChartSeries[]> {
  const source = chartSource(options.minutes);
  try {
    return await chartFrom(influx, device, options, source);
  } catch (err) {
    // A database without the aggregates (retention off, InfluxDB 2.x): the raw readings, slower.
    if (source.rp && /retention policy not found/.test((err as Error).message)) return chartFrom(influx, device, options, chartSource(0));
    throw err;
  }
}

async function chartFrom(
  influx: InfluxTarget,
  device: { enterprise: string; id: string; class: DeviceClass },
  options: { minutes: number; bucketSeconds: number; signal?: AbortSignal },
  source: ReturnType<typeof chartSource>,
): Promise<ChartSeries[]> {
  const metrics = Object.entries(DEVICE_CLASSES[device.class].metrics as Record<string, { unit: string; type: string }>).filter(([, spec]) => spec.type === 'number');
  const fields = metrics.map(([m]) => `mean("${source.field(m)}") AS "${m}"`).join(', ');
  const from = source.rp ? `"${source.rp}"."${device.class}"` : `"${device.class}"`;
  const q =
    `SELECT ${fields} FROM ${from} WHERE "enterprise" = ${literal(device.enterprise)} AND "device" = ${literal(device.id)} ` +
    `AND time > now() - ${options.minutes}m GROUP BY time(${options.bucketSeconds}s) fill(null)`;
  const params = new URLSearchParams({ db: influx.database, q, epoch: 'ms' });
  const headers: Record<string, string> = {};
  if (influx.token) headers.authorization = `Token ${influx.token}`;
  else if (influx.username) headers.authorization = `Basic ${Buffer.from(`${influx.username}:${influx.password ?? ''}`).toString('base64')}`;
  const res = await fetch(`${influx.url.replace(/\/$/, '')}/query?${params}`, { headers, signal: options.signal ?? AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`InfluxDB answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { results?: { series?: { columns: string[]; values: (number | null)[][] }[]; error?: string }[] };
  const result = body.results?.[0];
  if (result?.error) {
    // A database nobody has written to yet is an empty chart, not a failure.
    if (/database not found/.test(result.error)) return metrics.map(([metric, spec]) => ({ metric, unit: spec.unit, points: [] }));
    throw new Error(`InfluxDB: ${result.error}`);
  }
  const series = result?.series?.[0];
  return metrics.map(([metric, spec]) => {
    const col = series ? series.columns.indexOf(metric) : -1;
    const points: [number, number | null][] = series && col >= 0 ? series.values.map((row) => [row[0] as number, row[col] as number | null]) : [];
    return { metric, unit: spec.unit, points };
  });
}
