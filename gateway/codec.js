// Register decoding: the bytes of one or more 16-bit registers, in the byte and word order of the vendor,
// into a number. Orders are named after the position of the bytes of a 32-bit big-endian value A B C D
// (A most significant) as they appear on the wire, the names vendor manuals and Modbus tools use:
//   ABCD  big-endian words, most significant word first (Modbus "standard", IEEE 754 as written)
//   CDAB  word swap: least significant word first (common on PLCs and gas controllers, "float inverse")
//   BADC  byte swap inside each word, most significant word first
//   DCBA  fully little-endian
// For 64-bit values the same rule applies to four words; for 16-bit values only the byte order counts
// (ABCD and CDAB read AB, BADC and DCBA read BA).
export const DATA_TYPES = ['int16', 'uint16', 'int32', 'uint32', 'float32', 'float64', 'bit'];
export const WORD_ORDERS = ['ABCD', 'CDAB', 'BADC', 'DCBA'];
/** Number of 16-bit registers a value of that type occupies. */
export function registerCount(type) {
    switch (type) {
        case 'int32':
        case 'uint32':
        case 'float32':
            return 2;
        case 'float64':
            return 4;
        default:
            return 1;
    }
}
/** Rearranges wire bytes of one value into big-endian (ABCD...) order; the input is not changed. */
export function toBigEndian(wire, order) {
    if (wire.length % 2 !== 0)
        throw new RangeError('register data must be a whole number of 16-bit registers');
    const out = Buffer.from(wire);
    if (order === 'BADC' || order === 'DCBA')
        out.swap16();
    if (order === 'CDAB' || order === 'DCBA') {
        // reverse the order of the words
        const words = out.length / 2;
        const copy = Buffer.from(out);
        for (let i = 0; i < words; i++)
            copy.copy(out, i * 2, (words - 1 - i) * 2, (words - i) * 2);
    }
    return out;
}
/** Inverse of toBigEndian: the register bytes a device using `order` sends for a big-endian value. */
export function fromBigEndian(big, order) {
    // Every order is its own inverse: a word reversal and a byte swap inside words commute and each undoes itself.
    return toBigEndian(big, order);
}
/**
 * Decodes a value of `type` from the register bytes `wire` (exactly registerCount(type) registers).
 * `bit` reads bit `bit` (0 = least significant) of a uint16 register.
 */
export function decodeRegisters(wire, type, order = 'ABCD', bit = 0) {
    const need = registerCount(type) * 2;
    if (wire.length !== need)
        throw new RangeError(`${type} needs ${need} bytes, got ${wire.length}`);
    const be = toBigEndian(wire, order);
    switch (type) {
        case 'int16':
            return be.readInt16BE(0);
        case 'uint16':
            return be.readUInt16BE(0);
        case 'int32':
            return be.readInt32BE(0);
        case 'uint32':
            return be.readUInt32BE(0);
        case 'float32':
            return be.readFloatBE(0);
        case 'float64':
            return be.readDoubleBE(0);
        case 'bit':
            return (be.readUInt16BE(0) >> bit) & 1;
    }
}
/** Encodes a value as a device using `order` would put it into its registers (used by the simulators). */
export function encodeRegisters(value, type, order = 'ABCD') {
    const be = Buffer.alloc(registerCount(type) * 2);
    switch (type) {
        case 'int16':
            be.writeInt16BE(clampInt(value, -0x8000, 0x7fff), 0);
            break;
        case 'uint16':
            be.writeUInt16BE(clampInt(value, 0, 0xffff), 0);
            break;
        case 'int32':
            be.writeInt32BE(clampInt(value, -0x80000000, 0x7fffffff), 0);
            break;
        case 'uint32':
            be.writeUInt32BE(clampInt(value, 0, 0xffffffff), 0);
            break;
        case 'float32':
            be.writeFloatBE(value, 0);
            break;
        case 'float64':
            be.writeDoubleBE(value, 0);
            break;
    }
    return fromBigEndian(be, order);
}
function clampInt(value, min, max) {
    return Math.min(max, Math.max(min, Math.round(value)));
}
/** Engineering value from a raw register value: raw × scale + offset. */
export function scaleValue(raw, scale = 1, offset = 0) {
    const v = raw * scale + offset;
    // Scaling an integer by 0.1 gives 12.300000000000001; round to what the register can carry.
    return Number.isInteger(raw) && !Number.isInteger(scale) ? Number(v.toPrecision(12)) : v;
}
