// Acknowledging a QoS1 message only once it is durable, without stalling mqtt.js: ingest once the
// message is in its spool, rules once what it changed is in the alarm store (rules/ack-gate.ts).
//
// mqtt.js sends the PUBACK when the callback of `handleMessage` (or of `customHandleAcks`) is called,
// and it reads the next packet of the connection only after that: holding the callback until a group
// commit would allow one message per commit. So `handleMessage` returns at once with a marker error,
// which makes mqtt.js skip its own PUBACK and go on reading (handlers/publish.js: `if (err) return
// done(err)`), and the PUBACK is sent later by us. MQTT 3.1.1 4.6.0-2 wants PUBACKs in the order of
// the PUBLISHes: the caller acknowledges in receive order. A PUBACK is never sent on a later
// connection than the one the message came on: after a reconnect the broker redelivers (same packet
// id, DUP set) whatever was not acknowledged.
//
// The PUBACKs released in one turn of the event loop go out together, as one buffer written at its
// end (setImmediate): a PUBACK is four fixed bytes [MQTT-3.4.1], and mqtt.js's packet writer (six
// debug calls, an event, a packet generator and a cork per packet) was 4–7 % of ingest's and rules'
// CPU in the fleet profile. A turn, not a tick: mqtt.js hands every message its own process.nextTick,
// so rules (which acknowledges message by message) wrote one buffer per message when the flush ran on
// the next tick; gathered per turn it writes one per socket read, or per 5 ms under a backlog
// (core/loop-slice.ts). A connection that closes before the turn ends takes the gathered PUBACKs with
// it: the broker redelivers those messages, as after any lost PUBACK.
import type { Duplex } from 'node:stream';
import type { IPublishPacket, MqttClient } from 'mqtt';
import { loopPacer } from './loop-slice.ts';

const DEFERRED = new Error('PUBACK deferred until the message is durable');

/** `ack()` returns true when the PUBACK goes out on the connection the message came on. */
export function deferAcks(client: MqttClient, onPublish: (packet: IPublishPacket, ack: () => boolean) => void): void {
  // Commits and store writes run from timers and I/O callbacks: a backlog must not hold them off (core/loop-slice.ts).
  const pace = loopPacer();
  const pubacks = pubackWriter();
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
      if (client.stream !== stream || !client.connected || stream.destroyed) return false;
      pubacks.add(stream, messageId);
      return true;
    });
    pace(() => done(DEFERRED));
  };
}

/** Gathers the PUBACKs of one event-loop turn and writes them as one buffer. */
export function pubackWriter(): { add(stream: Duplex, messageId: number): void } {
  let ids: number[] = [];
  let target: Duplex | undefined;
  const flush = () => {
    const out = target;
    const list = ids;
    target = undefined;
    ids = [];
    if (!out || out.destroyed || list.length === 0) return;
    const buf = Buffer.allocUnsafe(list.length * 4);
    for (let i = 0, o = 0; i < list.length; i++, o += 4) {
      buf[o] = 0x40; // PUBACK [MQTT-3.4.1]
      buf[o + 1] = 2; // remaining length: the packet identifier
      buf[o + 2] = list[i] >> 8;
      buf[o + 3] = list[i] & 0xff;
    }
    out.write(buf);
  };
  return {
    add(stream, messageId) {
      if (target !== stream) {
        if (target) flush();
        target = stream;
        setImmediate(flush);
      }
      ids.push(messageId);
    },
  };
}
