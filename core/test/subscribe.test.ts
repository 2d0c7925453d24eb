// subscribeWithDeadline against a fake broker that swallows the first SUBSCRIBE: a fault no real broker
// produces on demand (seen once on the Redis cluster). The client must drop that connection, connect
// again and get its subscription on the second one, with the answer reported once.
import { createServer, type Socket } from 'node:net';
import mqtt from 'mqtt';
import mqttPacket from 'mqtt-packet';
import { afterAll, expect, it } from 'vitest';
import { silentLogger } from '../log.ts';
import { subscribeWithDeadline } from '../subscribe.ts';

const sockets: Socket[] = [];
let connections = 0;
let subscribes = 0;
const server = createServer((socket) => {
  sockets.push(socket);
  connections++;
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  parser.on('packet', (p) => {
    if (p.cmd === 'connect') socket.write(mqttPacket.generate({ cmd: 'connack', returnCode: 0, sessionPresent: false }));
    // The first SUBSCRIBE is never answered; later ones are.
    if (p.cmd === 'subscribe' && ++subscribes > 1) socket.write(mqttPacket.generate({ cmd: 'suback', messageId: p.messageId, granted: p.subscriptions.map(() => 1) }));
  });
  socket.on('data', (d) => parser.parse(d));
  socket.on('error', () => {});
});
afterAll(() => {
  for (const s of sockets) s.destroy();
  server.close();
});

it('drops a connection whose SUBACK does not come in time, and subscribes again on the next one', async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 100, resubscribe: false });
  const answers: (number[] | undefined)[] = [];
  const warnings: string[] = [];
  const log = Object.assign(silentLogger(), { warn: (o: { code: string }) => warnings.push(o.code) }) as unknown as ReturnType<typeof silentLogger>;
  client.on('connect', () => subscribeWithDeadline(client, ['a/#', 'b/#'], log, (err, granted) => answers.push(err ? undefined : granted?.map((g) => g.qos)), 300));
  await new Promise<void>((resolve, reject) => {
    const t = setInterval(() => answers.length && (clearInterval(t), resolve()), 20);
    setTimeout(() => reject(new Error(`no answer; connections ${connections}, subscribes ${subscribes}`)), 5000);
  });
  await new Promise((r) => setTimeout(r, 400));
  expect(warnings).toEqual(['HW_ERR_SUBSCRIBE_TIMEOUT']);
  expect(connections).toBe(2);
  expect(answers).toEqual([[1, 1]]);
  client.end(true);
});
