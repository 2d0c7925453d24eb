// The two small languages of a vendor map: JSON paths (`data.meter.ia`, `ch[0].val`, `$.imei`) and
// templates (`gas-{imei}-{no}`). Both are parsed once when the map is loaded; on the hot path a path is
// a walk over a few keys.

/** One step of a path: an object key or an array index. */
export type Step = string | number;

export interface Path {
  /** From the message root (`$.x`) rather than from the current array element. */
  root: boolean;
  steps: Step[];
  text: string;
}

const STEP = /^([^.[\]]+)|^\[(\d+)\]|^\.([^.[\]]+)/;

/** Parses `a.b[2].c`, `$.a`, or `$` (the element or root itself); a sentence on error. */
export function parsePath(text: string): Path | string {
  let rest = text.trim();
  let root = false;
  if (rest === '$') return { root: false, steps: [], text };
  if (rest.startsWith('$.')) {
    root = true;
    rest = rest.slice(2);
  }
  if (!rest) return `empty path "${text}"`;
  const steps: Step[] = [];
  let first = true;
  while (rest) {
    const m = STEP.exec(rest);
    // A leading ".x" only after a first step; a bare "x" only as the first.
    if (!m || (first && m[3] !== undefined) || (!first && m[1] !== undefined)) return `cannot read path "${text}" at "${rest}" (write a.b[0].c, or $.a from the message root)`;
    steps.push(m[2] !== undefined ? Number(m[2]) : (m[1] ?? m[3]));
    rest = rest.slice(m[0].length);
    first = false;
  }
  return { root, steps, text };
}

/** The value at `path`, from `element` (or `root` for `$.` paths); undefined when any step is missing. */
export function readPath(path: Path, root: unknown, element: unknown): unknown {
  let at: unknown = path.root ? root : element;
  for (const step of path.steps) {
    if (at === null || typeof at !== 'object') return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(at)) return undefined;
      at = at[step];
    } else {
      if (Array.isArray(at)) return undefined;
      at = Object.prototype.hasOwnProperty.call(at, step) ? (at as Record<string, unknown>)[step] : undefined;
    }
  }
  return at;
}

/** A template's parts: literal text, a topic level captured by name, or a path into the payload. */
export type TemplatePart = { text: string } | { capture: string } | { path: Path };

export interface Template {
  parts: TemplatePart[];
  text: string;
}

/**
 * Parses `gas-{imei}-{no}`: `{name}` is the topic level captured as {name} when the topic names one,
 * else a path into the payload (relative to the array element of `each`, `$.` for the root).
 */
export function parseTemplate(text: string, captures: readonly string[]): Template | string {
  const parts: TemplatePart[] = [];
  const re = /\{([^{}]*)\}/g;
  let last = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m.index > last) parts.push({ text: text.slice(last, m.index) });
    const ref = m[1].trim();
    if (captures.includes(ref)) parts.push({ capture: ref });
    else {
      const path = parsePath(ref);
      if (typeof path === 'string') return `template "${text}": ${path}`;
      parts.push({ path });
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last) });
  if (/[{}]/.test(parts.map((p) => ('text' in p ? p.text : '')).join(''))) return `template "${text}": unbalanced { or }`;
  return { parts, text };
}

/** The template filled in, or the reference that had no value (a string or a number is a value). */
export function fillTemplate(t: Template, captures: Record<string, string>, root: unknown, element: unknown): { value: string } | { missing: string } {
  let out = '';
  for (const p of t.parts) {
    if ('text' in p) out += p.text;
    else if ('capture' in p) out += captures[p.capture];
    else {
      const v = readPath(p.path, root, element);
      if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) out += String(v);
      else return { missing: p.path.text };
    }
  }
  return { value: out };
}
