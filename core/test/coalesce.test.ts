// Write coalescing (core/coalesce.ts) on real sockets: writes of one loop turn are held in the corked
// socket until the turn ends, unless flushed; an mqtt.js client's alarm goes out on flush (and the
// next tick, where mqtt-packet uncorks its own), before any setImmediate could run (the turn may be hundreds of milliseconds long under a backlog).
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { coalesceClientWrites, coalesceWrites } from '../coalesce.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { connect, collect, subscribe } from '../../broker/test/helpers.ts';
import { waitFor } from '../../test/support/net.ts';

let server: Server;
let port: number;
const received: Buffer[] = [];
let broker: TestBroker;

beforeAll(async () => {
  server = createServer((s) => s.on('data', (d) => received.push(d)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as { port: number }).port;
  broker = await startTestBroker();
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  await broker?.close();
});

it('holds the writes of a turn until it ends, and hands them to the kernel at once when flushed', async () => {
  const socket: Socket = createConnection({ host: '127.0.0.1', port });
  await new Promise<void>((r) => socket.once('connect', r));
  const flush = coalesceWrites(socket);
  socket.write('a');
  socket.write('b');
  expect(socket.writableCorked).toBe(1);
  expect(socket.writableLength).toBe(2);
  flush();
  expect(socket.writableCorked).toBe(0);
  expect(socket.writableLength).toBe(0);
  // The next write of the turn is held again; the turn's end releases it without a flush.
  socket.write('c');
  expect(socket.writableCorked).toBe(1);
  await new Promise((r) => setImmediate(r));
  expect(socket.writableCorked).toBe(0);
  await waitFor(() => Buffer.concat(received).toString() === 'abc');
  socket.destroy();
});

it("sends an mqtt.js client's QoS 1 publish on flush, within the same turn", async () => {
  const client = await connect(broker.url, { ...broker.service, clientId: `${broker.service.clientId}:pub` });
  const watcher = await connect(broker.url, { ...broker.service, clientId: `${broker.service.clientId}:sub` });
  const got = collect(watcher);
  await subscribe(watcher, 'hw/v1/acme/gas-1/alarm');
  const writes = coalesceClientWrites(client);
  // The wrapper is installed on 'connect': the client connected before it, so reconnect once.
  client.reconnect();
  await new Promise<void>((r) => client.once('connect', () => r()));
  await new Promise((r) => setImmediate(r));
  const stream = client.stream as Socket;
  let turnEnded = false;
  setImmediate(() => (turnEnded = true));
  void client.publishAsync('hw/v1/acme/gas-1/alarm', 'x', { qos: 1 });
  // Ours, and mqtt-packet's own cork until the next tick.
  expect(stream.writableCorked).toBe(2);
  expect(stream.writableLength).toBeGreaterThan(0);
  writes.flush();
  await new Promise((r) => process.nextTick(r));
  expect(stream.writableCorked).toBe(0);
  expect(stream.writableLength).toBe(0);
  expect(turnEnded).toBe(false);
  await waitFor(() => got.length === 1);
  await Promise.all([client.endAsync(), watcher.endAsync()]);
});
