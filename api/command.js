import { registryPath } from '../core/config.ts';
import { openRegistry } from '../registry/registry.ts';
import { startApi } from './start.ts';
export const apiCommand = {
    name: 'api',
    summary: 'Serve the operator API (OpenAPI at /docs), the live stream and the monitoring-room console',
    usage: 'api [--host <address>] [--port <port>]',
    options: {
        host: { type: 'string' },
        port: { type: 'string' },
    },
    overrides(flags) {
        const api = {};
        if (flags.host)
            api.host = flags.host;
        if (flags.port !== undefined)
            api.port = Number(flags.port);
        return Object.keys(api).length ? { api } : {};
    },
    async run({ config, log, metrics, out }) {
        const registry = openRegistry(registryPath(config));
        try {
            const service = await startApi({ config, log, metrics, registry });
            out.write(`console: ${service.consoleUrl}\nAPI docs: ${service.url}/docs\n`);
            if (service.generatedAdminPassword) {
                out.write(`first administrator: ${config.api.adminUser} / ${service.generatedAdminPassword} (shown once: sign in and change it)\n`);
            }
            return {
                name: 'api',
                async close() {
                    await service.close();
                    registry.close();
                },
            };
        }
        catch (err) {
            registry.close();
            throw err;
        }
    },
};
