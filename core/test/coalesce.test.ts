// Gathered socket writes over real TCP: merged into one write per loop turn, and never lost to a close
// in the same turn (aedes writes a refused CONNACK, then destroys the socket [MQTT-3.2.2-5]).
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import mqttPacket from 'mqtt-packet';
import { coalesceWrites } from '../coalesce.ts';

const closers: (() => void)[] = [];
afterEach(() => closers.splice(0).forEach((c) => c()));

/** A server socket with gathered writes, and everything its peer receives until the close. */
async function pair(): Promise<{ server: Socket; client: Socket; received: Promise<string>; writes: () => number }> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  closers.push(() => srv.close());
  const client = connect((srv.address() as { port: number }).port, '127.0.0.1');
  closers.push(() => client.destroy());
  const [server] = (await once(srv, 'connection')) as [Socket];
  let writes = 0;
  const writev = (server as unknown as { _writev: (...a: unknown[]) => unknown })._writev;
  const write = (server as unknown as { _write: (...a: unknown[]) => unknown })._write;
  Object.assign(server, {
    _writev: (...a: unknown[]) => (writes++, writev.apply(server, a)),
    _write: (...a: unknown[]) => (writes++, write.apply(server, a)),
  });
  coalesceWrites(server);
  let data = '';
  client.on('data', (d) => (data += d.toString()));
  const received = new Promise<string>((resolve) => client.on('close', () => resolve(data)));
  return { server, client, received, writes: () => writes };
}

it('sends the packets written in one loop turn with one write', async () => {
  const p = await pair();
  for (const s of ['a', 'b', 'c']) p.server.write(s);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  expect(p.writes()).toBe(1);
  p.server.end();
  expect(await p.received).toBe('abc');
});

it('sends what was written before a destroy in the same turn', async () => {
  const p = await pair();
  p.server.write('CONNACK');
  p.server.destroy();
  expect(await p.received).toBe('CONNACK');
});

it('keeps the order of gathered bytes, writes with a callback, large buffers and strings and the last chunk of end', async () => {
  const p = await pair();
  p.server.write('a');
  p.server.write(Buffer.from('b'));
  await new Promise<void>((resolve) => p.server.write('c', () => resolve()));
  p.server.write('d');
  p.server.write(Buffer.alloc(20_000, 'e'));
  p.server.write('f', 'utf8');
  p.server.write('68'.repeat(20_000), 'hex'); // large, passed on in its encoding
  p.server.write('69', 'hex');
  p.server.end('g');
  expect(await p.received).toBe(`abcd${'e'.repeat(20_000)}f${'h'.repeat(20_000)}ig`);
});

it('answers false once the socket holds back what is gathered, and a drain follows', async () => {
  const p = await pair();
  p.client.pause();
  const chunk = Buffer.alloc(1024, 'x');
  let accepted = 0;
  // All in one turn: without the check every write would answer true until the turn ends (the cap).
  while (accepted < 200_000 && p.server.write(chunk)) accepted++;
  expect(accepted).toBeLessThan(200_000);
  const drained = once(p.server, 'drain');
  p.client.resume();
  await drained;
  p.server.end();
  expect((await p.received).length).toBe((accepted + 1) * chunk.length);
});

it("writes mqtt-packet's packets with one write and without mqtt-packet's cork for every packet", async () => {
  const p = await pair();
  const packets = [
    { cmd: 'publish' as const, topic: 'hw/v1/e/d/telemetry', payload: Buffer.from('{"values":{"lel":4}}'), qos: 1 as const, messageId: 7, retain: false, dup: false },
    { cmd: 'puback' as const, messageId: 7 },
    { cmd: 'publish' as const, topic: 'hw/v1/e/d/telemetry', payload: Buffer.from('{"values":{"lel":5}}'), qos: 1 as const, messageId: 8, retain: false, dup: false },
  ];
  for (const packet of packets) mqttPacket.writeToStream(packet, p.server);
  // mqtt-packet corks a stream that has `cork` once per packet until the next tick.
  expect(p.server.writableCorked).toBe(0);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  expect(p.writes()).toBe(1);
  p.server.end();
  expect(await p.received).toBe(Buffer.concat(packets.map((packet) => mqttPacket.generate(packet))).toString());
});
