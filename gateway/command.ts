// `hazwatch gateway --map <file>`: polls the Modbus devices of a register map and publishes for them.
import { HazwatchError } from '../contract/errors.ts';
import type { Command } from '../core/command.ts';
import { dataPath } from '../core/config.ts';
import { startGateway } from './gateway.ts';
import { loadRegisterMap, parseRegisterMap } from './map.ts';

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'Poll Modbus TCP/RTU devices by a register map and publish their readings with gateway credentials',
  usage: 'gateway --map <register-map.yaml> [--url mqtt://host:1883] [--password <secret>] [--buffer <file>]',
  options: {
    map: { type: 'string' },
    url: { type: 'string' },
    password: { type: 'string' },
    buffer: { type: 'string' },
  },
  overrides(flags) {
    const gateway: Record<string, unknown> = {};
    if (flags.map !== undefined) gateway.map = flags.map;
    if (flags.url !== undefined) gateway.url = flags.url;
    if (flags.password !== undefined) gateway.password = flags.password;
    if (flags.buffer !== undefined) gateway.bufferPath = flags.buffer;
    return Object.keys(gateway).length ? { gateway } : {};
  },
  async run({ config, log, metrics }) {
    const g = config.gateway;
    if (!g.map && g.inline === undefined) throw new HazwatchError('HW_ERR_CONFIG', 'gateway: give a register map (--map <file>, gateway.map or gateway.inline)');
    const map = g.map ? loadRegisterMap(g.map) : parseRegisterMap(g.inline, 'gateway.inline');
    return startGateway({
      map,
      url: g.url ?? config.mqtt.url,
      username: g.username,
      password: g.password,
      bufferPath: g.bufferPath ?? dataPath(config, `gateway-${map.enterprise}-${map.gateway}.db`),
      bufferMaxRows: g.bufferMaxRows,
      reconnectMs: g.reconnectMs,
      batchSize: g.batchSize,
      log,
      metrics,
    });
  },
};
