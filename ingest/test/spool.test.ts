import { afterEach, describe, expect, it } from 'vitest';
import { openSpool } from '../spool.ts';
import { tempDir } from './helpers.ts';

describe('spool', () => {
  const dirs: ReturnType<typeof tempDir>[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));
  const path = () => {
    const d = tempDir();
    dirs.push(d);
    return `${d.dir}/spool.db`;
  };

  it('keeps entries across a reopen, hands them out in order, removes only what was written', () => {
    const file = path();
    const a = openSpool(file, { maxBytes: 1e6 });
    a.append([
      { receivedAt: 1, lines: ['m a=1 1', 'm a=2 2'] },
      { receivedAt: 2, lines: ['m a=3 3'] },
      { receivedAt: 3, lines: ['m a=4 4'], dedupeKey: Buffer.from('k1') },
    ]);
    a.close();
    const b = openSpool(file, { maxBytes: 1e6 });
    expect(b.stats()).toMatchObject({ messages: 3, points: 4, oldestReceivedAt: 1 });
    const first = b.head(3)!;
    expect(first.rows.map((r) => r.lines)).toEqual(['m a=1 1\nm a=2 2', 'm a=3 3']);
    expect(first.points).toBe(3);
    b.remove(first.lastSeq);
    expect(b.stats()).toMatchObject({ messages: 1, points: 1, oldestReceivedAt: 3 });
    expect(b.seen(Buffer.from('k1'))).toBe(true);
    expect(b.lastKeys(5000).map(String)).toEqual(['k1']);
    expect(b.head(1)!.rows[0].lines).toBe('m a=4 4');
    b.close();
  });

  it('gives a message larger than the batch size alone', () => {
    const s = openSpool(path(), { maxBytes: 1e6 });
    s.append([{ receivedAt: 1, lines: ['a', 'b', 'c'] }, { receivedAt: 1, lines: ['d'] }]);
    expect(s.head(2)!.rows).toHaveLength(1);
    s.close();
  });

  it('measures its limit in bytes and in messages', () => {
    const s = openSpool(path(), { maxBytes: 100, maxMessages: 3 });
    expect(s.fits(1, 100)).toBe(true);
    expect(s.fits(1, 101)).toBe(false);
    s.append([{ receivedAt: 1, lines: ['x'.repeat(40)] }, { receivedAt: 1, lines: ['y'] }]);
    expect(s.fill()).toBeCloseTo(2 / 3);
    expect(s.fits(2, 1)).toBe(false);
    expect(s.fits(1, 1)).toBe(true);
    s.close();
  });

  it('sets a refused message aside and forgets old redelivery keys', () => {
    const s = openSpool(path(), { maxBytes: 1e6 });
    s.append([{ receivedAt: 10, lines: ['bad 1'], dedupeKey: Buffer.from('old') }, { receivedAt: 20_000, lines: ['good 2'], dedupeKey: Buffer.from('new') }]);
    const head = s.head(10)!;
    s.refuse(head.rows[0], 'HTTP 400: field type conflict', 99);
    expect(s.stats()).toMatchObject({ messages: 1, points: 1, refused: 1 });
    expect(s.prune(1000)).toBe(1);
    expect(s.seen(Buffer.from('old'))).toBe(false);
    expect(s.seen(Buffer.from('new'))).toBe(true);
    s.close();
  });
});
