import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openOutbox } from '../outbox.ts';

describe('outbox', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-outbox-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps readings across a restart of the gateway, in order', () => {
    const path = join(dir, 'a.db');
    const a = openOutbox(path, { maxRows: 1000 });
    for (let i = 0; i < 5; i++) a.push('d1', 'telemetry', { ts: i, values: { lel: i } });
    a.push('d1', 'event', { ts: 5, type: 'fault', active: true });
    a.close();
    const b = openOutbox(path, { maxRows: 1000 });
    expect(b.size()).toBe(6);
    const rows = b.peek(10);
    expect(rows.map((r) => JSON.parse(r.body).ts)).toEqual([0, 1, 2, 3, 4, 5]);
    b.remove(rows.slice(0, 2).map((r) => r.id));
    expect(b.size()).toBe(4);
    b.close();
  });

  it('is bounded: when full the oldest telemetry goes first, events stay, and every drop is counted', () => {
    const drops: number[] = [];
    const box = openOutbox(':memory:', { maxRows: 1000, onDrop: (n) => drops.push(n) });
    box.push('d1', 'event', { ts: 0, type: 'alarm_stage2', active: true });
    for (let i = 1; i < 1100; i++) box.push('d1', 'telemetry', { ts: i, values: { lel: 1 } });
    expect(box.size()).toBeLessThanOrEqual(1000);
    expect(box.dropped).toBe(drops.reduce((a, b) => a + b, 0));
    expect(box.dropped + box.size()).toBe(1100);
    const rows = box.peek(2000);
    expect(rows[0].channel).toBe('event');
    // what is left is the newest telemetry
    expect(JSON.parse(rows.at(-1)!.body).ts).toBe(1099);
    box.close();
  });
});
