// Delivery to one connection: exact duplicate suppression in place of aedes' high-water mark, aedes'
// QoS 1/2 delivery step for step with less per message (`installDelivery`), DUP on redeliveries.
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
import { type Duplex, Readable } from 'node:stream';
import type { Client } from 'aedes';
import mqttPacket from 'mqtt-packet';

type Deliver = (packet: { brokerId?: string | null; brokerCounter?: number; qos?: number }, callback: () => void) => void;

/**
 * Packets of one client remembered for duplicate detection. Both copies of a packet matched by two
 * subscriptions arrive within one emit, so a window of this many deliveries is far more than needed;
 * a packet older than the window is delivered (at least once: never lose a message to save a duplicate).
 */
export const DEDUPE_WINDOW = 1024;

/**
 * Remembers recent packets by broker id and counter in a direct-mapped table (slot = counter modulo its
 * size, a power of two); `firstTime` is false for a packet still remembered. A packet is forgotten when a
 * later one takes its slot: with counters given in sequence, after `size` others from the same broker.
 * No hashing and no allocation per delivery: the Map of Sets it replaces (three hash operations per
 * delivery) was 2–3 % of the broker's CPU in the fleet profile. The table starts at 16 slots and doubles
 * (keeping what it holds) as deliveries pass twice its size, up to `size`: a device that receives a
 * command now and then keeps 16 slots, a service receiving everything the full window.
 */
export function recentPackets(size = DEDUPE_WINDOW): { firstTime(brokerId: string, counter: number): boolean } {
  if (!Number.isInteger(Math.log2(size))) throw new Error(`dedupe window ${size} is not a power of two`);
  let slots = Math.min(16, size);
  let ids: (string | undefined)[] = new Array(slots).fill(undefined);
  let counters = new Float64Array(slots).fill(-1);
  let delivered = 0;
  const grow = () => {
    const oldIds = ids;
    const oldCounters = counters;
    slots *= 2;
    ids = new Array(slots).fill(undefined);
    counters = new Float64Array(slots).fill(-1);
    for (let i = 0; i < oldCounters.length; i++) {
      if (oldCounters[i] < 0) continue;
      const slot = oldCounters[i] % slots;
      counters[slot] = oldCounters[i];
      ids[slot] = oldIds[i];
    }
  };
  return {
    firstTime(brokerId, counter) {
      let slot = counter % slots;
      if (counters[slot] === counter && ids[slot] === brokerId) return false;
      if (++delivered > 2 * slots && slots < size) {
        grow();
        slot = counter % slots;
      }
      counters[slot] = counter;
      ids[slot] = brokerId;
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

/** What of an aedes 1.2 client (lib/client.js) the delivery below uses. */
interface AedesClient {
  id: string | null;
  clean: boolean;
  connecting: boolean;
  connected: boolean;
  errored: boolean;
  conn: Duplex;
  subscriptions: Record<string, { qos: number } | undefined>;
  duplicates: Record<string, number>;
  _nextId: number;
  broker: { authorizeForward(client: unknown, packet: QoSPacketLike): QoSPacketLike | null | undefined; persistence: Partial<OutgoingUpdates> };
  deliver0: Deliver;
  deliverQoS: Deliver;
  waitForDrain(done: (err?: Error) => void): void;
  emit(event: 'error', err: Error): boolean;
}

interface QoSPacketLike {
  topic: string;
  qos?: number;
  retain?: boolean;
  messageId?: number;
  clientId?: string;
  nl?: boolean;
  brokerId?: string | null;
  brokerCounter?: number;
}

interface OutgoingUpdates {
  outgoingUpdate(client: unknown, packet: unknown): Promise<unknown>;
  /** broker/outgoing.ts: the same, synchronous (no promise and microtask per delivery). */
  outgoingUpdateNow(client: unknown, packet: unknown): void;
  outgoingClearMessageId(client: unknown, packet: unknown): Promise<unknown>;
}

export interface DeliveryOptions {
  /**
   * True once the client has subscribed a filter without wildcards: only then can aedes' downgrade to
   * that subscription's QoS apply (below), so only then is the topic looked up in its subscriptions.
   */
  hasExactFilter(): boolean;
}

/**
 * Installs the broker's delivery on a client just created by aedes.handle(), before any SUBSCRIBE is
 * handled (aedes captures deliver0/deliverQoS when a subscription is added): exact duplicate
 * suppression (above) in place of aedes' high-water mark, and for QoS 1/2 aedes' `deliverQoS` itself,
 * the same steps in the same order with less per delivery. Returns false when aedes' internals changed
 * and nothing was installed.
 *
 * aedes' deliverQoS, per delivery and subscriber: a setImmediate before anything, a second copy of the
 * packet (the subscription's handler has just made one), a property lookup of the topic in the client's
 * subscriptions (the topic string interned in V8's string table every time), a promise for the
 * persistence's outgoingUpdate, and a setImmediate for the callback. In the fleet profile these were
 * the largest part of the broker's CPU after parsing and writing. Here: the packet the subscription
 * copied is sent as it is (every caller of deliverQoS hands it a copy of its own: aedes' subscription
 * handler, client.publish and the retained messages of a SUBSCRIBE), the subscriptions are looked up
 * only for a client with an exact filter, broker/outgoing.ts updates synchronously, and the callbacks
 * of one turn are called from one setImmediate (still after the write, as aedes does, so that
 * mqemitter's completion never recurses).
 */
export function installDelivery(client: Client, options: DeliveryOptions): boolean {
  const c = client as unknown as Partial<AedesClient>;
  if (typeof c.deliver0 !== 'function' || typeof c.deliverQoS !== 'function' || typeof c.duplicates !== 'object') return false;
  if (typeof c.waitForDrain !== 'function' || typeof c._nextId !== 'number' || typeof c.subscriptions !== 'object' || typeof c.broker?.authorizeForward !== 'function') return false;
  const aedesClient = c as AedesClient;
  const deliver0 = aedesClient.deliver0;
  let recent: ReturnType<typeof recentPackets> | undefined;
  // Retained messages sent on SUBSCRIBE carry no brokerId: aedes never dedupes them either.
  const firstTime = (packet: Parameters<Deliver>[0]) => !packet.brokerId || (recent ??= recentPackets()).firstTime(packet.brokerId, packet.brokerCounter ?? 0);
  const later = callbacksLater();
  // The session queue's update: synchronous when the persistence offers it (broker/outgoing.ts).
  const persistence = aedesClient.broker.persistence;
  const updateNow = typeof persistence.outgoingUpdateNow === 'function' ? persistence.outgoingUpdateNow.bind(persistence) : undefined;
  const wrapped0: Deliver = (packet, callback) => (firstTime(packet) ? deliver0(packet, callback) : later(callback));
  const deliverQoS: Deliver = (packet, callback) => {
    // aedes hands QoS 0 to deliver0 (which checks duplicates itself).
    if (packet.qos === 0) return wrapped0(packet, callback);
    const p = packet as QoSPacketLike;
    // aedes' getToForwardPacket: no-local [MQTT-3.8.3-3], duplicates, then authorizeForward.
    const toForward = p.clientId === aedesClient.id && p.nl ? undefined : firstTime(p) ? aedesClient.broker.authorizeForward(client, p) : undefined;
    if (!toForward) {
      // As aedes: a persistent session forgets what it will not be sent.
      if (!aedesClient.clean) persistence.outgoingClearMessageId?.(client, p).then(noop, noop);
      return later(callback);
    }
    // [MQTT-2.3.1-1] a packet identifier of this session: aedes' QoSPacket keeps one already given.
    if (!toForward.messageId) {
      toForward.messageId = aedesClient._nextId;
      aedesClient._nextId = aedesClient._nextId >= 65535 ? 1 : aedesClient._nextId + 1;
    }
    // aedes downgrades to the QoS of a subscription to exactly this topic.
    if (options.hasExactFilter()) {
      const sub = aedesClient.subscriptions[toForward.topic];
      if (sub && (sub.qos || 0) < (toForward.qos ?? 0)) toForward.qos = sub.qos;
    }
    if (aedesClient.clean || toForward.retain) return write(aedesClient, toForward, undefined, callback, later);
    if (updateNow) {
      let failed: unknown;
      try {
        updateNow(client, toForward);
      } catch (err) {
        failed = err;
      }
      return write(aedesClient, toForward, failed, callback, later);
    }
    const send = (err?: unknown) => write(aedesClient, toForward, err, callback, later);
    persistence.outgoingUpdate!(client, toForward).then(() => send(), send);
  };
  aedesClient.deliver0 = wrapped0;
  aedesClient.deliverQoS = deliverQoS;
  aedesClient.duplicates = noHighWaterMark();
  return true;
}

/**
 * aedes' writeQoS and write (lib/client.js, lib/write.js): the callback is always called, after the
 * write; an error goes to the client's error handler, later as in aedes (it may close the client, which
 * must not happen in the middle of mqemitter delivering to the others).
 */
function write(client: AedesClient, packet: QoSPacketLike, failed: unknown, callback: () => void, later: (fn: () => void) => void): void {
  // A refused update of the session queue: aedes reports it and sends nothing.
  let error = failed ? (failed as Error) : null;
  if (!error && !(client.connecting || client.connected)) error = new Error('connection closed');
  if (!error) {
    try {
      if (!mqttPacket.writeToStream(packet as unknown as mqttPacket.Packet, client.conn) && !client.errored) {
        // The socket's buffer is full: aedes waits for 'drain' (this is what holds a fast publisher back).
        client.waitForDrain((err) => {
          if (err) client.emit('error', err);
          callback();
        });
        return;
      }
    } catch {
      error = new Error('packet received not valid');
    }
  }
  if (!error) return later(callback);
  later(() => {
    client.emit('error', error);
    callback();
  });
}

/** Calls the functions given during one turn of the event loop from one setImmediate, in order. */
function callbacksLater(): (fn: () => void) => void {
  let queue: (() => void)[] = [];
  const run = () => {
    const now = queue;
    queue = [];
    for (const fn of now) fn();
  };
  return (fn) => {
    if (queue.length === 0) setImmediate(run);
    queue.push(fn);
  };
}

function noop(): void {}

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
