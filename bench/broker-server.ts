// The hazwatch broker in a process of its own for bench/broker.ts (as Mosquitto runs in its own):
// registers the benchmark accounts in a temporary registry, starts the broker on a free loopback port
// and prints one JSON line { port, devices, service } on stdout. Stops on SIGTERM.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Aedes } from 'aedes';
import { startBroker } from '../broker/server.ts';
import { silentLogger } from '../core/log.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import { openRegistry } from '../registry/registry.ts';

const publishers = Number(process.argv[2] ?? 10);
// `aedes`: plain aedes with no hook at all, to show what authentication, access checks, limits and
// statistics cost on top of it (the accounts are printed, but any user name is accepted).
const bare = process.argv[3] === 'aedes';
const dir = mkdtempSync(join(tmpdir(), 'hazwatch-bench-'));
const registry = await openRegistry(join(dir, 'registry.db'));
const devices = await registry.addDevices(Array.from({ length: publishers }, (_, i) => ({ enterprise: 'bench', id: `dev-${i}`, class: 'gas_combustible' as const })));
const service = await registry.setService('bench');
// Mosquitto has no publish rate limit; the comparison is of the broker's own cost, so ours is off too.
// Authentication, access checks, size guard and statistics stay on.
const broker = bare
  ? await startBareAedes()
  : await startBroker({ host: '127.0.0.1', port: 0, wsPort: false, tlsPort: false, publishRatePerSecond: 0, dataDir: dir }, { log: silentLogger(), metrics: createMetricsRegistry(), registry });
process.stdout.write(JSON.stringify({ port: broker.port, devices, service }) + '\n');

async function startBareAedes(): Promise<{ port: number; close(): Promise<void> }> {
  const aedes = await Aedes.createBroker();
  const server = createServer({ noDelay: true }, (socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => aedes.close(() => server.close(() => resolve()))),
  };
}

process.once('SIGTERM', () => {
  void broker.close().then(async () => {
    await registry.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  });
});
