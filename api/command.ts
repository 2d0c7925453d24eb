// `hazwatch api`: the operator API and the monitoring-room console.
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { serveWithRegistry } from '../registry/registry.ts';
import { startApi } from './start.ts';

export const apiCommand: Command = {
  name: 'api',
  summary: 'Serve the operator API (OpenAPI at /docs), the live stream and the monitoring-room console',
  usage: 'api [--host <address>] [--port <port>]',
  options: {
    host: { type: 'string' },
    port: { type: 'string' },
  },
  overrides(flags) {
    const api: Record<string, unknown> = {};
    if (flags.host) api.host = flags.host;
    if (flags.port !== undefined) api.port = Number(flags.port);
    return Object.keys(api).length ? { api } : {};
  },
  async run({ config, log, metrics, out }) {
    const served = await serveWithRegistry(registryTarget(config), 'api', (registry) => startApi({ config, log, metrics, registry }));
    const { service } = served;
    out.write(`console: ${service.consoleUrl}\nAPI docs: ${service.url}/docs\n`);
    if (service.generatedAdminPassword) {
      out.write(`first administrator: ${config.api.adminUser} / ${service.generatedAdminPassword} (shown once: sign in and change it)\n`);
    }
    return served;
  },
};
