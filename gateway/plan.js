// Read planning: neighbouring values of one table are read with as few requests as possible. Two values
// join one request when the unused registers between them are at most `maxGap` and the request stays
// within the protocol limit (125 registers, 2000 bits: Modbus Application Protocol V1.1b3, 6.1-6.4).
// Gaps are capped because reading unmapped registers may raise "illegal data address" on some devices.
import { isBitTable } from './map.ts';
export function planReads(spans, limits) {
    const requests = [];
    const byTable = new Map();
    for (const span of spans) {
        const list = byTable.get(span.table) ?? [];
        list.push(span);
        byTable.set(span.table, list);
    }
    for (const [table, list] of byTable) {
        const bits = isBitTable(table);
        const max = bits ? limits.maxBits : limits.maxRegisters;
        // A gap of one register is worth 16 bits of coils in bytes on the wire.
        const gap = bits ? limits.maxGap * 16 : limits.maxGap;
        list.sort((a, b) => a.address - b.address || b.width - a.width);
        let current;
        for (const span of list) {
            if (span.width > max)
                throw new RangeError(`value at ${table} ${span.address} is wider than one request`);
            if (current) {
                const end = current.address + current.count; // first address after the request
                const newEnd = Math.max(end, span.address + span.width);
                if (span.address - end <= gap && newEnd - current.address <= max) {
                    current.count = newEnd - current.address;
                    current.spans.push(span);
                    continue;
                }
            }
            current = { table, address: span.address, count: span.width, spans: [span] };
            requests.push(current);
        }
    }
    return requests;
}
