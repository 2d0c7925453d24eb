// A rules process that dies between the two readings of "2 samples in a row" does not forget the first
// (issue 18's workers-kill fault test lost a probe alarm this way): the stages on their way up are saved
// in the alarm store before the reading is acknowledged, and a process starting again goes on counting.
// Real stores, SQLite and PostgreSQL; the "crash" is a second engine opened on the same store without the
// first one closing anything.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import type { AlarmStore } from '../store-types.ts';
import { record, setup, T0 } from './engine-harness.ts';

const DEVICES = [record('lel-1', 'gas_combustible'), record('lel-2', 'gas_combustible')];

describe.each(BACKENDS)('stages on their way up, across a restart, on $name', (backend) => {
  const made: TestDatabase[] = [];
  const stores: AlarmStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.dispose()));
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });
  const open = async (target: string) => {
    const s = await setup(target, DEVICES);
    stores.push(s.store);
    return s;
  };
  const fresh = async () => {
    const d = await backend.fresh('alarms.db');
    made.push(d);
    return d.target;
  };

  it('the first of two samples counted before the crash raises the alarm with the second after it', async () => {
    const target = await fresh();
    const before = await open(target);
    await before.reading('lel-1', 0, { lel: 30 });
    expect(await before.all()).toEqual([]);
    expect(await before.store.pendingStates()).toEqual([
      { enterprise: 'acme', device: 'lel-1', stages: [{ rule: expect.any(String), level: 2, count: 1, since: T0 }], lastTs: T0 },
    ]);

    const after = await open(target);
    // The broker delivers the unacknowledged first sample again: it counted already, and counts once.
    await after.reading('lel-1', 0, { lel: 30 });
    expect(await after.all()).toEqual([]);
    await after.reading('lel-1', 5000, { lel: 31 });
    const alarms = await after.all();
    expect(alarms).toHaveLength(1);
    expect(alarms[0]).toMatchObject({ device: 'lel-1', condition: 'HW_ALM_GAS_LEL_HIGH', level: 2, value: 31 });
    // Raised: nothing on its way up any more.
    expect(await after.store.pendingStates()).toEqual([]);
  });

  it('forgets at start the count of a device no longer in the registry', async () => {
    const target = await fresh();
    const before = await open(target);
    await before.reading('lel-1', 0, { lel: 30 });
    await before.reading('lel-2', 0, { lel: 30 });
    expect((await before.store.pendingStates()).map((p) => p.device).sort()).toEqual(['lel-1', 'lel-2']);
    // lel-1 deleted (or revoked) while rules was down.
    const after = await setup(target, DEVICES.filter((d) => d.id !== 'lel-1'));
    stores.push(after.store);
    expect((await after.store.pendingStates()).map((p) => p.device)).toEqual(['lel-2']);
  });

  it('a reading back under the limit forgets the count, in the store too', async () => {
    const target = await fresh();
    const before = await open(target);
    await before.reading('lel-2', 0, { lel: 30 });
    await before.reading('lel-2', 5000, { lel: 3 });
    expect(await before.store.pendingStates()).toEqual([]);
    const after = await open(target);
    await after.reading('lel-2', 10_000, { lel: 30 });
    expect(await after.all()).toEqual([]);
  });

  it('says what is not yet in the store, and when it is', async () => {
    const target = await fresh();
    const s = await open(target);
    expect(s.engine.written()).toBeUndefined();
    s.setNow(0);
    s.engine.telemetry('acme', 'lel-1', JSON.stringify({ ts: T0, values: { lel: 30 } }), T0);
    const written = s.engine.written();
    expect(written).toBeInstanceOf(Promise);
    await written;
    expect(await s.store.pendingStates()).toHaveLength(1);
    expect(s.engine.written()).toBeUndefined();
    // A reading that changes nothing leaves nothing to wait for.
    s.engine.telemetry('acme', 'lel-2', JSON.stringify({ ts: T0, values: { lel: 1 } }), T0);
    expect(s.engine.written()).toBeUndefined();
  });
});
