// Socket writes gathered for up to a millisecond instead of one per packet. aedes delivers each QoS 1
// message in its own setImmediate, and mqtt-packet corks a socket only until the next tick, so a
// subscriber with thousands of messages in flight (ingest, rules) cost one writev system call per
// message: a quarter of the broker's CPU under load (docs/benchmarks.md). Gathering for one loop turn
// merged those of a turn; at 10,000 messages/s a turn holds only a few, and gathering for 1 ms cut each
// process's CPU by another tenth or so. TCP_NODELAY stays on: the wait is ours, bounded by GATHER_MS.
// The same holds for the PUBACKs the platform's own MQTT clients send back (ingest and rules acknowledge
// every message, once it is on disk or its consequences are in the alarm store).
//
// A write followed at once by a close must still go out: aedes answers a refused CONNECT with a CONNACK
// and destroys the socket in the write's callback [MQTT-3.2.2-5], before the gathering would end. So
// `destroy` sends what is gathered first (`end` does so by itself: Writable.end uncorks).
import { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';

/** The longest a written packet waits for others to share its system call. */
export const GATHER_MS = 1;

export function coalesceWrites(socket: Socket): void {
  let held = false;
  const release = () => {
    if (!held) return;
    held = false;
    // mqtt-packet's own cork (until the next tick) may be on too: all of it goes now.
    while (!socket.destroyed && socket.writableCorked > 0) socket.uncork();
  };
  const timer = setTimeout(release, GATHER_MS);
  timer.unref();
  const write = socket.write;
  socket.write = function (this: Socket, ...args: unknown[]) {
    if (!held && !socket.destroyed) {
      held = true;
      socket.cork();
      timer.refresh();
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
  const destroy = socket.destroy;
  socket.destroy = function (this: Socket, ...args: unknown[]) {
    release();
    return (destroy as (...a: unknown[]) => Socket).apply(this, args);
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
