// In-place reads of bl's BufferLists (core/buffer-list-reads.ts) against bl's own methods, kept from
// before the patch: every fixed-width read and toString, at every offset (and some that are no offset),
// on lists of the same bytes cut at every place, give the same value or the same error. Then: reads
// inside one buffer no longer copy, and mqtt-packet parses a stream cut anywhere as before.
// (Each test file runs in its own process, so the patch stays in this one.)
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { FIXED_WIDTH_READS, readBufferListsInPlace } from '../buffer-list-reads.ts';

// The bl that mqtt-packet requires, as readBufferListsInPlace finds it.
const require = createRequire(createRequire(import.meta.url).resolve('mqtt-packet'));
type Proto = Record<string, (...args: unknown[]) => unknown>;
interface List {
  [method: string]: (...args: unknown[]) => unknown;
  toString(...args: unknown[]): string;
}
interface Bl {
  (bufs?: Buffer[]): List;
  prototype: Proto;
  BufferList: { new (bufs?: Buffer[]): List; prototype: Proto };
}
const bl = require('bl') as Bl;
const NAMES = [...Object.keys(FIXED_WIDTH_READS), 'toString'];
const original = { stream: {} as Proto, list: {} as Proto };
for (const name of NAMES) {
  original.stream[name] = bl.prototype[name];
  original.list[name] = bl.BufferList.prototype[name];
}

beforeAll(() => {
  readBufferListsInPlace(import.meta.url);
  readBufferListsInPlace(import.meta.url); // twice: patched once
});

function outcome(fn: () => unknown): unknown {
  try {
    return { value: fn() };
  } catch (err) {
    return { error: (err as Error).constructor.name, message: (err as Error).message };
  }
}

/** Every way to cut `bytes` into at most three pieces (empty pieces included: bl keeps them). */
function cuts(bytes: Buffer): Buffer[][] {
  const out: Buffer[][] = [];
  for (let a = 0; a <= bytes.length; a++)
    for (let b = a; b <= bytes.length; b++) out.push([bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)].filter((p, i) => p.length > 0 || i === 1));
  return out;
}

// Bytes that make every kind of value: a multi-byte UTF-8 character, negative integers, NaN and infinities as floats.
const BYTES = Buffer.concat([Buffer.from('a€z', 'utf8'), Buffer.from([0xff, 0x80, 0x7f, 0x00, 0x7f, 0xf0, 0x00, 0x00, 0xff, 0xc0])]);
// Not a fractional offset: bl itself answers those from uninitialized memory (Buffer.allocUnsafe), and the patch leaves them to bl.
const OFFSETS: unknown[] = [undefined, -1, ...Array.from({ length: BYTES.length + 3 }, (_, i) => i)];

describe('bl reads in place', () => {
  it('is installed on the bl that mqtt-packet uses, on both prototypes', () => {
    for (const name of NAMES) {
      expect(bl.prototype[name]).not.toBe(original.stream[name]);
      expect(bl.BufferList.prototype[name]).not.toBe(original.list[name]);
    }
  });

  it('answers every fixed-width read as bl does, at every offset of lists cut at every place', () => {
    let compared = 0;
    for (const bufs of cuts(BYTES)) {
      const list = bl(bufs);
      const plain = new bl.BufferList(bufs);
      for (const name of Object.keys(FIXED_WIDTH_READS)) {
        for (const offset of OFFSETS) {
          const args = offset === undefined ? [] : [offset];
          expect(outcome(() => list[name](...args)), `${name}(${String(offset)}) of ${bufs.map((b) => b.length)}`).toEqual(outcome(() => original.stream[name].apply(list, args)));
          expect(outcome(() => plain[name](...args))).toEqual(outcome(() => original.list[name].apply(plain, args)));
          compared++;
        }
      }
    }
    expect(compared).toBeGreaterThan(10_000);
  });

  it('answers toString as bl does, for every range and encoding', () => {
    const bounds: unknown[] = [undefined, -2, 1.5, ...Array.from({ length: BYTES.length + 2 }, (_, i) => i)];
    for (const bufs of cuts(BYTES)) {
      const list = bl(bufs);
      for (const encoding of [undefined, 'utf8', 'hex', 'latin1'])
        for (const start of bounds)
          for (const end of bounds)
            expect(outcome(() => list.toString(encoding, start, end)), `${encoding} ${String(start)}..${String(end)} of ${bufs.map((b) => b.length)}`).toEqual(
              outcome(() => Reflect.apply(original.stream.toString, list, [encoding, start, end])),
            );
    }
  });

  it('reads inside one buffer without copying; across two buffers through bl', () => {
    const list = bl([Buffer.from([1, 2, 3]), Buffer.from([4, 5])]);
    const copy = bl.prototype.copy;
    let copies = 0;
    list.copy = function (this: unknown, ...args: unknown[]) {
      copies++;
      return copy.apply(this, args);
    };
    expect([list.readUInt8(0), list.readUInt16BE(1), list.readUInt8(4), list.toString('hex', 3, 5)]).toEqual([1, 0x0203, 5, '0405']);
    expect(copies).toBe(0);
    expect([list.readUInt16BE(2), list.toString('hex', 2, 4)]).toEqual([0x0304, '0304']);
    expect(copies).toBe(2);
  });

  it('lets mqtt-packet parse a stream cut at any byte as one given whole', () => {
    const mqtt = require('mqtt-packet') as typeof import('mqtt-packet');
    const packets = [
      mqtt.generate({ cmd: 'publish', topic: 'hw/v1/ent-1/GD-0001/telemetry', payload: Buffer.from('{"ts":1,"values":{"lel":12.5}}'), qos: 1, messageId: 4660, retain: false, dup: false }),
      mqtt.generate({ cmd: 'puback', messageId: 65535 }),
      mqtt.generate({ cmd: 'publish', topic: 'hw/v1/企业/设备/telemetry', payload: Buffer.alloc(300, 7), qos: 0, retain: false, dup: false }),
      mqtt.generate({ cmd: 'pingreq' }),
    ];
    const stream = Buffer.concat(packets);
    const parseAll = (chunks: Buffer[]) => {
      const parser = mqtt.parser();
      const out: unknown[] = [];
      parser.on('packet', (p) => out.push(p));
      parser.on('error', (e) => out.push(e.message));
      for (const c of chunks) parser.parse(c);
      return out;
    };
    const whole = parseAll([stream]);
    expect(whole.map((p) => (p as { cmd: string }).cmd)).toEqual(['publish', 'puback', 'publish', 'pingreq']);
    expect((whole[2] as { topic: string }).topic).toBe('hw/v1/企业/设备/telemetry');
    for (let at = 1; at < stream.length; at++) expect(parseAll([stream.subarray(0, at), stream.subarray(at)])).toEqual(whole);
    // Byte by byte: every field read across buffers.
    expect(parseAll([...stream].map((b) => Buffer.from([b])))).toEqual(whole);
  });
});
