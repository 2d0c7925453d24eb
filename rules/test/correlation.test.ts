// One cause, one alarm (issue 19): the rules engine with the default rules and a real alarm store.
// A gas detector's own stage joins the platform's %LEL alarm as corroboration; a tripped interlock goes
// under the tank's HH alarm whichever comes first; signing for the cause signs for its consequences; and
// every one of these is in the history. The store part runs on SQLite and PostgreSQL.
import { afterEach, describe, expect, it } from 'vitest';
import { BACKENDS, type TestDatabase } from '../../test/support/databases.ts';
import type { AlarmStore } from '../store-types.ts';
import { record, setup } from './engine-harness.ts';

const DEVICES = [
  record('lel-1', 'gas_combustible'),
  record('tank-1', 'vessel', { limits: { level: { HH: 10.8, H: 9.6, L: 2.4, LL: 1.2 } } }),
  record('tank-2', 'vessel', { limits: { level: { HH: 10.8, H: 9.6, L: 2.4, LL: 1.2 } } }),
  record('fw-1', 'fire_water'),
];

describe.each(BACKENDS)('one cause, one alarm, on $name', (backend) => {
  const made: TestDatabase[] = [];
  const stores: AlarmStore[] = [];
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.dispose()));
    await Promise.all(made.splice(0).map((d) => d.drop()));
  });
  const fresh = async (correlate = true) => {
    const d = await backend.fresh('alarms.db');
    made.push(d);
    const s = await setup(d.target, DEVICES, correlate);
    stores.push(s.store);
    return s;
  };

  it("a gas leak is one alarm: the detector's stages are recorded on the %LEL alarm and its second stage turns it red", async () => {
    const s = await fresh();
    await s.reading('lel-1', 0, { lel: 30 });
    await s.reading('lel-1', 5000, { lel: 31 });
    await s.event('lel-1', 6000, 'alarm_stage1');
    await s.event('lel-1', 7000, 'alarm_stage2');
    const alarms = await s.all();
    expect(alarms.map((a) => [a.device, a.condition, a.level])).toEqual([['lel-1', 'HW_ALM_GAS_LEL_HIGH', 1]]);
    const h = (await s.store.history(alarms[0].id)).map((e) => [e.action, e.level, e.data?.event ?? e.data?.to ?? null]);
    expect(h).toEqual([
      ['raised', 2, 2],
      ['corroborated', 2, 'alarm_stage1'],
      ['escalated', 1, 1],
      ['corroborated', 1, 'alarm_stage2'],
    ].map(([a, l, d]) => (a === 'raised' ? [a, l, null] : [a, l, d])));
    // The detector's stage ending leaves the platform's measurement in charge; nothing recorded twice.
    await s.event('lel-1', 8000, 'alarm_stage2', false);
    await s.event('lel-1', 9000, 'alarm_stage1', false);
    expect((await s.all()).map((a) => a.level)).toEqual([2]);
    expect((await s.store.history(alarms[0].id)).filter((e) => e.action === 'corroborated')).toHaveLength(2);
  });

  it('without correlation the same leak is two alarms (what `hazwatch replay` counts as before)', async () => {
    const s = await fresh(false);
    await s.reading('lel-1', 0, { lel: 30 });
    await s.reading('lel-1', 5000, { lel: 31 });
    await s.event('lel-1', 6000, 'alarm_stage1');
    expect((await s.all()).map((a) => a.condition).sort()).toEqual(['HW_ALM_GAS_DETECTOR_ALARM', 'HW_ALM_GAS_LEL_HIGH']);
  });

  it("puts a tripped interlock under the tank's HH alarm, whichever is heard first, and signs for both at once", async () => {
    const s = await fresh();
    // tank-1: the level first, then the interlock.
    for (const [i, level] of [11, 11.1].entries()) await s.reading('tank-1', i * 10_000, { level });
    await s.event('tank-1', 15_000, 'interlock_trip');
    // tank-2: the interlock's event arrives before the level readings that explain it.
    await s.event('tank-2', 0, 'interlock_trip');
    for (const [i, level] of [11, 11.1].entries()) await s.reading('tank-2', 1000 + i * 10_000, { level });
    for (const tank of ['tank-1', 'tank-2']) {
      const mine = (await s.all()).filter((a) => a.device === tank);
      const cause = mine.find((a) => a.condition === 'HW_ALM_LEVEL_HIGH')!;
      const trip = mine.find((a) => a.condition === 'HW_ALM_INTERLOCK_TRIP')!;
      expect(cause.parentId, tank).toBeNull();
      expect(trip.parentId, tank).toBe(cause.id);
      const grouped = (await s.store.history(trip.id)).find((e) => e.action === 'grouped');
      expect(grouped?.data, tank).toEqual({ parent: cause.id, parentCondition: 'HW_ALM_LEVEL_HIGH' });
    }
    // What the operator must act on: the causes only.
    expect((await s.store.list({ topLevel: true })).map((a) => `${a.device} ${a.condition}`).sort()).toEqual(['tank-1 HW_ALM_LEVEL_HIGH', 'tank-2 HW_ALM_LEVEL_HIGH']);
    const cause = (await s.store.list({ device: 'tank-1', topLevel: true }))[0];
    expect((await s.store.list({ parent: cause.id })).map((a) => a.condition)).toEqual(['HW_ALM_INTERLOCK_TRIP']);
    await s.store.acknowledge(cause.id, 'operator-1', 'seen on the wall');
    const trip = (await s.store.list({ parent: cause.id }))[0];
    expect(trip.state).toBe('active_acknowledged');
    expect((await s.store.history(trip.id)).at(-1)).toMatchObject({ action: 'acknowledged', by: 'operator-1', data: { withCause: cause.id } });
    // tank-2's consequence is left alone.
    expect((await s.all()).filter((a) => a.device === 'tank-2').map((a) => a.state)).toEqual(['active_unacknowledged', 'active_unacknowledged']);
  });

  it('puts low network pressure under the fire pump fault that causes it', async () => {
    const s = await fresh();
    await s.event('fw-1', 0, 'pump_fault');
    for (const [i, pressure] of [0.06, 0.05].entries()) await s.reading('fw-1', 10_000 + i * 10_000, { pressure });
    await s.setNow(60_000);
    await s.engine.tick();
    await s.engine.idle();
    const alarms = await s.all();
    const fault = alarms.find((a) => a.condition === 'HW_ALM_PUMP_FAULT')!;
    expect(alarms.find((a) => a.condition === 'HW_ALM_FIRE_WATER_PRESSURE_LOW')?.parentId).toBe(fault.id);
  });
});
