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

  it('forgets keys beyond the window, so an old packet is delivered rather than lost', () => {
    const recent = recentPackets(2);
    recent.firstTime('b', 1);
    recent.firstTime('b', 2);
    expect(recent.firstTime('b', 2)).toBe(false);
    recent.firstTime('c', 3);
    expect(recent.firstTime('b', 1)).toBe(true);
    // 'b' 2 was evicted by 'b' 1; 'c' 3 is still remembered.
    expect(recent.firstTime('c', 3)).toBe(false);
    expect(recent.firstTime('b', 2)).toBe(true);
  });
});
