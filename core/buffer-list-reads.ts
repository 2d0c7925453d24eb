// mqtt-packet's parser keeps the bytes it has not parsed yet in a `bl` BufferList and reads every header
// field through it: `readUInt8`, `readUInt16BE`, `toString`. bl (6.x) answers each of those by slicing:
// an array for the position and a Buffer view of the bytes, then a read of that view. About ten
// short-lived objects for every PUBLISH parsed and six for every PUBACK, in the broker, ingest and rules
// alike: the largest source of the broker's garbage once its disabled `debug` calls were gone (16 % of
// what it allocated at 20,000 readings a second; docs/benchmarks.md, issue 18).
//
// Installed once by the process entry point (bin/hazwatch.js): when the bytes asked for lie in one of
// the list's buffers (nearly always: a socket chunk holds many packets), the read goes to that buffer
// in place; otherwise (bytes across two chunks, an offset out of range or not an integer) bl's own
// method answers, so results and errors are bl's. core/test/buffer-list-reads.test.ts compares the two
// on every offset of lists cut at every place.
import { createRequire } from 'node:module';

type Read = (this: Buffer, offset: number) => number | bigint;
type ToString = (this: Buffer, encoding?: BufferEncoding, start?: number, end?: number) => string;
interface BufferList {
  _bufs: Buffer[];
  length: number;
}
type Prototype = Record<string, unknown>;

const IN_PLACE = Symbol.for('hazwatch.bufferListReadsInPlace');

/** Fixed-width reads of Buffer that bl implements by slicing, with their widths in bytes. */
export const FIXED_WIDTH_READS: Readonly<Record<string, number>> = {
  readUInt8: 1, readInt8: 1,
  readUInt16BE: 2, readUInt16LE: 2, readInt16BE: 2, readInt16LE: 2,
  readUInt32BE: 4, readUInt32LE: 4, readInt32BE: 4, readInt32LE: 4, readFloatBE: 4, readFloatLE: 4,
  readDoubleBE: 8, readDoubleLE: 8,
  readBigUInt64BE: 8, readBigUInt64LE: 8, readBigInt64BE: 8, readBigInt64LE: 8,
};

function readInPlace(read: Read, width: number, fallback: (this: BufferList, offset?: number) => number | bigint) {
  return function (this: BufferList, offset = 0) {
    if ((offset | 0) === offset && offset >= 0) {
      const bufs = this._bufs;
      let local = offset;
      for (let i = 0; i < bufs.length; i++) {
        const buf = bufs[i];
        if (local < buf.length) {
          if (local + width <= buf.length) return read.call(buf, local);
          break;
        }
        local -= buf.length;
      }
    }
    return fallback.call(this, offset);
  };
}

function toStringInPlace(fallback: (this: BufferList, encoding?: BufferEncoding, start?: number, end?: number) => string) {
  const toString = Buffer.prototype.toString as ToString;
  return function (this: BufferList, encoding?: BufferEncoding, start?: number, end?: number) {
    if (typeof start === 'number' && typeof end === 'number' && (start | 0) === start && (end | 0) === end && start >= 0 && start < end && end <= this.length) {
      const bufs = this._bufs;
      let local = start;
      for (let i = 0; i < bufs.length; i++) {
        const buf = bufs[i];
        if (local < buf.length) {
          if (local + end - start <= buf.length) return toString.call(buf, encoding, local, local + end - start);
          break;
        }
        local -= buf.length;
      }
    }
    return fallback.call(this, encoding, start, end);
  };
}

function patch(proto: Prototype): void {
  if (proto[IN_PLACE as unknown as string]) return;
  for (const [name, width] of Object.entries(FIXED_WIDTH_READS)) {
    const fallback = proto[name];
    if (typeof fallback !== 'function') continue;
    proto[name] = readInPlace((Buffer.prototype as unknown as Record<string, Read>)[name], width, fallback as never);
  }
  proto.toString = toStringInPlace(proto.toString as never);
  Object.defineProperty(proto, IN_PLACE, { value: true });
}

/**
 * Makes the BufferLists of the `bl` that mqtt-packet (resolved from `from`) uses read in place.
 * Both prototypes are patched: bl copies BufferList's methods onto BufferListStream's, which is the one
 * mqtt-packet's parser uses.
 */
export function readBufferListsInPlace(from: string = import.meta.url): void {
  const mqttPacket = createRequire(from).resolve('mqtt-packet');
  const bl = createRequire(mqttPacket)('bl') as { prototype: Prototype; BufferList: { prototype: Prototype } };
  patch(bl.prototype);
  patch(bl.BufferList.prototype);
}
