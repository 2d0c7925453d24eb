import { describe, expect, it } from 'vitest';
import { oncePer } from '../log.ts';

describe('oncePer', () => {
  it('opens once per key and interval', () => {
    let t = 1_000_000;
    const gate = oncePer(60_000, () => t);
    expect([gate('a'), gate('a'), gate('b')]).toEqual([true, false, true]);
    t += 59_999;
    expect(gate('a')).toBe(false);
    t += 1;
    expect([gate('a'), gate('a')]).toEqual([true, false]);
  });
});
