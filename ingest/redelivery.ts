// Recognising QoS1 redeliveries of messages whose points carry the receive time (device-timestamped
// points need none of this: the same point at the same time overwrites itself in InfluxDB).
//
// A broker redelivers, after a reconnect, what it believes was not acknowledged: messages whose
// PUBACK was lost with the connection, or that a killed ingest had spooled but not yet
// acknowledged. MQTT wants DUP=1 on those [MQTT-3.3.1-1]; our broker sets it (broker/delivery.ts), but
// plain aedes 1.x resends with DUP=0, other brokers may too, and packet ids start at 1 again on every
// connection, so neither the flag nor the packet id alone is a reliable mark. What is reliable: a redelivery repeats topic, packet id and payload of a
// message taken in the last moments of the previous connection. Those keys become "suspects" when
// the connection ends (or, after a crash, are read back from the spool); during a short replay window
// after the next connect a message matching a suspect is a redelivery. Outside that window only a
// DUP=1 message is checked, against every key of the dedupe window.
import { createHash } from 'node:crypto';

export function redeliveryKey(topic: string, messageId: number, payload: Buffer): Buffer {
  return createHash('sha1').update(topic).update('\0').update(String(messageId)).update('\0').update(payload).digest();
}

export interface RedeliveryOptions {
  /** Messages acknowledged this long before a disconnect may have lost their PUBACK. */
  tailMs: number;
  /** How long after a reconnect redeliveries are expected. */
  replayMs: number;
  now?: () => number;
}

export function redeliveryTracker(options: RedeliveryOptions) {
  const now = options.now ?? Date.now;
  /** Keys taken on the current connection, oldest first, with the time they were acknowledged. */
  let tail: { key: string; at: number }[] = [];
  let suspects = new Set<string>();
  let replayUntil = 0;
  return {
    /** A receive-time message was spooled and acknowledged (or is about to be). */
    taken(key: Buffer): void {
      const t = now();
      tail.push({ key: key.toString('hex'), at: t });
      if (tail.length > 4096 && tail[0].at < t - options.tailMs) tail = tail.filter((e) => e.at >= t - options.tailMs);
    },
    /** Spooled, but its PUBACK could not go out (the connection had ended): it will come again. */
    unacknowledged(key: Buffer): void {
      suspects.add(key.toString('hex'));
    },
    /** The connection ended: what was taken in its last moments may come again. */
    disconnected(): void {
      const since = now() - options.tailMs;
      for (const e of tail) if (e.at >= since) suspects.add(e.key);
      tail = [];
    },
    /** Keys read back from the spool after a restart (the previous process's last moments). */
    restored(keys: Buffer[]): void {
      for (const k of keys) suspects.add(k.toString('hex'));
    },
    connected(): void {
      replayUntil = now() + options.replayMs;
    },
    /** Whether any message could be a redelivery now: when not, a message without DUP needs no key. */
    suspecting(): boolean {
      return suspects.size > 0;
    },
    /** True when this message is a redelivery of one already taken; each suspect matches once. */
    isRedelivery(key: Buffer): boolean {
      if (suspects.size === 0) return false;
      if (now() > replayUntil) {
        suspects = new Set();
        return false;
      }
      return suspects.delete(key.toString('hex'));
    },
  };
}
