// rules/ack-gate.ts against the real broker over TCP: a message whose consequences are not yet written
// is not acknowledged, so a subscriber that dies then gets it again on its persistent session; once
// written, its PUBACK goes and the broker forgets it. The "crash" is the subscriber's socket destroyed
// without a DISCONNECT; what is outstanding is a promise the test resolves.
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { connectCollecting } from '../../test/support/mqtt.ts';
import { waitFor } from '../../test/support/net.ts';
import { gateAcks } from '../ack-gate.ts';
import { device } from './support.ts';

let broker: TestBroker;
const open: MqttClient[] = [];
beforeAll(async () => {
  broker = await startTestBroker();
});
afterAll(async () => {
  for (const c of open) c.end(true);
  await broker?.close();
});

async function subscriber(clientId: string): Promise<{ client: MqttClient; lels: () => number[] }> {
  // Listening before the CONNACK: the broker may send the session's queued messages in the same write.
  const { client, received } = await connectCollecting(broker.url, { ...broker.service, clientId, clean: false });
  open.push(client);
  await client.subscribeAsync('hw/v1/acme/+/telemetry', { qos: 1 });
  return { client, lels: () => received.map((r) => (JSON.parse(r.payload) as { values: { lel: number } }).values.lel) };
}

it('holds the PUBACK of a message until what it changed is written, and those behind it; a crash meanwhile gets them again', async () => {
  const clientId = `${broker.service.clientId}:gate`;
  const first = await subscriber(clientId);
  let release!: () => void;
  const write = new Promise<void>((r) => (release = r));
  // Readings of 50 and more "change something" that is written when the test says so.
  let outstanding: Promise<void> | undefined;
  const evaluate = (_t: string, payload: Buffer) => {
    if ((JSON.parse(payload.toString()) as { values: { lel: number } }).values.lel >= 50) outstanding = write;
  };
  const gate = gateAcks(first.client, evaluate, () => outstanding);
  const gas = await device(broker, { enterprise: 'acme', id: 'gate-1', class: 'gas_combustible' });
  for (const lel of [1, 60, 2]) await gas.send('telemetry', { values: { lel } });
  await waitFor(() => first.lels().length === 3);
  // The message after the held one was handled at once; only its PUBACK waits, in order [MQTT-4.6.0-2].
  expect(first.lels()).toEqual([1, 60, 2]);
  expect(gate.held()).toBe(2);

  first.client.stream.destroy();
  await waitFor(() => !first.client.connected);
  first.client.end(true);
  release();
  const second = await subscriber(clientId);
  await waitFor(() => second.lels().length === 2);
  expect(second.lels()).toEqual([60, 2]);

  // Written before the crash this time: acknowledged, and not delivered again.
  const gate2 = gateAcks(second.client, () => undefined, () => outstanding);
  let release2!: () => void;
  outstanding = new Promise<void>((r) => (release2 = r));
  await gas.send('telemetry', { values: { lel: 3 } });
  await waitFor(() => second.lels().length === 3);
  expect(gate2.held()).toBe(1);
  outstanding = undefined;
  release2();
  await waitFor(() => gate2.held() === 0);
  await new Promise((r) => setTimeout(r, 100));
  second.client.stream.destroy();
  await waitFor(() => !second.client.connected);
  second.client.end(true);
  const third = await subscriber(clientId);
  await new Promise((r) => setTimeout(r, 300));
  expect(third.lels()).toEqual([]);
});
