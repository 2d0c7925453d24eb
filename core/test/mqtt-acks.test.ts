// The PUBACK writer: what it writes is what mqtt-packet parses as PUBACKs, in order, one write per loop turn.
import { PassThrough } from 'node:stream';
import mqttPacket from 'mqtt-packet';
import { describe, expect, it } from 'vitest';
import { pubackWriter } from '../mqtt-acks.ts';

function recorder() {
  const stream = new PassThrough();
  const writes: Buffer[] = [];
  const write = stream.write.bind(stream);
  stream.write = ((chunk: Buffer) => {
    writes.push(Buffer.from(chunk));
    return write(chunk);
  }) as typeof stream.write;
  const parsed = () => {
    const parser = mqttPacket.parser();
    const packets: { cmd: string; messageId?: number }[] = [];
    parser.on('packet', (p) => packets.push({ cmd: p.cmd, messageId: (p as { messageId?: number }).messageId }));
    for (const w of writes) parser.parse(w);
    return packets;
  };
  return { stream, writes, parsed };
}

const tick = () => new Promise((r) => process.nextTick(r));
const turn = () => new Promise((r) => setImmediate(r));

describe('pubackWriter', () => {
  it('writes the PUBACKs of one loop turn as one buffer, in the order they were given [MQTT-4.6.0-2]', async () => {
    const r = recorder();
    const acks = pubackWriter();
    for (const id of [1, 65535]) acks.add(r.stream, id);
    // mqtt.js hands each message its own tick: those still belong to the same turn.
    await tick();
    for (const id of [256, 7]) acks.add(r.stream, id);
    await tick();
    expect(r.writes).toHaveLength(0);
    await turn();
    expect(r.writes).toHaveLength(1);
    expect(r.parsed()).toEqual([1, 65535, 256, 7].map((messageId) => ({ cmd: 'puback', messageId })));
    acks.add(r.stream, 9);
    await turn();
    expect(r.writes).toHaveLength(2);
    expect(r.parsed().at(-1)).toEqual({ cmd: 'puback', messageId: 9 });
  });

  it('never writes a PUBACK on another stream than its own, nor on a destroyed one', async () => {
    const a = recorder();
    const b = recorder();
    const acks = pubackWriter();
    acks.add(a.stream, 1);
    acks.add(b.stream, 2);
    acks.add(b.stream, 3);
    await turn();
    expect(a.parsed()).toEqual([{ cmd: 'puback', messageId: 1 }]);
    expect(b.parsed()).toEqual([2, 3].map((messageId) => ({ cmd: 'puback', messageId })));
    acks.add(a.stream, 4);
    a.stream.destroy();
    await turn();
    expect(a.parsed()).toHaveLength(1);
  });
});
