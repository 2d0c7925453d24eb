// The simulated provincial platform: takes JSON by path, counts a re-sent message id as a duplicate,
// and is down (503) in its scheduled outages, on its own clock.
import { afterAll, describe, expect, it } from 'vitest';
import { startProvinceSim, type ProvinceSim } from '../province.ts';

const sims: ProvinceSim[] = [];
afterAll(async () => {
  for (const s of sims) await s.close();
});

describe('simulated provincial platform', () => {
  it('records what arrives by path, counts duplicates, and refuses during its outages', async () => {
    const clock = { t: 0 };
    const sim = await startProvinceSim({ outage: { afterMs: 60_000, forMs: 10_000, everyMs: 100_000 }, now: () => clock.t });
    sims.push(sim);
    const post = (path: string, body: unknown) => fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await post('/E1/realtime', { msgId: 'a', value: 1 })).status).toBe(200);
    expect((await post('/E1/realtime', { msgId: 'a', value: 1 })).status).toBe(200);
    clock.t = 65_000; // in the first outage
    expect((await post('/E1/alarm', { msgId: 'b' })).status).toBe(503);
    clock.t = 75_000;
    expect((await post('/E1/alarm', { msgId: 'b' })).status).toBe(200);
    clock.t = 165_000; // in the second
    expect((await post('/E1/alarm', { msgId: 'c' })).status).toBe(503);
    expect((await fetch(`${sim.url}/status`)).status).toBe(200);
    expect(sim.status()).toMatchObject({ up: false, received: 3, duplicates: 1, refusedDuringOutage: 2, outages: 2 });
    expect(sim.status().byPath['/province/E1/realtime'].count).toBe(2);
    expect((await fetch(sim.url + '/x', { method: 'POST', body: 'not json' })).status).toBe(400);
  });
});
