// Acknowledging a QoS1 message only once it is durable, without stalling mqtt.js: ingest once the
// message is in its spool, rules once what it changed is in the alarm store (rules/ack-gate.ts).
//
// mqtt.js sends the PUBACK when the callback of `handleMessage` (or of `customHandleAcks`) is called,
// and it reads the next packet of the connection only after that: holding the callback until a group
// commit would allow one message per commit. So `handleMessage` returns at once with a marker error,
// which makes mqtt.js skip its own PUBACK and go on reading (handlers/publish.js: `if (err) return
// done(err)`), and the PUBACK is sent later through the client's own packet writer. MQTT 3.1.1
// 4.6.0-2 wants PUBACKs in the order of the PUBLISHes: the caller acknowledges in receive order.
// A PUBACK is never sent on a later connection than the one the message came on: after a reconnect
// the broker redelivers (same packet id, DUP set) whatever was not acknowledged.
import type { IPublishPacket, MqttClient } from 'mqtt';
import { loopPacer } from './mqtt-yield.ts';

const DEFERRED = new Error('PUBACK deferred until the message is durable');

type SendPacket = (packet: { cmd: 'puback'; messageId: number }) => void;

/** `ack()` returns true when the PUBACK went out on the connection the message came on. */
export function deferAcks(client: MqttClient, onPublish: (packet: IPublishPacket, ack: () => boolean) => void): void {
  const send = (client as unknown as { _sendPacket?: SendPacket })._sendPacket;
  // Commits and store writes run from timers and I/O callbacks: a backlog must not hold them off (core/mqtt-yield.ts).
  const pace = loopPacer();
  // Fails at start, not silently under load, should a future mqtt.js rename its writer.
  if (typeof send !== 'function') throw new Error('this mqtt.js has no _sendPacket: deferred acknowledgement is not possible');
  client.handleMessage = (packet, done) => {
    if (packet.qos !== 1 || packet.messageId === undefined) {
      onPublish(packet, () => true);
      pace(() => done());
      return;
    }
    const stream = client.stream;
    const messageId = packet.messageId;
    let acked = false;
    onPublish(packet, () => {
      if (acked) return false;
      acked = true;
      if (client.stream !== stream || !client.connected) return false;
      send.call(client, { cmd: 'puback', messageId });
      return true;
    });
    pace(() => done(DEFERRED));
  };
}
