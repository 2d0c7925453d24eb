// Exact duplicate suppression for one connection, replacing aedes' high-water mark.
//
// aedes (lib/client.js `dedupe`) drops every packet whose brokerCounter is not above the highest one
// already delivered to that client. The counter is given when broker.publish() starts, but the packet
// reaches subscribers only after the persistence's asynchronous storeRetained / outgoingEnqueueCombi
// steps. With a persistence doing real I/O (aedes-persistence-level) a message that needs none (not
// retained, or QoS 0) overtakes one that does, and the slower one is then silently dropped as a
// "duplicate": retained status messages never reached connected subscribers. The in-memory persistence
// hides this only because its promises resolve within the same tick.
//
// What dedupe must prevent is one packet reaching one client twice (overlapping subscriptions such as
// `hw/#` and `hw/v1/+/+/status`, or a clustered emitter delivering twice). That is decided here by the
// packet's identity (brokerId, brokerCounter) within a window of recent deliveries; order no longer matters.
import { Readable } from 'node:stream';
import type { Client } from 'aedes';

type Deliver = (packet: { brokerId?: string | null; brokerCounter?: number; qos?: number }, callback: () => void) => void;
type DeliveringClient = { deliver0: Deliver; deliverQoS: Deliver; duplicates: Record<string, number> };

/**
 * Packets of one client remembered for duplicate detection. Both copies of a packet matched by two
 * subscriptions arrive within one emit, so a window of this many deliveries is far more than needed;
 * a packet older than the window is delivered (at least once: never lose a message to save a duplicate).
 */
export const DEDUPE_WINDOW = 1024;

/**
 * Remembers the last `size` packets by broker id and counter; `firstTime` is false for a packet still
 * remembered. Counters by broker id rather than one key string per delivery: a broker has one id, and
 * the string cost the broker a few percent of its CPU under load.
 */
export function recentPackets(size = DEDUPE_WINDOW): { firstTime(brokerId: string, counter: number): boolean } {
  const seen = new Map<string, Set<number>>();
  const ringIds: (string | undefined)[] = new Array(size);
  const ringCounters = new Float64Array(size);
  let next = 0;
  return {
    firstTime(brokerId, counter) {
      if (seen.get(brokerId)?.has(counter)) return false;
      const evicted = ringIds[next];
      if (evicted !== undefined) {
        const counters = seen.get(evicted)!;
        counters.delete(ringCounters[next]);
        if (counters.size === 0) seen.delete(evicted);
      }
      let counters = seen.get(brokerId);
      if (!counters) seen.set(brokerId, (counters = new Set()));
      counters.add(counter);
      ringIds[next] = brokerId;
      ringCounters[next] = counter;
      next = (next + 1) % size;
      return true;
    },
  };
}

/** Ever-passing stand-in for aedes' per-broker high-water marks (client.duplicates). */
function noHighWaterMark(): Record<string, number> {
  return new Proxy(Object.create(null) as Record<string, number>, {
    get: () => undefined,
    set: () => true,
  });
}

/**
 * Installs exact duplicate suppression on a client just created by aedes.handle(), before any
 * SUBSCRIBE is handled (aedes captures deliver0/deliverQoS when a subscription is added).
 * Returns false when aedes' internals changed and nothing was installed.
 */
export function installExactDedupe(client: Client): boolean {
  const c = client as unknown as Partial<DeliveringClient>;
  if (typeof c.deliver0 !== 'function' || typeof c.deliverQoS !== 'function' || typeof c.duplicates !== 'object') return false;
  const deliver0 = c.deliver0;
  const deliverQoS = c.deliverQoS;
  let recent: ReturnType<typeof recentPackets> | undefined;
  // Retained messages sent on SUBSCRIBE carry no brokerId: aedes never dedupes them either.
  const firstTime = (packet: Parameters<Deliver>[0]) => !packet.brokerId || (recent ??= recentPackets()).firstTime(packet.brokerId, packet.brokerCounter ?? 0);
  const wrapped0: Deliver = (packet, callback) => (firstTime(packet) ? deliver0(packet, callback) : setImmediate(callback));
  // aedes' deliverQoS hands QoS 0 packets to client.deliver0, i.e. to wrapped0, which checks them itself.
  const wrappedQoS: Deliver = (packet, callback) =>
    packet.qos === 0 ? wrapped0(packet, callback) : firstTime(packet) ? deliverQoS(packet, callback) : setImmediate(callback);
  c.deliver0 = wrapped0;
  c.deliverQoS = wrappedQoS;
  c.duplicates = noHighWaterMark();
  return true;
}

type StoredPacket = { cmd?: string; messageId?: number | null; dup?: boolean };
// A Readable (memory, level) or an async generator (redis): both are async iterables.
type OutgoingStreams = { outgoingStream(client: unknown): AsyncIterable<StoredPacket> };

/**
 * [MQTT-3.3.1-1] DUP is 1 on a PUBLISH the broker sends again. aedes replays a persistent session's
 * queue on reconnect as stored, DUP 0 even for messages already sent (they carry their packet
 * identifier), so a subscriber could not tell a redelivery from a new message; ingest relies on the
 * flag to recognise redeliveries exactly (ingest/redelivery.ts). Messages queued while the client was
 * away have no identifier yet and go out with DUP 0, as first deliveries.
 */
export function markRedeliveries<P extends object>(persistence: P): P {
  const p = persistence as unknown as Partial<OutgoingStreams>;
  if (typeof p.outgoingStream !== 'function') return persistence;
  const stream = p.outgoingStream.bind(persistence);
  p.outgoingStream = (client) => Readable.from(redelivered(stream(client)), { objectMode: true });
  return persistence;
}

async function* redelivered(source: AsyncIterable<StoredPacket>): AsyncGenerator<StoredPacket> {
  for await (const packet of source) yield packet.cmd === 'publish' && packet.messageId != null ? { ...packet, dup: true } : packet;
}
