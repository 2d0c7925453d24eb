// The hazwatch broker in a process of its own for bench/broker.ts (as Mosquitto runs in its own):
// registers the benchmark accounts in a temporary registry, starts the broker on a free loopback port
// and prints one JSON line { port, devices, service } on stdout. Stops on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBroker } from '../broker/server.ts';
import { silentLogger } from '../core/log.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import { openRegistry } from '../registry/registry.ts';

const publishers = Number(process.argv[2] ?? 10);
const dir = mkdtempSync(join(tmpdir(), 'hazwatch-bench-'));
const registry = openRegistry(join(dir, 'registry.db'));
const devices = await registry.addDevices(Array.from({ length: publishers }, (_, i) => ({ enterprise: 'bench', id: `dev-${i}`, class: 'gas_combustible' as const })));
const service = await registry.setService('bench');
// Mosquitto has no publish rate limit; the comparison is of the broker's own cost, so ours is off too.
// Authentication, access checks, size guard and statistics stay on.
const broker = await startBroker(
  { host: '127.0.0.1', port: 0, wsPort: false, tlsPort: false, publishRatePerSecond: 0, dataDir: dir },
  { log: silentLogger(), metrics: createMetricsRegistry(), registry },
);
process.stdout.write(JSON.stringify({ port: broker.port, devices, service }) + '\n');

process.once('SIGTERM', () => {
  void broker.close().then(() => {
    registry.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
