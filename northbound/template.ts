// The small template language of a northbound map: a body is a JSON-like object whose string leaves
// may reference fields of what is sent ("{device}", "{ts:yyyyMMddHHmmss}", "{alarm.level|level}"),
// and whose `{ $each: values, item: {...} }` objects become one array element per reported value.
// Parsed and checked once when the map is loaded; rendering is a walk over the compiled tree.

/** A flat record of what one message is about: `device.name`, `alarm.level`, ... (see fields.ts). */
export type Context = Record<string, unknown> & { values?: Context[] };

export type TimeFormat = (ms: number) => string | number;

export type Part =
  | { text: string }
  | { ref: string; table?: string; format?: TimeFormat; formatText?: string };

export interface Template {
  text: string;
  parts: Part[];
}

export type Node =
  | { kind: 'literal'; value: unknown }
  | { kind: 'template'; template: Template }
  | { kind: 'object'; entries: [string, Node][] }
  | { kind: 'array'; items: Node[] }
  | { kind: 'each'; source: 'values'; item: Node };

/** Called for a table lookup that found neither the value nor a "*" entry: the value is sent as it is. */
export type OnUnmapped = (table: string, value: unknown) => void;

const REF = /^\{([A-Za-z][A-Za-z0-9_.]*)(?:\|([A-Za-z][A-Za-z0-9_-]*)|:([^{}]+))?\}/;

/** Splits a string leaf into text and references; a sentence saying what is wrong otherwise. `{{` and `}}` are literal braces. */
export function parseTemplate(text: string): { parts: Array<{ text: string } | { ref: string; table?: string; formatText?: string }> } | string {
  const parts: Array<{ text: string } | { ref: string; table?: string; formatText?: string }> = [];
  let literal = '';
  for (let i = 0; i < text.length; ) {
    if (text.startsWith('{{', i) || text.startsWith('}}', i)) {
      literal += text[i];
      i += 2;
      continue;
    }
    if (text[i] === '}') return `"${text}": unbalanced "}" (write "}}" for a literal brace)`;
    if (text[i] !== '{') {
      literal += text[i++];
      continue;
    }
    const m = REF.exec(text.slice(i));
    if (!m) {
      const end = text.indexOf('}', i);
      const inner = end < 0 ? text.slice(i) : text.slice(i, end + 1);
      return `"${text}": cannot read ${inner} (write {field}, {field|table} or {timefield:format}; "{{" for a literal brace)`;
    }
    if (literal) parts.push({ text: literal });
    literal = '';
    parts.push({ ref: m[1], ...(m[2] ? { table: m[2] } : {}), ...(m[3] ? { formatText: m[3] } : {}) });
    i += m[0].length;
  }
  if (literal) parts.push({ text: literal });
  return { parts };
}

/** The value sent for one reference: looked up, mapped through its table, formatted when a time. */
function refValue(part: Extract<Part, { ref: string }>, ctx: Context, tables: Record<string, Record<string, unknown>>, onUnmapped: OnUnmapped): unknown {
  let v = ctx[part.ref];
  if (v === undefined) v = null;
  if (part.format) return typeof v === 'number' ? part.format(v) : null;
  // Nothing is nothing in every code table (a device on no hazard source).
  if (part.table !== undefined && v !== null) {
    const table = tables[part.table];
    const key = String(v);
    if (Object.hasOwn(table, key)) return table[key];
    if (Object.hasOwn(table, '*')) return table['*'];
    onUnmapped(part.table, v);
  }
  return v;
}

/** A string leaf: one reference alone keeps its type (number, boolean, null); otherwise text. */
export function renderTemplate(t: Template, ctx: Context, tables: Record<string, Record<string, unknown>>, onUnmapped: OnUnmapped): unknown {
  if (t.parts.length === 1 && 'ref' in t.parts[0]) return refValue(t.parts[0], ctx, tables, onUnmapped);
  let out = '';
  for (const p of t.parts) {
    if ('text' in p) out += p.text;
    else {
      const v = refValue(p, ctx, tables, onUnmapped);
      out += v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    }
  }
  return out;
}

/** Renders a text target (topic, URL path): every reference as text. */
export function renderText(t: Template, ctx: Context, tables: Record<string, Record<string, unknown>>, onUnmapped: OnUnmapped): string {
  const v = renderTemplate(t, ctx, tables, onUnmapped);
  return v === null || v === undefined ? '' : String(v);
}

export function renderNode(node: Node, ctx: Context, tables: Record<string, Record<string, unknown>>, onUnmapped: OnUnmapped): unknown {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'template':
      return renderTemplate(node.template, ctx, tables, onUnmapped);
    case 'object':
      return Object.fromEntries(node.entries.map(([k, n]) => [k, renderNode(n, ctx, tables, onUnmapped)]));
    case 'array':
      return node.items.map((n) => renderNode(n, ctx, tables, onUnmapped));
    case 'each':
      // Each value of the message: its own fields (metric, value, unit, its ts) over the message's.
      return (ctx.values ?? []).map((v) => renderNode(node.item, { ...ctx, ...v }, tables, onUnmapped));
  }
}

// ---- time formats --------------------------------------------------------------------------------

const TOKENS: Record<string, (d: Date) => string> = {
  yyyy: (d) => String(d.getUTCFullYear()).padStart(4, '0'),
  MM: (d) => String(d.getUTCMonth() + 1).padStart(2, '0'),
  dd: (d) => String(d.getUTCDate()).padStart(2, '0'),
  HH: (d) => String(d.getUTCHours()).padStart(2, '0'),
  mm: (d) => String(d.getUTCMinutes()).padStart(2, '0'),
  ss: (d) => String(d.getUTCSeconds()).padStart(2, '0'),
  SSS: (d) => String(d.getUTCMilliseconds()).padStart(3, '0'),
};

/** Parses "+08:00" into milliseconds east of UTC; undefined when malformed. */
export function parseUtcOffset(text: string): number | undefined {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!m || Number(m[2]) > 14 || Number(m[3]) > 59) return undefined;
  return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000;
}

/**
 * A formatter of epoch milliseconds: `epoch_ms` and `epoch_s` (numbers), `iso8601` (with the map's UTC
 * offset, or Z), or a pattern of yyyy MM dd HH mm ss SSS in local time at the map's UTC offset.
 * A sentence saying what is wrong otherwise.
 */
export function timeFormat(format: string, utcOffset: string | undefined): TimeFormat | string {
  if (format === 'epoch_ms') return (ms) => ms;
  if (format === 'epoch_s') return (ms) => Math.floor(ms / 1000);
  const offsetMs = utcOffset === undefined ? undefined : parseUtcOffset(utcOffset);
  if (format === 'iso8601') {
    const zone = utcOffset === undefined ? 'Z' : utcOffset;
    return (ms) => new Date(ms + (offsetMs ?? 0)).toISOString().replace('Z', zone);
  }
  if (offsetMs === undefined) return `format "${format}" is local time: give utcOffset at the top of the map as +HH:MM (e.g. "+08:00" for China Standard Time)`;
  const steps: Array<string | ((d: Date) => string)> = [];
  for (let rest = format; rest; ) {
    const token = Object.keys(TOKENS).find((t) => rest.startsWith(t));
    if (token) {
      steps.push(TOKENS[token]);
      rest = rest.slice(token.length);
    } else {
      if (/[A-Za-z]/.test(rest[0])) return `format "${format}": unknown letter "${rest[0]}" (use yyyy MM dd HH mm ss SSS, or epoch_ms, epoch_s, iso8601)`;
      steps.push(rest[0]);
      rest = rest.slice(1);
    }
  }
  return (ms) => {
    const d = new Date(ms + offsetMs);
    return steps.map((s) => (typeof s === 'string' ? s : s(d))).join('');
  };
}
