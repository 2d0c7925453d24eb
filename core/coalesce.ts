// One socket write per event-loop turn instead of one per packet. aedes delivers each QoS 1 message in
// its own setImmediate, and mqtt-packet corks a socket only until the next tick, so a subscriber with
// thousands of messages in flight (ingest, rules) cost one writev system call per message: a quarter of
// the broker's CPU under load (docs/benchmarks.md). Holding the cork until the end of the loop turn
// merges them. TCP_NODELAY stays on: the wait is at most one turn of the event loop, not the kernel's.
// (Holding it 1 or 4 ms instead changed no process's CPU measurably in bench:fleet, 2026-12-07.)
// The same holds for the PUBACKs the platform's own MQTT clients send back (ingest and rules acknowledge
// every message, once it is on disk or its consequences are in the alarm store).
//
// A write followed by a close in the same turn must still go out (aedes answers a refused CONNECT with
// a CONNACK and destroys the socket in the write's callback [MQTT-3.2.2-5]): `destroy` sends what is
// held first (`end` does so by itself: Writable.end uncorks).
import { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';

export function coalesceWrites(socket: Socket): void {
  let held = false;
  const release = () => {
    held = false;
    if (!socket.destroyed) socket.uncork();
  };
  const write = socket.write;
  socket.write = function (this: Socket, ...args: unknown[]) {
    if (!held && !socket.destroyed) {
      held = true;
      socket.cork();
      setImmediate(release);
    }
    return (write as (...a: unknown[]) => boolean).apply(this, args);
  } as Socket['write'];
  const destroy = socket.destroy;
  socket.destroy = function (this: Socket, ...args: unknown[]) {
    // Ours and mqtt-packet's own cork (until the next tick), if on: all of it goes now.
    held = false;
    while (!socket.destroyed && socket.writableCorked > 0) socket.uncork();
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
