// The once-a-second tick walks every device (silence, expiry); after a start or a reload of the rules it
// makes every device's state anew, hundreds of milliseconds for thousands of devices. It gives the event
// loop a turn every `tickSliceMs` so that readings raising alarms do not wait behind it, and still judges
// every device.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import type { AlarmStore } from '../store-types.ts';
import { record, setup } from './engine-harness.ts';

const DEVICES = Array.from({ length: 6 }, (_, i) => record(`lel-${i}`, 'gas_combustible'));

describe('the tick', () => {
  const made: TestDatabase[] = [];
  const stores: AlarmStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.dispose()));
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });

  it('gives the event loop turns while it walks the devices, and judges every one', async () => {
    const d = await BACKENDS[0].fresh('alarms.db');
    made.push(d);
    // Sliced after every device.
    const { engine, store, setNow, all } = await setup(d.target, DEVICES, true, { tickSliceMs: -1 });
    stores.push(store);
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
