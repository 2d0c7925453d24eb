import { describe, expect, it } from 'vitest';
import { planReads, type Span } from '../plan.ts';

const limits = { maxGap: 8, maxRegisters: 125, maxBits: 2000 };
const span = (table: Span<string>['table'], address: number, width: number, ref = `${table}${address}`): Span<string> => ({ table, address, width, ref });

describe('read planning', () => {
  it('joins neighbours and values within the allowed gap into one request', () => {
    const reqs = planReads([span('holding', 0, 2), span('holding', 2, 1), span('holding', 10, 1), span('holding', 4, 4)], limits);
    expect(reqs.map((r) => [r.table, r.address, r.count])).toEqual([['holding', 0, 11]]);
    expect(reqs[0].spans.map((s) => s.ref)).toEqual(['holding0', 'holding2', 'holding4', 'holding10']);
  });

  it('splits when the gap is larger than allowed', () => {
    const reqs = planReads([span('input', 0, 2), span('input', 100, 1)], limits);
    expect(reqs.map((r) => [r.address, r.count])).toEqual([
      [0, 2],
      [100, 1],
    ]);
  });

  it('never joins different tables', () => {
    expect(planReads([span('holding', 0, 1), span('input', 1, 1), span('coils', 0, 1), span('discrete', 0, 1)], limits)).toHaveLength(4);
  });

  it('respects the 125-register limit', () => {
    const spans = Array.from({ length: 100 }, (_, i) => span('holding', i * 2, 2));
    const reqs = planReads(spans, limits);
    expect(reqs.map((r) => r.count)).toEqual([124, 76]);
    expect(reqs.every((r) => r.count <= 125)).toBe(true);
    expect(reqs.flatMap((r) => r.spans)).toHaveLength(100);
    // no value is split across two requests
    for (const r of reqs) for (const s of r.spans) expect(s.address + s.width).toBeLessThanOrEqual(r.address + r.count);
  });

  it('respects the 2000-bit limit and a device limit', () => {
    const bits = Array.from({ length: 2500 }, (_, i) => span('coils', i, 1));
    expect(planReads(bits, limits).map((r) => r.count)).toEqual([2000, 500]);
    const small = planReads(Array.from({ length: 10 }, (_, i) => span('input', i, 1)), { ...limits, maxRegisters: 4 });
    expect(small.map((r) => r.count)).toEqual([4, 4, 2]);
  });

  it('reads several bits of one status word once', () => {
    const reqs = planReads([span('input', 100, 1, 'b0'), span('input', 100, 1, 'b1'), span('input', 100, 1, 'b2')], limits);
    expect(reqs.map((r) => [r.address, r.count, r.spans.length])).toEqual([[100, 1, 3]]);
  });

  it('with maxGap 0 joins only adjacent values', () => {
    const reqs = planReads([span('holding', 0, 2), span('holding', 2, 2), span('holding', 5, 1)], { ...limits, maxGap: 0 });
    expect(reqs.map((r) => [r.address, r.count])).toEqual([
      [0, 4],
      [5, 1],
    ]);
  });
});
