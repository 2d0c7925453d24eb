// How a platform service connects to the broker: its account, a persistent session under a fixed client
// id (the broker keeps its QoS 1 messages while it is away), reconnecting every second. One place, so
// that ingest, rules and the translators (sparkplug, vendor) all come back the same way.
import type { IClientOptions } from 'mqtt';
import type { Config } from './config.ts';

// mqtt.js logs through the `debug` package about ten times per message, and a disabled `debug` call
// still costs an argument array and a getter (2–3 % of ingest's and rules' CPU under load). Its own
// `log` option replaces it; DEBUG=mqttjs* still turns mqtt.js's log on, as documented by mqtt.js.
const quiet = () => undefined;
const mqttLog = (): IClientOptions['log'] => (/mqttjs/.test(process.env.DEBUG ?? '') ? undefined : quiet);

export function serviceSession(config: Pick<Config, 'mqtt'>, clientId: string, extra: IClientOptions = {}): IClientOptions {
  return {
    clientId,
    log: mqttLog(),
    username: config.mqtt.username,
    password: config.mqtt.password,
    clean: false,
    reconnectPeriod: 1000,
    connectTimeout: 10_000,
    ...extra,
  };
}
