// Camera and AI video events (issue 17): the analytics' events become graded alarms like any other,
// carrying the snapshot of the event that raised them; a momentary event clears after its rule's time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createModel } from '../../simulators/models/index.ts';
import { record, setup, T0 } from './engine-harness.ts';

const dir = mkdtempSync(join(tmpdir(), 'hw-camera-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('camera analytics → alarms', () => {
  it('raises a graded alarm with the snapshot of the event, keeps the first picture while it repeats, clears when the analytics fall silent', async () => {
    const s = await setup(join(dir, 'alarms.db'), [record('cam-1', 'camera', { streamUrl: 'rtsp://nvr.local/ch3' })]);
    await s.event('cam-1', 0, 'smoke_fire', undefined, { snapshot: 'http://nvr.local/snap/cam-1/1.jpg', confidence: 0.94 });
    await s.event('cam-1', 60_000, 'smoke_fire', undefined, { snapshot: 'http://nvr.local/snap/cam-1/2.jpg' });
    await s.event('cam-1', 60_000, 'no_helmet', undefined, { snapshot: 'http://nvr.local/snap/cam-1/3.jpg' });
    const alarms = await s.all();
    expect(alarms.map((a) => [a.condition, a.level, a.snapshot]).sort()).toEqual([
      ['HW_ALM_VIDEO_FIRE', 1, 'http://nvr.local/snap/cam-1/1.jpg'],
      ['HW_ALM_VIDEO_NO_HELMET', 4, 'http://nvr.local/snap/cam-1/3.jpg'],
    ]);
    // No new event for the rule's clearAfterSeconds (fire 600 s after its last event): returned to normal.
    s.setNow(60_000 + 600_000);
    await s.engine.tick();
    await s.engine.idle();
    // (The camera sent no readings in this test, so it is offline too: that alarm is not the point here.)
    expect((await s.all()).filter((a) => a.condition.startsWith('HW_ALM_VIDEO')).map((a) => [a.condition, a.state]).sort()).toEqual([
      ['HW_ALM_VIDEO_FIRE', 'cleared_unacknowledged'],
      ['HW_ALM_VIDEO_NO_HELMET', 'cleared_unacknowledged'],
    ]);
    await s.store.dispose();
  });

  it('the simulated camera reports its analytics events with snapshots while a fault lasts, again every minute', () => {
    const model = createModel('camera', { seed: 3, device: 'cam-1', meta: { channel: 'cam-1', snapshotBase: 'http://nvr.local/snap' } });
    model.step(T0);
    model.inject({ kind: 'intrusion', durationSeconds: 150 }, T0);
    const events: { type: string; t: number; data?: Record<string, unknown> }[] = [];
    for (let t = T0; t <= T0 + 300_000; t += 10_000) events.push(...model.step(t).events.map((e) => ({ ...e, t })));
    // At the first step of the fault, then every minute while it lasts (150 s), and no more after it.
    expect(events.map((e) => e.type)).toEqual(['intrusion', 'intrusion', 'intrusion']);
    expect(events[0].t - T0).toBeLessThanOrEqual(10_000);
    expect(events.slice(1).map((e, i) => e.t - events[i].t)).toEqual([60_000, 60_000]);
    expect(events[0].data?.snapshot).toMatch(/^http:\/\/nvr\.local\/snap\/cam-1\/\d{13}\.jpg$/);
  });
});
