// A message is acknowledged to the broker only once what its evaluation changed is in the store.
//
// The rules engine evaluates in memory and writes alarm changes, and the stages on their way up ("2
// samples in a row"), afterwards. Acknowledged as soon as it was evaluated, a reading was lost for good
// when the process died before the write: the broker would not deliver it again. Here PUBACKs wait for
// the store instead, without holding up the messages that follow (core/mqtt-acks.ts: mqtt.js goes on at
// once, only the PUBACKs queue): a message evaluated while something is unwritten is acknowledged once
// that is written, after any retries. After a crash the broker therefore delivers again every reading
// whose consequences were not yet recorded. PUBACKs leave in the order of their PUBLISHes
// [MQTT-4.6.0-2], so one held holds those behind it. The queue belongs to one connection: when it
// closes, the broker sends those messages again on the next (persistent session), and their PUBACKs
// are dropped instead of being sent on a connection that never received them.
import type { MqttClient } from 'mqtt';
import { deferAcks } from '../core/mqtt-acks.ts';

export interface AckGate {
  /** PUBACKs waiting for the store. */
  held(): number;
}

/**
 * Hands every message to `handle`, then acknowledges it once `written` (undefined when nothing is
 * outstanding, else a promise for what is outstanding now) has settled.
 */
export function gateAcks(client: MqttClient, handle: (topic: string, payload: Buffer) => void, written: () => Promise<void> | undefined): AckGate {
  let queue: { ack: () => boolean; ready: boolean }[] = [];
  const drain = (q: typeof queue) => {
    if (q !== queue) return;
    while (queue.length > 0 && queue[0].ready) queue.shift()!.ack();
  };
  deferAcks(client, (packet, ack) => {
    handle(packet.topic, typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload);
    const wait = written();
    if (!wait && queue.length === 0) {
      ack();
      return;
    }
    const entry = { ack, ready: false };
    const q = queue;
    q.push(entry);
    void (wait ?? Promise.resolve()).then(() => {
      entry.ready = true;
      drain(q);
    });
  });
  client.on('close', () => {
    queue = [];
  });
  return { held: () => queue.length };
}
