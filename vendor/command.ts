// `hazwatch vendor --map <file or directory>`: vendor JSON on vendor topics → hw/v1 readings (vendor/service.ts).
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { serveWithRegistry } from '../registry/registry.ts';
import { startVendor } from './service.ts';

export const vendorCommand: Command = {
  name: 'vendor',
  summary: 'Take installed devices in as they are: their vendor JSON on their vendor topics, through vendor maps, becomes hazwatch readings',
  usage: 'vendor --map <file or directory> [--map ...]',
  options: {
    map: { type: 'string', multiple: true },
  },
  overrides(flags) {
    return flags.map !== undefined ? { vendor: { maps: flags.map } } : {};
  },
  async run({ config, log, metrics }) {
    return serveWithRegistry(registryTarget(config), 'vendor', async (registry) => {
      // Without an account given, its own: a fresh secret at every start, as `hazwatch start` does.
      const mqttConfig = config.mqtt.username ? config.mqtt : { ...config.mqtt, ...(await registry.setService('vendor')) };
      const service = await startVendor({ config: { ...config, mqtt: { url: config.mqtt.url, username: mqttConfig.username, password: mqttConfig.password } }, log, metrics, registry });
      await service.ready;
      return service;
    });
  },
};
