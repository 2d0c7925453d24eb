// npm run bench: every `bench:*` script of package.json, one after the other (they each load the
// machine on purpose, so never in parallel), with the exit status of each at the end.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './procs.ts';

const scripts = Object.keys((JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts)
  .filter((s) => s.startsWith('bench:'))
  .filter((s) => !process.env.HAZWATCH_BENCH_ONLY || process.env.HAZWATCH_BENCH_ONLY.split(',').includes(s.slice(6)));
const results: [string, number | null, number][] = [];
for (const script of scripts) {
  console.log(`\n=== npm run ${script} ===`);
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', '--silent', script], { cwd: ROOT, stdio: 'inherit' });
  results.push([script, r.status, Math.round((Date.now() - t0) / 1000)]);
}
console.log('\n=== npm run bench: summary ===');
for (const [s, status, seconds] of results) console.log(`${status === 0 ? 'ok  ' : 'FAIL'} ${s} (${seconds} s)`);
process.exit(results.every(([, s]) => s === 0) ? 0 : 1);
