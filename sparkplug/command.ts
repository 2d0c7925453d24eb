// `hazwatch sparkplug --map <file or directory>`: the Sparkplug B host application (sparkplug/service.ts).
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { serveWithRegistry } from '../registry/registry.ts';
import { startSparkplug } from './service.ts';

export const sparkplugCommand: Command = {
  name: 'sparkplug',
  summary: 'Take Sparkplug B edge nodes in: births, deaths and DATA become hazwatch devices, status and readings',
  usage: 'sparkplug --map <file or directory> [--map ...] [--host-id <id>]',
  options: {
    map: { type: 'string', multiple: true },
    'host-id': { type: 'string' },
  },
  overrides(flags) {
    const sparkplug: Record<string, unknown> = {};
    if (flags.map !== undefined) sparkplug.maps = flags.map;
    if (flags['host-id'] !== undefined) sparkplug.hostId = flags['host-id'];
    return Object.keys(sparkplug).length ? { sparkplug } : {};
  },
  async run({ config, log, metrics }) {
    return serveWithRegistry(registryTarget(config), 'sparkplug', async (registry) => {
      // Without an account given, its own: a fresh secret at every start, as `hazwatch start` does.
      const mqttConfig = config.mqtt.username ? config.mqtt : { ...config.mqtt, ...(await registry.setService('sparkplug')) };
      const service = await startSparkplug({ config: { ...config, mqtt: { url: config.mqtt.url, username: mqttConfig.username, password: mqttConfig.password } }, log, metrics, registry });
      await service.ready;
      return service;
    });
  },
};
