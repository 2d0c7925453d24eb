import { fstatSync, fsync, statSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
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

  // A disk held slow by a replaced fsync (a real disk cannot be made slow on demand): the callbacks
  // wait for it, share it in order, and a commit made during an fsync waits for the next one.
  it('calls afterSync back only after an fsync that began after the commit, in order', () => {
    const syncs: ((err: Error | null) => void)[] = [];
    const s = openSpool(path(), { maxBytes: 1e6, fsync: (_fd, done) => syncs.push(done) });
    const order: string[] = [];
    s.append([{ receivedAt: 1, lines: ['m a=1 1'] }]);
    s.afterSync(() => order.push('a'));
    s.append([{ receivedAt: 2, lines: ['m a=2 2'] }]);
    s.afterSync(() => order.push('b'));
    s.afterSync(() => order.push('c'));
    expect(syncs).toHaveLength(1); // one in flight: b and c wait for the next
    expect(order).toEqual([]);
    syncs[0](null);
    expect(order).toEqual(['a']);
    expect(syncs).toHaveLength(2);
    syncs[1](null);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(s.stats().messages).toBe(2);
    s.close();
  });

  it('spaces fsyncs under load by syncEveryMs, the commits meanwhile sharing one; an idle spool syncs at once', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    try {
      const starts: number[] = [];
      const syncs: ((err: Error | null) => void)[] = [];
      const s = openSpool(path(), { maxBytes: 1e6, syncEveryMs: 5, fsync: (_fd, done) => (starts.push(performance.now()), syncs.push(done)) });
      const acked: string[] = [];
      const commit = (name: string) => {
        s.append([{ receivedAt: 1, lines: [`m ${name}=1 1`] }]);
        s.afterSync((err) => acked.push(err ? `${name}: ${err.message}` : name));
      };
      commit('a');
      expect(starts).toHaveLength(1); // idle: at once
      commit('b');
      vi.advanceTimersByTime(1);
      syncs[0](null); // the disk took 1 ms
      expect(acked).toEqual(['a']);
      commit('c');
      vi.advanceTimersByTime(3);
      expect(starts).toHaveLength(1); // b and c wait for 5 ms after the first start
      vi.advanceTimersByTime(1);
      expect(starts).toEqual([starts[0], starts[0] + 5]);
      syncs[1](null);
      expect(acked).toEqual(['a', 'b', 'c']);
      vi.advanceTimersByTime(100);
      commit('d');
      expect(starts).toHaveLength(3); // idle again: at once
      syncs[2](null);
      // Closed while one waits for its turn: refused, and no fsync on the closed file.
      commit('e');
      s.close();
      vi.advanceTimersByTime(10);
      expect(starts).toHaveLength(3);
      expect(acked).toEqual(['a', 'b', 'c', 'd', 'e: spool closed before its commit was synced']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('hands a failed fsync to its callers and refuses callbacks once closed', () => {
    const syncs: ((err: Error | null) => void)[] = [];
    const s = openSpool(path(), { maxBytes: 1e6, fsync: (_fd, done) => syncs.push(done) });
    const errors: (string | undefined)[] = [];
    s.append([{ receivedAt: 1, lines: ['m a=1 1'] }]);
    s.afterSync((err) => errors.push(err?.message));
    s.afterSync((err) => errors.push(err?.message));
    syncs[0](new Error('EIO'));
    expect(errors).toEqual(['EIO']);
    s.close(); // the second waits behind an fsync still running: refused once it returns
    syncs[1](null);
    expect(errors).toEqual(['EIO', undefined]);
    s.afterSync((err) => errors.push(err?.message));
    expect(errors[2]).toBe('spool closed');
  });

  it('fsyncs the WAL file itself, the one SQLite writes the commits to', async () => {
    const file = path();
    const synced: number[] = [];
    const s = openSpool(file, { maxBytes: 1e6, fsync: (fd, done) => { synced.push(fstatSync(fd).ino); fsync(fd, done); } });
    s.append([{ receivedAt: 1, lines: ['m a=1 1'] }]);
    const sizeAfterCommit = statSync(`${file}-wal`).size;
    await s.synced();
    expect(synced).toEqual([statSync(`${file}-wal`).ino]);
    expect(sizeAfterCommit).toBeGreaterThan(0); // the commit is in the WAL, which the fsync covers
    s.close();
  });

  it('answers afterSync at once with sync: normal', () => {
    const s = openSpool(path(), { maxBytes: 1e6, sync: 'normal' });
    let called = false;
    s.afterSync(() => (called = true));
    expect(called).toBe(true);
    s.close();
  });

  // The drain reads live rows from memory; this compares it, operation by operation, with a spool that
  // always reads its file (tailMaxRows 0), through appends, partial reads, removals, a refused row, an
  // overflow of the tail (a slow database) and its return once the spool is empty.
  it('numbers the messages of commits of any size in order, the same in its memory tail as in its file', () => {
    // Several rows per insert statement (32, 8, then one by one): sizes across those boundaries.
    const file = path();
    const a = openSpool(file, { maxBytes: 1e9 });
    let t = 0;
    for (const size of [1, 7, 8, 9, 31, 32, 33, 45, 64, 100, 2]) {
      a.append(Array.from({ length: size }, () => ({ receivedAt: ++t, lines: [`m v=${t}i`], ...(t % 5 === 0 ? { dedupeKey: Buffer.from(`k${t}`) } : {}) })));
    }
    const fromMemory = a.head(10_000)!;
    a.close();
    const b = openSpool(file, { maxBytes: 1e9 });
    const fromFile = b.head(10_000)!;
    expect(fromMemory).toEqual(fromFile);
    expect(fromFile.rows.map((r) => r.lines)).toEqual(Array.from({ length: t }, (_, i) => `m v=${i + 1}i`));
    expect(fromFile.rows.map((r) => r.seq)).toEqual(Array.from({ length: t }, (_, i) => fromFile.firstSeq + i));
    expect(b.seen(Buffer.from('k45'))).toBe(true);
    expect(b.seen(Buffer.from('k46'))).toBe(false);
    // Removing up to a sequence number removes exactly the messages before it.
    b.remove(fromFile.rows[99].seq);
    expect(b.stats()).toMatchObject({ messages: t - 100 });
    expect(b.head(1)!.rows[0].lines).toBe('m v=101i');
    b.close();
  });

  it('hands out the same batches and totals from its memory tail as from its file', () => {
    const memory = openSpool(path(), { maxBytes: 1e9, tailMaxRows: 40 });
    const file = openSpool(path(), { maxBytes: 1e9, tailMaxRows: 0 });
    let seed = 7;
    const random = (n: number) => ((seed = (seed * 48271) % 2147483647) % n);
    let t = 0;
    for (let step = 0; step < 400; step++) {
      const op = random(10);
      if (op < 5) {
        const entries = Array.from({ length: 1 + random(6) }, () => ({ receivedAt: ++t, lines: Array.from({ length: 1 + random(3) }, (_, i) => `m v=${t}i,k=${i}`) }));
        memory.append(entries);
        file.append(entries);
      } else {
        const max = 1 + random(12);
        const a = memory.head(max);
        expect(a).toEqual(file.head(max));
        if (a && op < 9) {
          const upTo = a.rows[random(a.rows.length)].seq;
          memory.remove(upTo);
          file.remove(upTo);
        } else if (a) {
          memory.refuse(a.rows[0], 'bad', t);
          file.refuse(a.rows[0], 'bad', t);
        }
      }
      expect(memory.stats()).toEqual(file.stats());
    }
    // Drained to the end: both empty, then live again.
    for (let b = memory.head(1000); b; b = memory.head(1000)) {
      memory.remove(b.lastSeq);
      file.remove(file.head(1000)!.lastSeq);
    }
    expect(memory.stats()).toEqual(file.stats());
    memory.append([{ receivedAt: ++t, lines: ['m v=1'] }]);
    file.append([{ receivedAt: t, lines: ['m v=1'] }]);
    expect(memory.head(10)).toEqual(file.head(10));
    memory.close();
    file.close();
  });
});
