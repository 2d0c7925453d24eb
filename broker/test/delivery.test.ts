// The exact duplicate check that replaces aedes' high-water mark (broker/delivery.ts).
import { describe, expect, it } from 'vitest';
import { recentPackets } from '../delivery.ts';

describe('recentPackets', () => {
  it('accepts keys in any order and refuses only a repeat', () => {
    const recent = recentPackets(8);
    expect([5, 3, 4, 1].map((n) => recent.firstTime('b', n))).toEqual([true, true, true, true]);
    expect(recent.firstTime('b', 3)).toBe(false);
    expect(recent.firstTime('other', 3)).toBe(true);
    expect(recent.firstTime('other', 3)).toBe(false);
  });

  it('refuses every repeat within the window of counters given in sequence, whatever their order', () => {
    const recent = recentPackets(1024);
    // A busy client: the table has grown to the window.
    for (let c = 0; c < 3000; c++) recent.firstTime('b', c);
    const counters = Array.from({ length: 1024 }, (_, i) => 5000 + ((i * 389) % 1024));
    expect(counters.every((c) => recent.firstTime('b', c))).toBe(true);
    expect(counters.some((c) => recent.firstTime('b', c))).toBe(false);
  });

  it('keeps what it holds while it grows from 16 slots to the window', () => {
    const recent = recentPackets(1024);
    for (let c = 0; c < 3000; c++) {
      expect(recent.firstTime('b', c)).toBe(true);
      // The packet 15 deliveries back is still refused, through every doubling.
      if (c >= 15) expect(recent.firstTime('b', c - 15)).toBe(false);
    }
    // Grown to the full window: the last 1024 are all remembered.
    for (let c = 3000 - 1024; c < 3000; c++) expect(recent.firstTime('b', c)).toBe(false);
  });

  it('forgets a packet once a later one takes its place, so an old packet is delivered rather than lost', () => {
    const recent = recentPackets(16);
    recent.firstTime('b', 1);
    expect(recent.firstTime('b', 1)).toBe(false);
    recent.firstTime('b', 17);
    expect(recent.firstTime('b', 1)).toBe(true);
    expect(recent.firstTime('b', 2)).toBe(true);
    expect(recent.firstTime('b', 2)).toBe(false);
    expect(() => recentPackets(1000)).toThrow(/power of two/);
  });
});
