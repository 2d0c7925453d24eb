// The demo's camera snapshots: served only when the API runs a demo, as a picture naming the camera.
import { afterAll, describe, expect, test } from 'vitest';
import { startHarness, type Harness } from './harness.ts';

const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.close();
});

describe('demo snapshots', () => {
  test('a demo serves the simulated camera snapshot its alarms link to; a real installation does not', async () => {
    const demo = await startHarness({ api: { demo: true } });
    const real = await startHarness();
    harnesses.push(demo, real);
    const url = '/demo/snapshots/cam-101/1796529600000.jpg';
    const res = await demo.api.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('image/svg+xml');
    expect(res.body).toContain('cam-101');
    expect((await demo.api.app.inject({ method: 'GET', url: '/demo/snapshots/cam-101/..%2F..%2Fetc.jpg' })).statusCode).toBe(404);
    expect((await real.api.app.inject({ method: 'GET', url })).statusCode).toBe(404);
  });
});
