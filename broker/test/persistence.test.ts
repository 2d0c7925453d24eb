// persistence: level keeps QoS 1 sessions, their queued messages and retained messages across a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestBroker } from '../../test/support/broker.ts';
import { freePort, waitFor } from '../../test/support/net.ts';
import type { IClientOptions } from 'mqtt';
import { collect, connect, connectCollecting, subscribe, type Received } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'hazwatch-persist-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Regression: with level, retained messages (and, under load, other messages) never reached subscribers
// already connected: aedes dropped a message that a faster one had overtaken while the persistence stored
// it (broker/delivery.ts). The same assertions run against memory.
describe.each(['memory', 'level'] as const)('live delivery with %s persistence', (persistence) => {
  /** A gateway publishes 500 QoS 1 messages, every other one a retained status. */
  async function publishMix(url: string, gateway: IClientOptions): Promise<void> {
    const publisher = await connect(url, gateway);
    const sent: Promise<unknown>[] = [];
    for (let i = 0; i < 500; i++) {
      const retain = i % 2 === 0;
      const topic = retain ? `hw/v1/demo/dev-${i}/status` : `hw/v1/demo/dev-${i}/telemetry`;
      const payload = retain ? JSON.stringify({ state: 'online', ts: i }) : JSON.stringify({ ts: i, metrics: { level: i } });
      sent.push(publisher.publishAsync(topic, payload, { qos: 1, retain }));
    }
    await Promise.all(sent);
    await publisher.endAsync();
  }

  function expectEachOnce(got: Received[]): void {
    expect(got).toHaveLength(500);
    expect(new Set(got.map((m) => m.topic)).size).toBe(500);
    expect(got.filter((m) => m.topic.endsWith('/status'))).toHaveLength(250);
  }

  it('forwards retained and non-retained messages to a connected clean-session subscriber', async () => {
    const tb = await startTestBroker({ broker: { persistence } });
    try {
      const live = await connect(tb.url, { ...tb.service, clean: true });
      const got = collect(live);
      expect(await subscribe(live, 'hw/v1/demo/+/+')).toEqual([1]);
      await publishMix(tb.url, await tb.registry.addGateway('demo', 'gw1'));
      await waitFor(() => got.length >= 500);
      expectEachOnce(got);

      // The retained store is right too: a later subscriber gets the 250 status messages.
      const late = await connect(tb.url, { ...tb.service, clientId: 'svc:test:late' });
      const lateGot = collect(late);
      await subscribe(late, 'hw/v1/demo/+/status');
      await waitFor(() => lateGot.length >= 250);
      expect(lateGot.every((m) => m.retain)).toBe(true);
      await Promise.all([live.endAsync(), late.endAsync()]);
    } finally {
      await tb.close();
    }
  });

  it('forwards each message once to a persistent session with overlapping filters', async () => {
    // Unfixed, aedes also broke this with memory: the copy it dropped for the second filter cleared the
    // queued original, and the session was closed with "no such packet".
    const tb = await startTestBroker({ broker: { persistence } });
    try {
      const queued = await connect(tb.url, { ...tb.service, clientId: 'svc:test:queued', clean: false });
      const got = collect(queued);
      expect(await subscribe(queued, ['hw/v1/demo/+/+', 'hw/v1/demo/+/status'])).toEqual([1, 1]);
      await publishMix(tb.url, await tb.registry.addGateway('demo', 'gw1'));
      await waitFor(() => got.length >= 500);
      // Let a late duplicate show up, if any.
      await new Promise((r) => setTimeout(r, 200));
      expectEachOnce(got);
      expect(queued.connected).toBe(true);
      await queued.endAsync();
    } finally {
      await tb.close();
    }
  });
});

describe('level persistence', () => {
  it('delivers QoS 1 messages queued for an offline persistent session after a broker restart', async () => {
    const port = await freePort();
    const options = { dataDir: dir, broker: { port, persistence: 'level' as const } };
    let tb = await startTestBroker(options);
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'pump-01', class: 'fire_water' });

    // The device subscribes with a persistent session, then goes away.
    const device = await connect(tb.url, { ...creds, clean: false });
    expect(await subscribe(device, 'hw/v1/acme/pump-01/command')).toEqual([1]);
    await device.endAsync();

    // While it is away, the platform sends it a command, and the broker restarts.
    const svc = await connect(tb.url, tb.service);
    await svc.publishAsync('hw/v1/acme/pump-01/command', '{"do":"start"}', { qos: 1 });
    await svc.endAsync();
    await tb.close();

    tb = await startTestBroker(options);
    try {
      // The retained status survived: offline, published by the broker when the device left.
      const reader = await connect(tb.url, tb.service);
      const statuses = collect(reader);
      await subscribe(reader, 'hw/v1/acme/pump-01/status');
      await waitFor(() => statuses.length > 0);
      expect(statuses[0]).toMatchObject({ retain: true, payload: expect.stringContaining('"state":"offline"') });
      await reader.endAsync();

      // The session survived: no new SUBSCRIBE, and the queued command arrives.
      const { client: back, received: got } = await connectCollecting(tb.url, { ...creds, clean: false });
      await waitFor(() => got.length > 0);
      expect(got[0]).toMatchObject({ topic: 'hw/v1/acme/pump-01/command', payload: '{"do":"start"}' });
      await back.endAsync();
    } finally {
      await tb.close();
    }
  });
});

// [MQTT-3.3.1-1]: a message the subscriber received but did not acknowledge comes again, after its
// reconnect, with DUP 1; one queued while it was away comes with DUP 0 (broker/delivery.ts). A raw
// socket stands in for the subscriber, because mqtt.js always acknowledges.
describe.each(['memory', 'level'] as const)('redelivery to a persistent session with %s persistence', (persistence) => {
  it('sets DUP on what was sent but not acknowledged, not on what was queued', async () => {
    const { connect: rawConnect } = await import('node:net');
    const mqttPacket = (await import('mqtt-packet')).default;
    const tb = await startTestBroker({ broker: { persistence } });
    const publishes: { topic: string; dup: boolean; messageId?: number }[][] = [];
    let subacked = false;
    const session = async (ack: boolean) => {
      const socket = rawConnect(tb.port, '127.0.0.1');
      const parser = mqttPacket.parser();
      const got: { topic: string; dup: boolean; messageId?: number }[] = [];
      publishes.push(got);
      let connack = false;
      parser.on('packet', (p) => {
        if (p.cmd === 'connack') connack = true;
        if (p.cmd === 'suback') subacked = true;
        if (p.cmd === 'publish') {
          got.push({ topic: p.topic, dup: p.dup, messageId: p.messageId });
          if (ack) socket.write(mqttPacket.generate({ cmd: 'puback', messageId: p.messageId! }));
        }
      });
      socket.on('data', (d) => parser.parse(d));
      socket.write(mqttPacket.generate({ cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clean: false, clientId: `${tb.service.clientId}:raw`, keepalive: 60, username: tb.service.username, password: Buffer.from(tb.service.password) }));
      await waitFor(() => connack);
      return { socket, got };
    };
    try {
      const first = await session(false);
      first.socket.write(mqttPacket.generate({ cmd: 'subscribe', messageId: 1, subscriptions: [{ topic: 'hw/v1/demo/+/telemetry', qos: 1 }] }));
      const gateway = await tb.registry.addGateway('demo', 'gw-dup');
      const publisher = await connect(tb.url, gateway);
      await waitFor(() => subacked);
      await publisher.publishAsync('hw/v1/demo/sent/telemetry', '{}', { qos: 1 });
      await waitFor(() => first.got.length === 1);
      first.socket.destroy();
      await waitFor(() => tb.broker.aedes.connectedClients <= 1);
      await publisher.publishAsync('hw/v1/demo/queued/telemetry', '{}', { qos: 1 });
      await publisher.endAsync();

      const second = await session(true);
      await waitFor(() => second.got.some((p) => p.topic.endsWith('/queued/telemetry')));
      expect(first.got.map((p) => `${p.topic} dup=${p.dup}`)).toEqual(['hw/v1/demo/sent/telemetry dup=false']);
      expect(second.got.map((p) => `${p.topic} dup=${p.dup}`)).toEqual(['hw/v1/demo/sent/telemetry dup=true', 'hw/v1/demo/queued/telemetry dup=false']);
      second.socket.destroy();
    } finally {
      await tb.close();
    }
  });
});
