// startGateway: one publisher (MQTT with the gateway's credentials, disk outbox) and one independent
// poller per Modbus device of the register map.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Service } from '../core/command.ts';
import type { Logger } from '../core/log.ts';
import { counter } from '../core/metrics.ts';
import { resolveDevice, type RegisterMap } from './map.ts';
import { openOutbox } from './outbox.ts';
import { startPoller, type Poller } from './poller.ts';
import { startPublisher, type Publisher } from './publisher.ts';

export interface GatewayOptions {
  map: RegisterMap;
  url: string;
  username?: string;
  password?: string;
  /** SQLite file of the outbox; ':memory:' keeps it in memory (tests). */
  bufferPath: string;
  bufferMaxRows?: number;
  reconnectMs?: number;
  /** Readings per batch message when replaying the outbox. */
  batchSize?: number;
  log: Logger;
  metrics: MetricsRegistry;
}

export interface Gateway extends Service {
  pollers: Poller[];
  publisher: Publisher;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { map, metrics } = options;
  const log = options.log.child({ component: 'gateway', gateway: `${map.enterprise}/${map.gateway}` });
  const dropped = counter(metrics, 'hazwatch_gateway_outbox_dropped_total', 'Readings dropped because the outbox was full (HW_ERR_GATEWAY_BUFFER_FULL)');
  if (options.bufferPath !== ':memory:') mkdirSync(dirname(options.bufferPath), { recursive: true });
  const outbox = openOutbox(options.bufferPath, {
    maxRows: options.bufferMaxRows ?? 1_000_000,
    onDrop: (n) => {
      dropped.inc(n);
      log.error({ code: 'HW_ERR_GATEWAY_BUFFER_FULL', dropped: n }, 'outbox full: oldest readings dropped');
    },
  });
  if (outbox.size() > 0) log.info({ backlog: outbox.size() }, 'outbox holds readings of an earlier run: they are sent first');
  const devices = map.modbus.flatMap((m) => m.devices.map((d) => d.id));
  const publisher = startPublisher({
    url: options.url,
    enterprise: map.enterprise,
    gateway: map.gateway,
    username: options.username,
    password: options.password,
    outbox,
    devices,
    log,
    metrics,
    reconnectMs: options.reconnectMs,
    maxBatch: options.batchSize,
  });
  const pollers = map.modbus.map((mb) => startPoller({ device: resolveDevice(map, mb), publisher, log, metrics }));
  log.info({ modbusDevices: pollers.length, devices: devices.length }, 'gateway started');
  return {
    name: 'gateway',
    pollers,
    publisher,
    async close() {
      await Promise.all(pollers.map((p) => p.close()));
      await publisher.close();
      outbox.close();
    },
  };
}
