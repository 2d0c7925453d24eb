// One socket write per event-loop turn instead of one per packet. aedes delivers each QoS 1 message in
// its own setImmediate, and mqtt-packet corks a socket only until the next tick, so a subscriber with
// thousands of messages in flight (ingest, rules) cost one writev system call per message: a quarter of
// the broker's CPU under load (docs/benchmarks.md). Holding the cork until the end of the loop turn
// merges them. TCP_NODELAY stays on: the wait is at most one turn of the event loop, not the kernel's.
// The same holds for the PUBACKs the platform's own MQTT clients send back (rules acknowledges every
// message it evaluates). What must not wait for the end of the turn (an alarm leaving rules) is
// flushed: under a backlog one turn of the loop is the whole of libuv's reads of a busy socket, hundreds
// of milliseconds, and the alarm would sit in the corked socket that long (bench:fleet's alarm tail).
import { Socket } from 'node:net';
import type { MqttClient } from 'mqtt';

/** Holds the socket's writes until the end of the loop turn; returns a function that sends them now. */
export function coalesceWrites(socket: Socket): () => void {
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
  // A flush leaves the socket uncorked; the pending release then finds nothing to do, and the next write corks anew.
  return () => {
    if (held) release();
  };
}

/**
 * The same for an mqtt.js client's connection, again after every reconnect (a new socket each time).
 * Returns `flush`: what the client has written so far goes out now.
 */
export function coalesceClientWrites(client: MqttClient): { flush(): void } {
  const flushes = new WeakMap<Socket, () => void>();
  client.on('connect', () => {
    const stream = client.stream;
    if (stream instanceof Socket && !flushes.has(stream)) flushes.set(stream, coalesceWrites(stream));
  });
  return {
    flush() {
      const stream = client.stream;
      if (stream instanceof Socket) flushes.get(stream)?.();
    },
  };
}
