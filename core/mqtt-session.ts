// How a platform service connects to the broker: its account, a persistent session under a fixed client
// id (the broker keeps its QoS 1 messages while it is away), reconnecting every second. One place, so
// that ingest, rules and the translators (sparkplug, vendor) all come back the same way.
import type { IClientOptions } from 'mqtt';
import type { Config } from './config.ts';

export function serviceSession(config: Pick<Config, 'mqtt'>, clientId: string, extra: IClientOptions = {}): IClientOptions {
  return {
    clientId,
    username: config.mqtt.username,
    password: config.mqtt.password,
    clean: false,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...extra,
  };
}
