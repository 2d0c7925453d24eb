// broker.allowAnonymous (`hazwatch broker --allow-anonymous`): clients without a user name get what a
// plain MQTT 3.1.1 broker gives (Mosquitto's allow_anonymous), on any topic, checked with third-party
// clients (mosquitto_pub / mosquitto_sub) and mqtt.js. Registered devices keep their own narrow rights.
import { spawn } from 'node:child_process';
import { connect as netConnect } from 'node:net';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { collect, connackCode, connect, subscribe } from './helpers.ts';

let tb: TestBroker;
beforeAll(async () => {
  tb = await startTestBroker({ broker: { allowAnonymous: true } });
});
afterAll(async () => tb?.close());

function mosquitto(cmd: 'mosquitto_pub' | 'mosquitto_sub', args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, ['-h', '127.0.0.1', '-p', String(tb.port), '-V', 'mqttv311', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}

describe('anonymous mode: a standard broker for clients without user name', () => {
  it('publishes and subscribes on any topic; a retained message reaches a later subscriber [MQTT-3.3.1-6]', async () => {
    expect((await mosquitto('mosquitto_pub', ['-q', '1', '-r', '-t', 'factory/line1/temp', '-m', '21.5'])).code).toBe(0);
    const got = await mosquitto('mosquitto_sub', ['-q', '1', '-t', 'factory/#', '-C', '1', '-v', '-W', '5']);
    expect(got).toEqual({ code: 0, out: 'factory/line1/temp 21.5\n' });
    // A zero-length retained payload removes the retained message [MQTT-3.3.1-10].
    expect((await mosquitto('mosquitto_pub', ['-q', '1', '-r', '-t', 'factory/line1/temp', '-n'])).code).toBe(0);
    const none = await mosquitto('mosquitto_sub', ['-q', '1', '-t', 'factory/#', '-C', '1', '-v', '-W', '1']);
    expect(none.out).not.toContain('factory/line1/temp');
  });

  it('delivers once on overlapping subscriptions [MQTT-3.3.5-1], stops after UNSUBSCRIBE [MQTT-3.10.4-6], and keeps $ topics out of # [MQTT-4.7.2-1]', async () => {
    const sub = await connect(tb.url, { clientId: 'anon-sub' });
    const got = collect(sub);
    expect(await subscribe(sub, ['plant/#', 'plant/+/pressure', '#'])).toEqual([1, 1, 1]);
    expect((await mosquitto('mosquitto_pub', ['-q', '1', '-t', 'plant/p1/pressure', '-m', '0.4'])).code).toBe(0);
    await waitFor(() => got.length > 0);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.filter((m) => m.topic === 'plant/p1/pressure')).toHaveLength(1);
    expect(got.some((m) => m.topic.startsWith('$'))).toBe(false);
    await sub.unsubscribeAsync(['plant/#', 'plant/+/pressure', '#']);
    await mosquitto('mosquitto_pub', ['-q', '1', '-t', 'plant/p1/pressure', '-m', '0.5']);
    await new Promise((r) => setTimeout(r, 300));
    expect(got.filter((m) => m.topic === 'plant/p1/pressure')).toHaveLength(1);
    await sub.endAsync();
  });

  it('queues QoS 1 for an offline persistent session and delivers it on reconnect [MQTT-3.1.2-5]', async () => {
    const first = await connect(tb.url, { clientId: 'anon-persist', clean: false });
    await subscribe(first, 'queue/#');
    await first.endAsync();
    for (const m of ['a', 'b', 'c']) expect((await mosquitto('mosquitto_pub', ['-q', '1', '-t', 'queue/x', '-m', m])).code).toBe(0);
    const again = mqtt.connect(tb.url, { clientId: 'anon-persist', clean: false, reconnectPeriod: 0 });
    const got = collect(again);
    await waitFor(() => got.length >= 3);
    expect(got.map((m) => m.payload)).toEqual(['a', 'b', 'c']);
    await again.endAsync();
  });

  it('accepts a zero-length client id with a clean session and refuses it without one [MQTT-3.1.3-6, MQTT-3.1.3-8]', async () => {
    expect(await connackCode(tb.url, { clientId: '', clean: true })).toBe(0);
    // mqtt.js will not send it, so the CONNECT is written by hand: "MQTT" level 4, clean session 0, id "".
    const connack = await new Promise<Buffer>((resolve, reject) => {
      const s = netConnect(tb.port, '127.0.0.1', () => s.write(Buffer.from([0x10, 12, 0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x00, 0, 60, 0, 0])));
      s.once('data', (d) => (resolve(d), s.destroy()));
      s.once('error', reject);
    });
    expect([...connack.subarray(0, 4)]).toEqual([0x20, 2, 0, 2]);
  });

  it('serves shared subscriptions, refuses a malformed one; registered devices keep their own rights', async () => {
    const c = await connect(tb.url, { clientId: 'anon-limits' });
    expect(await subscribe(c, ['$share/g/plant/#', 'plant/#', '$share//plant/#'])).toEqual([1, 1, 128]);
    await c.endAsync();
    const creds = await tb.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
    const device = await connect(tb.url, { username: creds.username, password: creds.password, clientId: creds.clientId });
    expect(await subscribe(device, 'plant/#')).toEqual([128]);
    await device.endAsync();
  });
});
