// A steady publisher for the durability tests: power meters whose `energy` is a unique sequence
// number, so that InfluxDB can tell a missing reading (count) from a duplicate (count vs distinct).
import type { MqttClient } from 'mqtt';

export interface Load {
  /** Stops, waits for every PUBACK, returns how many readings were sent. */
  stop(): Promise<number>;
  readonly sent: number;
}

export function startLoad(client: MqttClient, devices: string[], perSecond: number): Load {
  let seq = 0;
  const inflight: Promise<unknown>[] = [];
  const tickMs = 20;
  const perTick = Math.max(1, Math.round((perSecond * tickMs) / 1000));
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      seq++;
      const device = devices[seq % devices.length];
      // Half with the device clock (idempotent in InfluxDB), half without (stamped at receipt).
      const body = seq % 2 ? { ts: Date.now() - 1000, values: { energy: seq } } : { values: { energy: seq } };
      inflight.push(client.publishAsync(`hw/v1/acme/${device}/telemetry`, JSON.stringify(body), { qos: 1 }));
    }
  }, tickMs);
  return {
    get sent() {
      return seq;
    },
    async stop() {
      clearInterval(timer);
      await Promise.all(inflight);
      return seq;
    },
  };
}
