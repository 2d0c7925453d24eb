// A message is acknowledged to the broker only once what its evaluation changed is in the store.
//
// The rules engine evaluates in memory and writes alarm changes, and the stages on their way up ("2
// samples in a row"), afterwards. mqtt.js sends a message's PUBACK as soon as the 'message' handler
// returns, so a rules process killed between the PUBACK and the write lost the change for good: the
// broker would not deliver the reading again. Here PUBACKs wait for the store instead, without holding up
// the messages that follow (mqtt.js goes on at once; only their PUBACKs queue): a message evaluated while
// something is unwritten is acknowledged once that is written, after any retries. A broker therefore
// delivers again, after a crash, every reading whose consequences were not yet recorded.
// PUBACKs leave in the order of their PUBLISHes [MQTT-4.6.0-2], so one held holds those behind it.
// The queue belongs to one connection: when it closes, the broker sends those messages again on the next
// (persistent session), and their PUBACKs are dropped instead of being sent on a connection that never
// received them.
import type { MqttClient } from 'mqtt';

type SendPacket = (packet: { cmd: string }, cb?: (err?: Error) => void, ...rest: unknown[]) => void;

export interface AckGate {
  /** PUBACKs waiting for the store. */
  held(): number;
}

/** `written` returns undefined when nothing is outstanding, else a promise for what is outstanding now. */
export function gateAcks(client: MqttClient, written: () => Promise<void> | undefined): AckGate {
  // mqtt.js has no public hook between a message and its PUBACK other than handleMessage, and holding
  // that would hold every message behind it: the one private method all its outgoing packets go through.
  const target = client as unknown as { _sendPacket: SendPacket };
  const send = target._sendPacket.bind(client);
  let queue: { packet: { cmd: string }; ready: boolean }[] = [];
  const drain = (q: typeof queue) => {
    if (q !== queue) return;
    while (queue.length > 0 && queue[0].ready) {
      const { packet } = queue.shift()!;
      // Disconnected but not yet closed: mqtt.js would keep it for the next connection.
      if (client.connected) send(packet);
    }
  };
  target._sendPacket = (packet, cb, ...rest) => {
    if (packet.cmd !== 'puback') return send(packet, cb, ...rest);
    const wait = written();
    if (!wait && queue.length === 0) return send(packet, cb, ...rest);
    const entry = { packet, ready: false };
    const q = queue;
    q.push(entry);
    // mqtt.js waits for this callback before it handles the next packet: it must not wait for the store.
    cb?.();
    void (wait ?? Promise.resolve()).then(() => {
      entry.ready = true;
      drain(q);
    });
  };
  client.on('close', () => {
    queue = [];
  });
  return { held: () => queue.length };
}
