// `hazwatch ingest`: broker → validation → spool → InfluxDB, as its own process.
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { serveWithRegistry } from '../registry/registry.ts';
import { startIngest } from './service.ts';

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'Validate device messages from the broker, spool them on disk and write them to InfluxDB',
  usage: 'ingest [--influx-url <url>] [--database <db>]',
  options: {
    'influx-url': { type: 'string' },
    database: { type: 'string' },
  },
  overrides(flags) {
    const influx: Record<string, unknown> = {};
    if (typeof flags['influx-url'] === 'string') influx.url = flags['influx-url'];
    if (typeof flags.database === 'string') influx.database = flags.database;
    return Object.keys(influx).length ? { ingest: { influx } } : {};
  },
  async run({ config, log, metrics }) {
    return serveWithRegistry(registryTarget(config), 'ingest', (registry) => startIngest({ config, log, metrics, registry }));
  },
};
export { startIngest } from './service.ts';
