// Device timestamps as vendors write them: epoch milliseconds or seconds (numbers or digit strings),
// ISO 8601, or local wall-clock text such as `2026-12-06 10:00:00` or `20261206100000` with the UTC
// offset of the site (a DTU's clock carries no zone). Compiled once per map into a parse function.

export type ParseTime = (value: unknown) => number | undefined;

const TOKENS: Record<string, { re: string; field: 'y' | 'M' | 'd' | 'H' | 'm' | 's' | 'S' }> = {
  yyyy: { re: '(\\d{4})', field: 'y' },
  MM: { re: '(\\d{2})', field: 'M' },
  dd: { re: '(\\d{2})', field: 'd' },
  HH: { re: '(\\d{2})', field: 'H' },
  mm: { re: '(\\d{2})', field: 'm' },
  ss: { re: '(\\d{2})', field: 's' },
  SSS: { re: '(\\d{3})', field: 'S' },
};

function numeric(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return undefined;
}

/** A parser for `format`, or a sentence saying what is wrong with it. */
export function timeParser(format: string, utcOffset: string | undefined): ParseTime | string {
  if (format === 'epoch_ms') return (v) => numeric(v);
  if (format === 'epoch_s') return (v) => {
    const n = numeric(v);
    return n === undefined ? undefined : Math.round(n * 1000);
  };
  if (format === 'iso8601') return (v) => {
    // A zone is required: without one Date.parse would read the text in this server's zone.
    if (typeof v !== 'string' || !/(Z|[+-]\d{2}:?\d{2})$/.test(v.trim())) return undefined;
    const t = Date.parse(v);
    return Number.isNaN(t) ? undefined : t;
  };
  const offset = /^([+-])(\d{2}):(\d{2})$/.exec(utcOffset ?? '');
  if (!offset) return `format "${format}" is local time: give utcOffset as +HH:MM (e.g. "+08:00" for China Standard Time)`;
  const offsetMs = (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3])) * 60_000;
  const fields: (typeof TOKENS)[string]['field'][] = [];
  let re = '';
  for (let rest = format; rest; ) {
    const token = Object.keys(TOKENS).find((t) => rest.startsWith(t));
    if (token) {
      re += TOKENS[token].re;
      fields.push(TOKENS[token].field);
      rest = rest.slice(token.length);
    } else {
      if (/[A-Za-z]/.test(rest[0])) return `format "${format}": unknown letter "${rest[0]}" (use yyyy MM dd HH mm ss SSS, or epoch_ms, epoch_s, iso8601)`;
      re += rest[0].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      rest = rest.slice(1);
    }
  }
  for (const need of ['y', 'M', 'd', 'H', 'm'] as const) if (!fields.includes(need)) return `format "${format}" lacks ${need === 'y' ? 'yyyy' : need === 'M' ? 'MM' : need === 'd' ? 'dd' : need === 'H' ? 'HH' : 'mm'}`;
  const pattern = new RegExp(`^${re}$`);
  return (v) => {
    if (typeof v !== 'string' && typeof v !== 'number') return undefined;
    const m = pattern.exec(String(v).trim());
    if (!m) return undefined;
    const f: Record<string, number> = { y: 0, M: 1, d: 1, H: 0, m: 0, s: 0, S: 0 };
    fields.forEach((name, i) => (f[name] = Number(m[i + 1])));
    if (f.M < 1 || f.M > 12 || f.d < 1 || f.d > 31 || f.H > 23 || f.m > 59 || f.s > 60) return undefined;
    const t = Date.UTC(f.y, f.M - 1, f.d, f.H, f.m, f.s, f.S);
    // 31 February rolls over in Date.UTC: refuse it instead.
    if (new Date(t).getUTCDate() !== f.d) return undefined;
    return t - offsetMs;
  };
}
