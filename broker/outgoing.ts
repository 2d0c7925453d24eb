// The outgoing queues of persistent sessions, indexed. aedes-persistence 11 keeps each client's
// in-flight QoS 1/2 messages in an array and scans it from the start on every delivery
// (`outgoingUpdate`, whose packet is the newest, at the end) and on every PUBACK
// (`outgoingClearMessageId`, then `splice`): O(messages in flight) twice per message. ingest and
// rules hold persistent sessions with thousands of messages in flight, so under load this was the
// broker's largest cost (docs/benchmarks.md). Same semantics here, O(1) per operation: one
// insertion-ordered map per client plus an index by broker counter and by packet identifier.
// One deliberate difference: with two PUBRELs in flight, aedes-persistence's outgoingUpdate takes
// the first PUBREL for any other (both lack a broker id) and rewrites its identifier; here a PUBREL
// only ever replaces the message with its own identifier.
import { Readable } from 'node:stream';
import aedesPacket from 'aedes-packet';

// The copy aedes-persistence stores (same class, so the same fields survive queueing).
const Packet = aedesPacket as unknown as new (packet: object) => Stored;

interface Stored {
  cmd: string;
  brokerId?: string;
  brokerCounter?: number;
  messageId?: number;
  [key: string]: unknown;
}

interface ClientQueue {
  /** In delivery order: insertion order of a Map, with O(1) delete. */
  packets: Map<number, Stored>;
  /** Broker id → broker counter → position: no key string built per message (a broker has one id). */
  byCounter: Map<string | undefined, Map<number | undefined, number>>;
  byMessageId: Map<number, number>;
  next: number;
}

/** The part of an aedes persistence this replaces. */
export interface OutgoingStore {
  outgoingEnqueue(sub: { clientId: string }, packet: object): Promise<void>;
  outgoingEnqueueCombi(subs: { clientId: string }[], packet: object): Promise<void>;
  outgoingUpdate(client: { id: string }, packet: Stored): Promise<void>;
  /** outgoingUpdate without the promise: broker/delivery.ts calls it once per QoS 1/2 delivery. */
  outgoingUpdateNow(client: { id: string }, packet: Stored): void;
  outgoingClearMessageId(client: { id: string }, packet: { messageId?: number }): Promise<Stored | undefined>;
  outgoingStream(client: { id: string }): Readable;
}

function counterOf(q: ClientQueue, p: Stored): number | undefined {
  return q.byCounter.get(p.brokerId)?.get(p.brokerCounter);
}

function setCounter(q: ClientQueue, p: Stored, seq: number): void {
  let counters = q.byCounter.get(p.brokerId);
  if (!counters) q.byCounter.set(p.brokerId, (counters = new Map()));
  counters.set(p.brokerCounter, seq);
}

/** Forgets the packet's counter when it still points at `seq`. */
function deleteCounter(q: ClientQueue, p: Stored, seq: number): void {
  const counters = q.byCounter.get(p.brokerId);
  if (counters?.get(p.brokerCounter) === seq) counters.delete(p.brokerCounter);
}

export function indexedOutgoing(): OutgoingStore {
  const queues = new Map<string, ClientQueue>();
  const queueOf = (id: string): ClientQueue => {
    let q = queues.get(id);
    if (!q) queues.set(id, (q = { packets: new Map(), byCounter: new Map(), byMessageId: new Map(), next: 0 }));
    return q;
  };

  function enqueue(clientId: string, packet: object): void {
    const q = queueOf(clientId);
    const stored = new Packet(packet);
    const seq = q.next++;
    q.packets.set(seq, stored);
    setCounter(q, stored, seq);
  }

  function setMessageId(q: ClientQueue, seq: number, stored: Stored, messageId: number | undefined): void {
    if (stored.messageId !== undefined && q.byMessageId.get(stored.messageId) === seq) q.byMessageId.delete(stored.messageId);
    stored.messageId = messageId;
    if (messageId !== undefined) q.byMessageId.set(messageId, seq);
  }

  function updateNow(client: { id: string }, packet: Stored): void {
    const q = queueOf(client.id);
    // The same message (broker id and counter): it was given its packet identifier.
    const seq = packet.brokerId !== undefined ? counterOf(q, packet) : undefined;
    if (seq !== undefined) {
      setMessageId(q, seq, q.packets.get(seq)!, packet.messageId);
      return;
    }
    // Otherwise by identifier: a PUBREL replacing its PUBLISH (in place), or the same PUBREL again.
    const other = packet.messageId !== undefined ? q.byMessageId.get(packet.messageId) : undefined;
    const stored = other !== undefined ? q.packets.get(other) : undefined;
    if (other !== undefined && stored) {
      if (stored.brokerId !== packet.brokerId) {
        q.byCounter.get(stored.brokerId)?.delete(stored.brokerCounter);
        q.packets.set(other, packet);
        if (packet.brokerId !== undefined) setCounter(q, packet, other);
        return;
      }
      if (stored.brokerCounter === packet.brokerCounter) return;
    }
    throw new Error('no such packet');
  }

  return {
    async outgoingEnqueue(sub, packet) {
      enqueue(sub.clientId, packet);
    },
    async outgoingEnqueueCombi(subs, packet) {
      for (const sub of subs) enqueue(sub.clientId, packet);
    },
    async outgoingUpdate(client, packet) {
      updateNow(client, packet);
    },
    outgoingUpdateNow: updateNow,
    async outgoingClearMessageId(client, packet) {
      const q = queues.get(client.id);
      if (!q || packet.messageId === undefined) return undefined;
      const seq = q.byMessageId.get(packet.messageId);
      if (seq === undefined) return undefined;
      const stored = q.packets.get(seq)!;
      q.packets.delete(seq);
      q.byMessageId.delete(packet.messageId);
      deleteCounter(q, stored, seq);
      if (q.packets.size === 0) queues.delete(client.id);
      return stored;
    },
    outgoingStream(client) {
      // A copy: the queue changes while the stream is read (aedes-persistence does the same).
      return Readable.from([...(queues.get(client.id)?.packets.values() ?? [])]);
    },
  };
}

/** Puts the indexed queues into an aedes memory persistence, in place of its arrays. */
export function withIndexedOutgoing<P extends object>(persistence: P): P {
  return Object.assign(persistence, indexedOutgoing());
}
