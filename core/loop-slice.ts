// Letting the event loop breathe during long synchronous work: a backlog of MQTT packets, a walk over
// every device.
//
// mqtt.js handles the packets of a socket read one after the other through process.nextTick, and libuv
// reads a busy socket many times in one poll phase: under load a process handles tens of thousands of
// messages before any timer or setImmediate runs again. Seen in bench:fleet at 20,000 readings/s as an
// event-loop delay of a second in ingest: its group commit (and so every PUBACK) waited behind the
// backlog, and the broker's in-flight window filled. The cure is in the `handleMessage` callback,
// which mqtt.js waits for before the next packet: called at once as long as the loop has been held for
// less than `everyMs`, else after a setImmediate, so that timers, commits and I/O get their turn
// (`loopPacer`, used through core/mqtt-acks.ts by ingest and rules, whose PUBACKs wait for the spool or
// the store anyway). The rules engine's tick walks every device the same way (`loopSlice`).

export interface LoopSlice {
  /** True once the loop has been held `everyMs` since the slice began or last yielded. */
  due(): boolean;
  /** The loop had its turn: a new slice begins. */
  yielded(): void;
}

export function loopSlice(everyMs = 5): LoopSlice {
  let since = performance.now();
  return {
    due: () => performance.now() - since >= everyMs,
    yielded: () => {
      since = performance.now();
    },
  };
}

/** A pacer for callback-driven work: `next` runs at once while the slice lasts, else after a turn of the loop. */
export function loopPacer(everyMs = 5): (next: () => void) => void {
  const slice = loopSlice(everyMs);
  return (next) => {
    if (!slice.due()) return next();
    setImmediate(() => {
      slice.yielded();
      next();
    });
  };
}
