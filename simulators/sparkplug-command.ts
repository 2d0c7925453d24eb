// `hazwatch sparkplug-sim --map <file> --password <secret>`: a simulated Sparkplug B edge node with the
// devices of a Sparkplug map file, publishing their model values every --interval seconds.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { Command } from '../core/command.ts';
import { edgeDevicesFromMap, startEdgeNode } from './sparkplug.ts';

export const sparkplugSimCommand: Command = {
  name: 'sparkplug-sim',
  summary: 'Run a simulated Sparkplug B edge node with the devices of a Sparkplug map, as the gateway of its node id',
  usage: 'sparkplug-sim --map <file> --password <gateway password> [--url mqtt://127.0.0.1:1883] [--interval 5]',
  options: {
    map: { type: 'string' },
    password: { type: 'string' },
    url: { type: 'string' },
    interval: { type: 'string' },
  },
  async run({ config, flags, log }) {
    if (typeof flags.map !== 'string' || typeof flags.password !== 'string') throw new Error('sparkplug-sim: give --map <file> and --password <the gateway password of its edge node>');
    const interval = Number(flags.interval ?? 5);
    if (!(interval > 0)) throw new Error(`sparkplug-sim: --interval must be a positive number of seconds, got ${flags.interval}`);
    const text = readFileSync(flags.map, 'utf8');
    const map = (flags.map.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as Parameters<typeof edgeDevicesFromMap>[0] & { group: string; node: string };
    if (map.node === '*') throw new Error('sparkplug-sim: the map names no edge node (node: "*"): use a map of one node');
    const url = typeof flags.url === 'string' ? flags.url : config.mqtt.url;
    const node = await startEdgeNode({ url, username: `${map.group}/${map.node}`, password: flags.password, group: map.group, node: map.node, devices: edgeDevicesFromMap(map) });
    log.info({ url, group: map.group, node: map.node, devices: Object.keys(map.devices).length, intervalS: interval }, 'Sparkplug edge node born');
    const timer = setInterval(() => node.data().catch((err: Error) => log.warn({ err: err.message }, 'DDATA not sent')), interval * 1000);
    return {
      name: 'sparkplug-sim',
      async close() {
        clearInterval(timer);
        await node.close();
      },
    };
  },
};
