// MQTT test clients shared by the components' tests.
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

export type Received = { topic: string; payload: string; retain: boolean };

/** Every message the client receives from now on, in order. */
export function collect(client: MqttClient): Received[] {
  const received: Received[] = [];
  client.on('message', (topic, payload, packet) => received.push({ topic, payload: payload.toString(), retain: packet.retain }));
  return received;
}

/** Connects with a message collector attached before CONNECT, so that queued messages sent right after CONNACK are not missed. */
export function connectCollecting(url: string, options: IClientOptions): Promise<{ client: MqttClient; received: Received[] }> {
  const client = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
  const received = collect(client);
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve({ client, received }));
    client.once('error', reject);
  });
}
