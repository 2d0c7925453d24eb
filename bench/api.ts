// API figures a monitoring room cares about, over real HTTP on real stores:
//  - how long from an alarm change written to the store until an SSE client has it (p50/p95/max),
//    with N connected consoles;
//  - how long the alarm list and the overview take with many open alarms.
// Prints figures; asserts nothing.   npm run bench:api [-- --alarms 2000 --clients 20 --changes 200]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startApi } from '../api/start.ts';
import { loadConfig } from '../core/config.ts';
import { silentLogger } from '../core/log.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import { openRegistry } from '../registry/registry.ts';
import { openAlarmStore } from '../rules/store.ts';

const { values } = parseArgs({ options: { alarms: { type: 'string', default: '2000' }, clients: { type: 'string', default: '20' }, changes: { type: 'string', default: '200' } } });
const ALARMS = Number(values.alarms);
const CLIENTS = Number(values.clients);
const CHANGES = Number(values.changes);

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
const ms = (x: number) => `${x.toFixed(1)} ms`;

const dir = mkdtempSync(join(tmpdir(), 'hazwatch-bench-api-'));
const registry = await openRegistry(join(dir, 'registry.db'));
const alarms = await openAlarmStore(join(dir, 'alarms.db'));
const config = loadConfig({ env: {}, overrides: { dataDir: dir, api: { port: 0, adminPassword: 'bench-password-1' } } });
const api = await startApi({ config, log: silentLogger(), metrics: createMetricsRegistry(), registry, alarms, mqtt: false });

try {
  const enterprises = 20;
  const devices = Array.from({ length: ALARMS }, (_, i) => ({ enterprise: `ent-${i % enterprises}`, id: `gas-${i}`, class: 'gas_combustible' as const }));
  await registry.addDevices(devices);
  const raise = (d: (typeof devices)[number], level: 1 | 2 | 3 | 4) =>
    alarms.raise({ enterprise: d.enterprise, device: d.id, deviceClass: d.class, site: '', hazardSource: null, condition: 'HW_ALM_GAS_LEL_HIGH', level, metric: 'lel', value: 30, threshold: 25, message: 'bench', at: Date.now() });
  let t0 = performance.now();
  for (const d of devices) await raise(d, 2);
  console.log(`raised ${ALARMS} alarms in the store: ${ms(performance.now() - t0)}`);

  const login = await fetch(`${api.url}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: 'bench-password-1' }) });
  const auth = { authorization: `Bearer ${((await login.json()) as { token: string }).token}` };

  for (const [name, url] of [
    ['alarm list, 1000 open', '/api/v1/alarms?open=true&limit=1000'],
    ['overview', '/api/v1/overview'],
  ] as const) {
    const times: number[] = [];
    for (let i = 0; i < 20; i++) {
      t0 = performance.now();
      const res = await fetch(`${api.url}${url}`, { headers: auth });
      await res.arrayBuffer();
      times.push(performance.now() - t0);
    }
    console.log(`${name.padEnd(24)} p50 ${ms(pct(times, 50))}  p95 ${ms(pct(times, 95))}`);
  }

  // N consoles on the live stream; each change's latency is measured at every client.
  const latencies: number[] = [];
  const written = new Map<string, number>();
  const readers = await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      const res = await fetch(`${api.url}/api/v1/stream?values=false`, { headers: auth });
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      let hello = false;
      const done = (async () => {
        for (;;) {
          const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
          if (done) return;
          buffer += decoder.decode(value, { stream: true });
          const parts = buffer.split('\n\n');
          buffer = parts.pop()!;
          for (const part of parts) {
            if (part.includes('event: hello')) hello = true;
            const m = part.match(/"note":"bench-(\d+)"/);
            if (m && written.has(m[1])) latencies.push(performance.now() - written.get(m[1])!);
          }
        }
      })();
      while (!hello) await new Promise((r) => setTimeout(r, 10));
      return { reader, done };
    }),
  );
  for (let i = 0; i < CHANGES; i++) {
    written.set(String(i), performance.now());
    await alarms.acknowledge((await alarms.list({ states: ['active_unacknowledged'], limit: 1 }))[0].id, 'bench', `bench-${i}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  const deadline = Date.now() + 5000;
  while (latencies.length < CHANGES * CLIENTS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  for (const r of readers) await r.reader.cancel();
  console.log(
    `live stream: ${CLIENTS} clients, ${CHANGES} changes, ${latencies.length}/${CHANGES * CLIENTS} deliveries; store write → client: p50 ${ms(pct(latencies, 50))}  p95 ${ms(pct(latencies, 95))}  max ${ms(Math.max(...latencies))} (tail polled every 250 ms)`,
  );
} finally {
  await api.close();
  await alarms.dispose();
  await registry.close();
  rmSync(dir, { recursive: true, force: true });
}
