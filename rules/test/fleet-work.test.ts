// Rules' work over the whole fleet, which must not hold the event loop for long (a reading that raises an
// alarm waits behind whatever runs): the presence of the devices heard from is listed for the registry
// in slices (rules/service.ts writes each in its own transaction, a turn between), and what a failed
// write did not store is listed again; the once-a-second tick, which after a start or a reload of the
// rules makes every device's state anew, gives the loop a turn every `tickSliceMs` and still judges
// every device.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import type { DeviceRecord } from '../../registry/registry.ts';
import type { EngineOptions } from '../engine.ts';
import type { AlarmStore } from '../store-types.ts';
import { record, setup, T0 } from './engine-harness.ts';

const DEVICES = Array.from({ length: 7 }, (_, i) => record(`lel-${i}`, 'gas_combustible'));

describe('work over the whole fleet', () => {
  const made: TestDatabase[] = [];
  const stores: AlarmStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.dispose()));
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });
  const open = async (devices: DeviceRecord[], more: Partial<EngineOptions> = {}) => {
    const d = await BACKENDS[0].fresh('alarms.db');
    made.push(d);
    const s = await setup(d.target, devices, true, more);
    stores.push(s.store);
    return s;
  };

  it('lists each device heard from once, in slices, and again when heard anew or when its slice was not written', async () => {
    const { engine, reading } = await open(DEVICES);
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

  it('gives the event loop turns while it walks the devices, and judges every one', async () => {
    // Sliced after every device.
    const { engine, setNow, all } = await open(DEVICES, { tickSliceMs: -1 });
    setNow(3_600_000); // an hour of silence: every device is offline
    let turns = 0;
    let ticking = true;
    const count = () => {
      if (!ticking) return;
      turns++;
      setImmediate(count);
    };
    const tick = engine.tick();
    setImmediate(count);
    await tick;
    ticking = false;
    await engine.idle();
    expect(turns).toBeGreaterThanOrEqual(DEVICES.length - 1);
    const offline = (await all()).filter((a) => a.condition === 'HW_ALM_DEVICE_OFFLINE').map((a) => a.device).sort();
    expect(offline).toEqual(DEVICES.map((x) => x.id).sort());
  });
});
