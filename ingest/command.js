import { registryPath } from '../core/config.ts';
import { openRegistry } from '../registry/registry.ts';
import { startIngest } from './service.ts';
export const ingestCommand = {
    name: 'ingest',
    summary: 'Validate device messages from the broker, spool them on disk and write them to InfluxDB',
    usage: 'ingest [--influx-url <url>] [--database <db>]',
    options: {
        'influx-url': { type: 'string' },
        database: { type: 'string' },
    },
    overrides(flags) {
        const influx = {};
        if (typeof flags['influx-url'] === 'string')
            influx.url = flags['influx-url'];
        if (typeof flags.database === 'string')
            influx.database = flags.database;
        return Object.keys(influx).length ? { ingest: { influx } } : {};
    },
    async run({ config, log, metrics }) {
        const registry = openRegistry(registryPath(config));
        const service = await startIngest({ config, log, metrics, registry });
        return {
            name: 'ingest',
            async close() {
                await service.close();
                registry.close();
            },
        };
    },
};
export { startIngest } from './service.ts';
