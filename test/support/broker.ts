// A real hazwatch broker for integration tests, on a free loopback port, with its own registry.
//
//   const broker = await startTestBroker();
//   const creds = await broker.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
//   const device = await mqtt.connectAsync(broker.url, { ...creds, clientId: creds.clientId, reconnectPeriod: 0 });
//   const service = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
//   ...
//   await broker.close();   // closes the broker and the registry, deletes the temporary directory
//
// startTestBroker(opts?) → { url, port, wsUrl?, tlsUrl?, registry, registryPath, dataDir, service, broker, close() }
//   opts.broker   overrides of the `broker` configuration section (port defaults to 0 = any free port,
//                 WebSocket is off unless opts.broker.wsPort is given (0 = free port), TLS is on a free
//                 port when opts.broker.tls.cert/key are given)
//   opts.registryPath  use an existing registry file instead of a fresh one in the temporary directory
//   opts.dataDir       use this directory (kept on close) instead of a fresh temporary one
//   opts.log / opts.metrics  a logger (default silent) and a Prometheus registry (default a fresh one)
// `service` is the service account `svc:test` ({ username, password, clientId }): it may subscribe to
// `hw/v1/#` (also `$share/<group>/hw/v1/...`) and publish on error/command/alarm topics.
// The signature is stable: other components' tests rely on it.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Registry as MetricsRegistry } from 'prom-client';
import { startBroker, type Broker, type BrokerOptions } from '../../broker/server.ts';
import { silentLogger, type Logger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { openRegistry, type Credentials, type Registry } from '../../registry/registry.ts';

export interface TestBrokerOptions {
  broker?: BrokerOptions;
  registryPath?: string;
  dataDir?: string;
  log?: Logger;
  metrics?: MetricsRegistry;
}

export interface TestBroker {
  url: string;
  port: number;
  wsUrl?: string;
  tlsUrl?: string;
  registry: Registry;
  registryPath: string;
  dataDir: string;
  service: Credentials;
  broker: Broker;
  metrics: MetricsRegistry;
  close(): Promise<void>;
}

export async function startTestBroker(opts: TestBrokerOptions = {}): Promise<TestBroker> {
  const ownDir = opts.dataDir === undefined;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'hazwatch-broker-'));
  const registryPath = opts.registryPath ?? join(dataDir, 'registry.db');
  const registry = await openRegistry(registryPath);
  const metrics = opts.metrics ?? createMetricsRegistry();
  try {
    const service = await registry.setService('test');
    const broker = await startBroker(
      { host: '127.0.0.1', port: 0, wsPort: false, tlsPort: opts.broker?.tls?.cert ? 0 : false, ...opts.broker, dataDir },
      { log: opts.log ?? silentLogger(), metrics, registry },
    );
    return {
      url: broker.url,
      port: broker.port,
      wsUrl: broker.wsUrl,
      tlsUrl: broker.tlsUrl,
      registry,
      registryPath,
      dataDir,
      service,
      broker,
      metrics,
      async close() {
        await broker.close();
        await registry.close();
        if (ownDir) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await registry.close();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
