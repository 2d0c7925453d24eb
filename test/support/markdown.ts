// The fenced examples of a Markdown document, for tests that run what the docs print.
//
//   <!-- test: delivers=hw/v1/acme/gas-01/telemetry; expect=... -->
//   ```sh
//   mosquitto_pub ...
//   ```

export interface Example {
  line: number;
  lang: string;
  code: string;
  test: Record<string, string | true>;
}

/** Fenced blocks with the `<!-- test: a; b=c -->` annotation that precedes them, if any. */
export function examples(markdown: string): Example[] {
  const out: Example[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\w*)\s*$/.exec(lines[i]);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== '```'; i++) body.push(lines[i]);
    const annotation = /^<!-- test: (.*) -->$/.exec(lines[start - 1] ?? '');
    const test: Record<string, string | true> = {};
    for (const part of annotation ? annotation[1].split(';') : []) {
      const [key, ...rest] = part.trim().split('=');
      test[key.trim().split(' ')[0]] = rest.length ? rest.join('=').trim() : true;
    }
    out.push({ line: start + 1, lang: open[1], code: body.join('\n'), test });
  }
  return out;
}
