// One socket write per event-loop turn instead of one per packet field. aedes delivers each QoS 1
// message in its own setImmediate, and mqtt-packet writes a packet as five or six small chunks (fixed
// header, length, topic length, topic, packet id, payload), corking the socket only until the next tick:
// a subscriber with thousands of messages in flight (ingest, rules) cost one writev system call per
// message, a quarter of the broker's CPU under load (docs/benchmarks.md). The bytes written during one
// loop turn are gathered here and handed to the socket as one buffer at the end of the turn: one write
// request and one system call, where corking still left one queued request per chunk (with the cork gone
// too, below: a PUBLISH and its PUBACK written for 1.07 µs of CPU instead of 2.11 together with quiet
// `debug` loggers, and 7.7x fewer scavenges; `npm run bench:codec`, docs/benchmarks.md).
// TCP_NODELAY stays on: the wait is at most one turn of the event loop, not the kernel's.
// (Holding the bytes 1 or 4 ms instead changed no process's CPU measurably in bench:fleet, 2026-12-07.)
// The same holds for the PUBACKs the platform's own MQTT clients send back (ingest and rules acknowledge
// every message, once it is on disk or its consequences are in the alarm store).
//
// Backpressure stays the socket's: once what is gathered and what the socket holds reach its high-water
// mark, the bytes go to the socket at once and the write returns the socket's answer (false, and a
// 'drain' to follow), so a writer waiting for 'drain' is always woken.
// A write with a callback, or of a large buffer, goes to the socket as given, after what was gathered.
// A write followed by a close in the same turn must still go out (aedes answers a refused CONNECT with
// a CONNACK and destroys the socket in the write's callback [MQTT-3.2.2-5]): `end` and `destroy` send
// what is gathered first.
import { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';

/** A buffer this large is written as it is: copying it into the turn's buffer would cost more than a write. */
const GATHER_MAX = 16 * 1024;

type Write = (chunk: unknown, encoding?: unknown, callback?: unknown) => boolean;

export function coalesceWrites(socket: Socket): void {
  const write = socket.write as Write;
  let chunks: Buffer[] = [];
  let bytes = 0;
  let due = false;
  const flush = (): boolean => {
    if (chunks.length === 0) return true;
    const data = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, bytes);
    chunks = [];
    bytes = 0;
    // Once destroyed nothing can go out any more; the writer learns it from the socket's own 'close'.
    return !socket.destroyed && write.call(socket, data);
  };
  const release = () => {
    due = false;
    flush();
  };
  socket.write = function (this: Socket, chunk: unknown, encoding?: unknown, callback?: unknown): boolean {
    if (callback !== undefined || typeof encoding === 'function' || socket.destroyed || socket.writableEnded) {
      flush();
      return write.call(this, chunk, encoding, callback);
    }
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk, encoding as BufferEncoding | undefined) : chunk;
    if (!Buffer.isBuffer(buffer) || buffer.length >= GATHER_MAX) {
      flush();
      return write.call(this, buffer);
    }
    chunks.push(buffer);
    bytes += buffer.length;
    if (!due) {
      due = true;
      setImmediate(release);
    }
    return bytes + socket.writableLength < socket.writableHighWaterMark || flush();
  } as Socket['write'];
  // mqtt-packet corks the stream for every packet it writes and uncorks it on the next tick, a queued
  // tick per packet, which the gathering here makes pointless; it skips both when the stream has no
  // `cork` (bench:codec: 10 % of a PUBLISH and PUBACK written, half the scavenges left). Nothing else
  // corks these sockets (aedes, mqtt.js and net do not); a call would fail loudly, not silently.
  Object.defineProperty(socket, 'cork', { value: undefined, configurable: true, writable: true });
  const end = socket.end as (...a: unknown[]) => Socket;
  socket.end = function (this: Socket, ...args: unknown[]) {
    flush();
    return end.apply(this, args);
  } as Socket['end'];
  const destroy = socket.destroy as (...a: unknown[]) => Socket;
  socket.destroy = function (this: Socket, ...args: unknown[]) {
    flush();
    return destroy.apply(this, args);
  } as Socket['destroy'];
}

/** The same for an mqtt.js client's connection, again after every reconnect (a new socket each time). */
export function coalesceClientWrites(client: MqttClient): void {
  const done = new WeakSet<Socket>();
  client.on('connect', () => {
    const stream = client.stream;
    if (stream instanceof Socket && !done.has(stream)) {
      done.add(stream);
      coalesceWrites(stream);
    }
  });
}
