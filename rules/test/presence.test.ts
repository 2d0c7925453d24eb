// Rules lists the presence of the devices heard from for the registry in slices (rules/service.ts writes
// each slice in its own transaction); what a failed write did not store is listed again.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import type { AlarmStore } from '../store-types.ts';
import { record, setup, T0 } from './engine-harness.ts';

const DEVICES = Array.from({ length: 7 }, (_, i) => record(`lel-${i}`, 'gas_combustible'));

describe('presence for the registry', () => {
  const made: TestDatabase[] = [];
  const stores: AlarmStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.dispose()));
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });

  it('lists each device heard from once, in slices, and again when heard anew or when its slice was not written', async () => {
    const d = await BACKENDS[0].fresh('alarms.db');
    made.push(d);
    const { engine, store, reading } = await setup(d.target, DEVICES);
    stores.push(store);
    for (const [i, dev] of DEVICES.entries()) await reading(dev.id, 1000 + i, { lel: 1 });
    const ids = (slice: ReturnType<typeof engine.presences>) => slice.map((p) => p.device.id);

    expect(engine.presencesWaiting()).toBe(DEVICES.length);
    const slices = [engine.presences(3), engine.presences(3), engine.presences(3)];
    expect(engine.presencesWaiting()).toBe(0);
    expect(slices.map((s) => s.length)).toEqual([3, 3, 1]);
    expect(new Set(slices.flatMap(ids))).toEqual(new Set(DEVICES.map((x) => x.id)));
    expect(engine.presences(3)).toEqual([]);
    expect(slices[0][0].report).toMatchObject({ state: 'online', heardAt: T0 + 1000 });

    // The second slice's write failed: listed again, and only it.
    engine.presencesNotWritten(slices[1].map((p) => p.device));
    expect(ids(engine.presences())).toEqual(ids(slices[1]));
    // Heard again: listed again, with the new time.
    await reading('lel-0', 5000, { lel: 2 });
    const again = engine.presences();
    expect(ids(again)).toEqual(['lel-0']);
    expect(again[0].report.heardAt).toBe(T0 + 5000);
  });
});
