// An InfluxDB 1.x of one's own (Debian's influxd): own temporary directory, free loopback ports, its
// pid for the benchmarks' CPU and memory figures, and stop/start on the same port and data for the
// outage tests, on core/influxd.ts (which `hazwatch start` uses too).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findInfluxd, influxd } from '../../core/influxd.ts';
import { freePort } from './net.ts';

export interface OwnInflux {
  url: string;
  port: number;
  pid(): number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
  remove(): Promise<void>;
  query(db: string, q: string): Promise<unknown[][]>;
  /** count(field) over a query's WHERE clause; 0 when nothing matched. */
  count(db: string, from: string, where?: string, field?: string): Promise<number>;
}

export { findInfluxd };

/** Configured, not started: call start(). */
export async function ownInflux(options: { port?: number } = {}): Promise<OwnInflux> {
  const bin = findInfluxd();
  if (!bin) throw new Error("influxd not found: install Debian's influxdb package (bash .ci/run does) or set HAZWATCH_TEST_INFLUX_URL");
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-influx-'));
  const port = options.port ?? (await freePort());
  const server = influxd({ bin, dir, httpPort: port, rpcPort: await freePort() });
  const url = server.url;
  const self: OwnInflux = {
    url,
    port,
    pid: server.pid,
    start: server.start,
    stop: server.stop,
    async remove() {
      await self.stop();
      rmSync(dir, { recursive: true, force: true });
    },
    async query(db, q) {
      const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&epoch=ms&q=${encodeURIComponent(q)}`, { method: 'POST' });
      const body = (await res.json()) as { results: { series?: { values: unknown[][] }[]; error?: string }[]; error?: string };
      if (body.error) throw new Error(body.error);
      if (body.results[0]?.error) throw new Error(body.results[0].error);
      return body.results[0]?.series?.[0]?.values ?? [];
    },
    async count(db, from, where, field = 'lel') {
      const rows = await self.query(db, `SELECT count("${field}") FROM ${from}${where ? ` WHERE ${where}` : ''}`).catch(() => []);
      return Number(rows[0]?.[1] ?? 0);
    },
  };
  return self;
}

/** The values of the first row of an InfluxQL query (e.g. count(...)), without its time. */
export async function v1Count(url: string, db: string, q: string): Promise<number[]> {
  const res = await fetch(`${url}/query?db=${encodeURIComponent(db)}&q=${encodeURIComponent(q)}`);
  const body = (await res.json()) as { results: { series?: { values: unknown[][] }[]; error?: string }[] };
  if (body.results[0].error) throw new Error(body.results[0].error);
  const row = body.results[0].series?.[0]?.values[0];
  return row ? (row.slice(1) as number[]) : [];
}
