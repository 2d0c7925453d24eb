// A device's raw readings over a time range, for exports: InfluxQL over the v1 HTTP API, as the
// device chart reads them (api/chart.ts), but every point, not means per bucket. Measurement and tag
// names are the storage contract (docs/storage.md): one measurement per device class, tags
// `enterprise` and `device`, one field per metric.
import { DEVICE_CLASSES, type DeviceClass } from '../contract/catalog.ts';
import type { InfluxTarget } from './chart.ts';

export interface ReadingColumn {
  metric: string;
  unit: string;
  zh: string;
}

export interface Readings {
  metrics: ReadingColumn[];
  /** [epoch ms, value of each metric in `metrics` order (booleans as 'true'/'false'), ...] */
  rows: (number | string | null)[][];
}

function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

export async function readingsOf(
  influx: InfluxTarget,
  device: { enterprise: string; id: string; class: DeviceClass },
  options: { from: number; to: number; limit: number; signal?: AbortSignal },
): Promise<Readings> {
  const metrics = Object.entries(DEVICE_CLASSES[device.class].metrics as Record<string, { unit: string; zh: string }>).map(([metric, spec]) => ({ metric, unit: spec.unit, zh: spec.zh }));
  const fields = metrics.map((m) => `"${m.metric}"`).join(', ');
  const q =
    `SELECT ${fields} FROM "${device.class}" WHERE "enterprise" = ${literal(device.enterprise)} AND "device" = ${literal(device.id)} ` +
    `AND time >= ${Math.floor(options.from)}ms AND time < ${Math.floor(options.to)}ms ORDER BY time ASC LIMIT ${options.limit}`;
  const params = new URLSearchParams({ db: influx.database, q, epoch: 'ms' });
  const headers: Record<string, string> = {};
  if (influx.token) headers.authorization = `Token ${influx.token}`;
  else if (influx.username) headers.authorization = `Basic ${Buffer.from(`${influx.username}:${influx.password ?? ''}`).toString('base64')}`;
  const res = await fetch(`${influx.url.replace(/\/$/, '')}/query?${params}`, { headers, signal: options.signal ?? AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`InfluxDB answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
  const body = (await res.json()) as { results?: { series?: { columns: string[]; values: unknown[][] }[]; error?: string }[] };
  const result = body.results?.[0];
  if (result?.error) {
    if (/database not found/.test(result.error)) return { metrics, rows: [] };
    throw new Error(`InfluxDB: ${result.error}`);
  }
  const series = result?.series?.[0];
  if (!series) return { metrics, rows: [] };
  const cols = metrics.map((m) => series.columns.indexOf(m.metric));
  const cell = (v: unknown): number | string | null => (typeof v === 'number' || typeof v === 'string' ? v : typeof v === 'boolean' ? String(v) : null);
  return { metrics, rows: series.values.map((row) => [row[0] as number, ...cols.map((c) => (c >= 0 ? cell(row[c]) : null))]) };
}
