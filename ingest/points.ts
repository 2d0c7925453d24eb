// Line protocol for the schema of docs/storage.md. Tags are sorted by key (InfluxDB indexes them
// sorted; sending them sorted spares the server the work), timestamps are epoch milliseconds.
import { escape } from '@influxdata/influxdb-client';

export type FieldValue = number | boolean | string;

function fieldValue(value: FieldValue): string {
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return String(value);
  // A raw line break would end the line; keep it visible as the two characters \n instead.
  return escape.quoted(value.replace(/\r?\n|\r/g, '\\n'));
}

/** The series part of a line: measurement and tags, sorted; tags with an empty or missing value are left out (InfluxDB refuses empty tag values). */
export function series(measurement: string, tags: Record<string, string | null | undefined>): string {
  let out = escape.measurement(measurement);
  for (const key of Object.keys(tags).sort()) {
    const value = tags[key];
    if (value) out += `,${escape.tag(key)}=${escape.tag(value.replace(/[\r\n]+/g, ' '))}`;
  }
  return out;
}

/** One line of a series already written by `series` (cached per device on the hot path). */
export function lineOf(seriesKey: string, fields: Record<string, FieldValue>, ts: number): string {
  let out = seriesKey;
  let sep = ' ';
  for (const key in fields) {
    out += `${sep}${escape.tag(key)}=${fieldValue(fields[key])}`;
    sep = ',';
  }
  return `${out} ${ts}`;
}

/** One line. */
export function line(measurement: string, tags: Record<string, string | null | undefined>, fields: Record<string, FieldValue>, ts: number): string {
  return lineOf(series(measurement, tags), fields, ts);
}

/**
 * Receive times handed out per device never repeat: two points of one series at the same millisecond
 * would overwrite each other in InfluxDB, e.g. a batch of readings without timestamps, or two
 * messages of a chatty device within one millisecond.
 */
export function receiveClock() {
  const last = new Map<string, number>();
  return (key: string, ts: number): number => {
    const prev = last.get(key);
    const next = prev !== undefined && prev >= ts ? prev + 1 : ts;
    last.set(key, next);
    return next;
  };
}
