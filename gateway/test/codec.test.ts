import { describe, expect, it } from 'vitest';
import { DATA_TYPES, WORD_ORDERS, decodeRegisters, encodeRegisters, scaleValue, type DataType, type WordOrder } from '../codec.ts';

// Wire bytes written by hand from the big-endian bytes A B C D (E F G H) of each value, per the
// order names of vendor manuals; they do not come from our encoder.
const hex = (s: string) => Buffer.from(s.replace(/\s/g, ''), 'hex');
const VECTORS: { type: DataType; value: number; wire: Record<WordOrder, string> }[] = [
  // 123.456 = 0x42F6E979
  { type: 'float32', value: Math.fround(123.456), wire: { ABCD: '42F6 E979', CDAB: 'E979 42F6', BADC: 'F642 79E9', DCBA: '79E9 F642' } },
  // -123456789 = 0xF8A432EB
  { type: 'int32', value: -123456789, wire: { ABCD: 'F8A4 32EB', CDAB: '32EB F8A4', BADC: 'A4F8 EB32', DCBA: 'EB32 A4F8' } },
  // 3000000000 = 0xB2D05E00
  { type: 'uint32', value: 3000000000, wire: { ABCD: 'B2D0 5E00', CDAB: '5E00 B2D0', BADC: 'D0B2 005E', DCBA: '005E D0B2' } },
  // 1234.5678 = 0x40934A456D5CFAAD
  {
    type: 'float64',
    value: 1234.5678,
    wire: { ABCD: '4093 4A45 6D5C FAAD', CDAB: 'FAAD 6D5C 4A45 4093', BADC: '9340 454A 5C6D ADFA', DCBA: 'ADFA 5C6D 454A 9340' },
  },
  // -1234 = 0xFB2E: 16-bit values only know the byte order
  { type: 'int16', value: -1234, wire: { ABCD: 'FB2E', CDAB: 'FB2E', BADC: '2EFB', DCBA: '2EFB' } },
  // 54321 = 0xD431
  { type: 'uint16', value: 54321, wire: { ABCD: 'D431', CDAB: 'D431', BADC: '31D4', DCBA: '31D4' } },
];

describe('register decoding', () => {
  for (const v of VECTORS) {
    for (const order of WORD_ORDERS) {
      it(`${v.type} ${order}`, () => {
        expect(decodeRegisters(hex(v.wire[order]), v.type, order)).toBe(v.value);
        expect(encodeRegisters(v.value, v.type as Exclude<DataType, 'bit'>, order).toString('hex').toUpperCase()).toBe(v.wire[order].replace(/\s/g, ''));
      });
    }
  }

  it('covers every data type', () => {
    expect(new Set([...VECTORS.map((v) => v.type), 'bit'])).toEqual(new Set(DATA_TYPES));
  });

  it('reads single bits of a word, bit 0 being the least significant', () => {
    const word = hex('8005'); // bits 15, 2 and 0
    const set = Array.from({ length: 16 }, (_, b) => decodeRegisters(word, 'bit', 'ABCD', b));
    expect(set.flatMap((v, b) => (v ? [b] : []))).toEqual([0, 2, 15]);
    // A byte-swapped device sends 05 80 for the same word
    expect(decodeRegisters(hex('0580'), 'bit', 'BADC', 15)).toBe(1);
  });

  it('refuses data of the wrong length', () => {
    expect(() => decodeRegisters(hex('0001'), 'float32', 'ABCD')).toThrow(RangeError);
  });

  it('round-trips random values through every type and order', () => {
    for (let i = 0; i < 200; i++) {
      for (const order of WORD_ORDERS) {
        const i32 = Math.floor((Math.random() - 0.5) * 2 ** 32);
        expect(decodeRegisters(encodeRegisters(i32, 'int32', order), 'int32', order)).toBe(i32);
        const f = (Math.random() - 0.5) * 1e6;
        expect(decodeRegisters(encodeRegisters(f, 'float64', order), 'float64', order)).toBe(f);
        expect(decodeRegisters(encodeRegisters(f, 'float32', order), 'float32', order)).toBe(Math.fround(f));
      }
    }
  });

  it('keeps NaN of a float register (a gas channel in fault) as NaN', () => {
    expect(decodeRegisters(hex('7FC0 0000'), 'float32', 'ABCD')).toBeNaN();
  });

  it('scales integers without binary noise', () => {
    expect(scaleValue(123, 0.1)).toBe(12.3);
    expect(scaleValue(12346, 0.001)).toBe(12.346);
    expect(scaleValue(-40, 1, 273.15)).toBeCloseTo(233.15, 10);
  });
});
