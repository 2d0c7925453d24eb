// Letting the event loop breathe while mqtt.js works through a backlog.
//
// mqtt.js handles the packets of a socket read one after the other through process.nextTick, and libuv
// reads a busy socket many times in one poll phase: under load a process handles tens of thousands of
// messages before any timer or setImmediate runs again. Seen in bench:fleet at 20,000 readings/s as an
// event-loop delay of a second in ingest: its group commit (and so every PUBACK) waited behind the
// backlog, and the broker's in-flight window filled. The cure is in the `handleMessage` callback,
// which mqtt.js waits for before the next packet: called at once as long as the loop has been held for
// less than `everyMs`, else after a setImmediate, so that timers, commits and I/O get their turn.
// Used through core/mqtt-acks.ts by ingest and rules, whose PUBACKs wait for the spool or the store anyway.
export function loopPacer(everyMs = 5): (next: () => void) => void {
  let since = performance.now();
  return (next) => {
    const now = performance.now();
    if (now - since < everyMs) return next();
    setImmediate(() => {
      since = performance.now();
      next();
    });
  };
}
