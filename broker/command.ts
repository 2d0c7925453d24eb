// `hazwatch broker`: the MQTT broker on its own, reading credentials from the registry file.
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { serveWithRegistry } from '../registry/registry.ts';
import { accessFileText, loadAccess } from './access.ts';
import { startBroker } from './server.ts';

export const brokerCommand: Command = {
  name: 'broker',
  summary: 'Run the MQTT broker (TCP 1883, TLS 8883 with a certificate, WebSocket 8083)',
  usage: 'broker [--port <n>] [--ws-port <n>] [--tls-port <n>] [--allow-anonymous] [--acl-file <file>] [--print-acl] [--persistence memory|level]',
  options: {
    port: { type: 'string' },
    'ws-port': { type: 'string' },
    'tls-port': { type: 'string' },
    'allow-anonymous': { type: 'boolean' },
    'acl-file': { type: 'string' },
    'print-acl': { type: 'boolean' },
    persistence: { type: 'string' },
  },
  overrides(flags) {
    // Numbers stay strings when they are not numbers, so that the configuration check names them.
    const num = (v: unknown) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v);
    const broker: Record<string, unknown> = {};
    if (flags.port !== undefined) broker.port = num(flags.port);
    if (flags['ws-port'] !== undefined) broker.wsPort = flags['ws-port'] === 'false' ? false : num(flags['ws-port']);
    if (flags['tls-port'] !== undefined) broker.tlsPort = flags['tls-port'] === 'false' ? false : num(flags['tls-port']);
    if (flags['allow-anonymous']) broker.allowAnonymous = true;
    if (flags['acl-file'] !== undefined) broker.aclFile = flags['acl-file'];
    if (flags.persistence !== undefined) broker.persistence = flags.persistence;
    return Object.keys(broker).length ? { broker } : {};
  },
  async run({ config, log, metrics, flags, out }) {
    // The rules in force (built-in, with the access file when one is set) as a file to start from.
    if (flags['print-acl']) {
      out.write(accessFileText(loadAccess(config.broker.aclFile)));
      return;
    }
    return serveWithRegistry(registryTarget(config), 'broker', (registry) => startBroker({ ...config.broker, dataDir: config.dataDir }, { log, metrics, registry }));
  },
};
