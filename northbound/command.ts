// `hazwatch northbound --map <file>`: base and sensing data to an upper-level platform (northbound/service.ts).
// `--check` reads and checks the map and says what it sends, without connecting anywhere.
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { HazwatchError } from '../contract/errors.ts';
import { serveWithRegistry } from '../registry/registry.ts';
import { MESSAGE_KINDS } from './fields.ts';
import { loadNorthboundMap } from './map.ts';
import { startNorthbound } from './service.ts';

export const northboundCommand: Command = {
  name: 'northbound',
  summary: 'Report upward: base data (enterprises, hazard sources, devices) and sensing data (readings, alarms) to an upper-level platform, through a northbound map',
  usage: 'northbound --map <file> [--reading-interval <seconds>] [--check]',
  options: {
    map: { type: 'string' },
    'reading-interval': { type: 'string' },
    check: { type: 'boolean' },
  },
  overrides(flags) {
    const northbound: Record<string, unknown> = {};
    if (flags.map !== undefined) northbound.map = flags.map;
    const interval = flags['reading-interval'];
    if (typeof interval === 'string') northbound.readingIntervalSeconds = interval.trim() !== '' && !Number.isNaN(Number(interval)) ? Number(interval) : interval;
    return Object.keys(northbound).length ? { northbound } : {};
  },
  async run({ config, log, metrics, flags, out }) {
    if (flags.check) {
      if (!config.northbound.map) throw new HazwatchError('HW_ERR_CONFIG', 'northbound.map: no map file given (--map <file>)');
      const map = loadNorthboundMap(config.northbound.map);
      const where = (k: (typeof MESSAGE_KINDS)[number]) => map.messages[k]?.target.text;
      out.write(`${map.source}: ok, ${map.name} over ${map.transport.kind} to ${map.transport.url}\n`);
      for (const k of MESSAGE_KINDS) out.write(`  ${k.padEnd(12)} ${where(k) ?? '(not sent)'}${k === 'reading' && map.messages.reading ? ` per ${map.messages.reading.per}, every ${config.northbound.readingIntervalSeconds || 'reading'}${config.northbound.readingIntervalSeconds ? ' s' : ''}` : ''}\n`);
      return;
    }
    return serveWithRegistry(registryTarget(config), 'northbound', async (registry) => {
      // Without an account given, its own: a fresh secret at every start, as `hazwatch start` does.
      const mqttConfig = config.mqtt.username ? config.mqtt : { ...config.mqtt, ...(await registry.setService('northbound')) };
      const service = await startNorthbound({ config: { ...config, mqtt: { url: config.mqtt.url, username: mqttConfig.username, password: mqttConfig.password } }, log, metrics, registry });
      await service.ready;
      return service;
    });
  },
};
