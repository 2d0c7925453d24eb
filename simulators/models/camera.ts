// A camera (or NVR channel) with video analytics over a hazard area: it counts the people in view (a
// day shift, fewer at night) and reports what its analytics see while a fault lasts, again every
// `repeatSeconds` as real analytics do: intrusion, a person without a helmet, smoke or flame (the
// `fire` fault), a leak (the `gas_leak` fault). Each event carries a snapshot reference, as an NVR's
// event push does: `<meta.snapshotBase>/<device>/<time>.jpg`.
import type { ModelEvent, Physics, PhysicsContext } from './types.ts';
import { active, hourOfDay, num } from './util.ts';

const FAULT_EVENTS = { intrusion: 'intrusion', no_helmet: 'no_helmet', fire: 'smoke_fire', gas_leak: 'leak_spotted' } as const;

export const cameraPhysics = ({ rnd, meta }: PhysicsContext): Physics => {
  const repeatMs = num(meta, 'repeatSeconds', 60) * 1000;
  const base = typeof meta.snapshotBase === 'string' ? meta.snapshotBase : 'http://nvr.local/snapshots';
  const id = typeof meta.channel === 'string' ? meta.channel : 'cam';
  const shift = num(meta, 'persons', 3);
  let persons = 0;
  const lastSent = new Map<string, number>();
  const events: ModelEvent[] = [];

  return {
    faults: ['intrusion', 'no_helmet', 'fire', 'gas_leak'],
    advance(t, _dt, faults) {
      const hour = hourOfDay(t, 8);
      const expected = hour >= 8 && hour < 18 ? shift : shift / 6;
      persons = Math.max(0, Math.round(expected + rnd.normal(0, 0.7)));
      for (const [kind, type] of Object.entries(FAULT_EVENTS) as [keyof typeof FAULT_EVENTS, (typeof FAULT_EVENTS)[keyof typeof FAULT_EVENTS]][]) {
        if (!active(faults, kind).length) {
          lastSent.delete(kind);
          continue;
        }
        if (t - (lastSent.get(kind) ?? -Infinity) < repeatMs) continue;
        lastSent.set(kind, t);
        if (kind === 'intrusion' || kind === 'no_helmet') persons = Math.max(persons, 1);
        events.push({ type, data: { snapshot: `${base}/${id}/${t}.jpg`, confidence: Math.round(rnd.range(0.8, 0.99) * 100) / 100 } });
      }
    },
    read() {
      return { values: { persons }, events: events.splice(0) };
    },
    started() {
      return [];
    },
    ended() {
      return [];
    },
  };
};

export { cameraPhysics as physics };
