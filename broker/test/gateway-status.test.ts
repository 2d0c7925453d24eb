// A gateway has one last will (its own status topic); the broker takes the devices it reported online
// offline when the gateway is lost without DISCONNECT.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { waitFor } from '../../test/support/net.ts';
import { collect, connect, dropConnection, subscribe, type Received } from './helpers.ts';

let tb: TestBroker;
beforeAll(async () => {
  tb = await startTestBroker();
});
afterAll(async () => {
  await tb?.close();
});

const status = (device: string) => `hw/v1/demo/${device}/status`;
const online = JSON.stringify({ state: 'online', ts: 1 });
const offline = JSON.stringify({ state: 'offline', ts: 1 });

/** The retained status of each device, as a new subscriber sees it. */
async function retainedStates(devices: string[]): Promise<Record<string, string>> {
  const reader = await connect(tb.url, { ...tb.service, clientId: `svc:test:${Math.random().toString(36).slice(2)}` });
  const got = collect(reader);
  await subscribe(reader, devices.map(status));
  await waitFor(() => got.length >= devices.length);
  await reader.endAsync();
  return Object.fromEntries(got.map((m) => [m.topic.split('/')[3], JSON.parse(m.payload).state]));
}

describe('gateway lost', () => {
  it('sets offline the devices a gateway reported online when it drops without DISCONNECT', async () => {
    const creds = await tb.registry.addGateway('demo', 'gw1');
    const watcher = await connect(tb.url, tb.service);
    const seen: Received[] = collect(watcher);
    await subscribe(watcher, 'hw/v1/demo/+/status');

    const will = { topic: status('gw1'), payload: Buffer.from('{"state":"offline"}'), qos: 1 as const, retain: true };
    const gateway = await connect(tb.url, { ...creds, will });
    await gateway.publishAsync(status('gw1'), online, { qos: 1, retain: true });
    for (const device of ['tank-1', 'tank-2', 'pump-1']) await gateway.publishAsync(status(device), online, { qos: 1, retain: true });
    // pump-1 went offline while the gateway still ran, and tank-3's line is not JSON: neither is touched again.
    await gateway.publishAsync(status('pump-1'), offline, { qos: 1, retain: true });
    await gateway.publishAsync(status('tank-3'), 'garbage', { qos: 1, retain: true });
    await waitFor(() => seen.length >= 6);
    seen.length = 0;

    dropConnection(gateway);
    // tank-1, tank-2 by the broker and gw1 by the gateway's own will.
    await waitFor(() => seen.length >= 3);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen.map((m) => m.topic).sort()).toEqual([status('gw1'), status('tank-1'), status('tank-2')]);
    for (const m of seen) expect(JSON.parse(m.payload)).toMatchObject({ state: 'offline' });
    expect(await retainedStates(['gw1', 'tank-1', 'tank-2', 'pump-1'])).toEqual({ 'gw1': 'offline', 'tank-1': 'offline', 'tank-2': 'offline', 'pump-1': 'offline' });
    await watcher.endAsync();
  });

  it('leaves the statuses alone after a clean DISCONNECT', async () => {
    const creds = await tb.registry.addGateway('demo', 'gw2');
    const gateway = await connect(tb.url, creds);
    await gateway.publishAsync(status('meter-1'), online, { qos: 1, retain: true });
    await gateway.endAsync();
    // The broker would publish right away; give it the time a wrong publish would take.
    await new Promise((r) => setTimeout(r, 200));
    expect(await retainedStates(['meter-1'])).toEqual({ 'meter-1': 'online' });
  });

  it('sets them offline when the broker itself shuts down', async () => {
    const own = await startTestBroker({ broker: { persistence: 'level' } });
    const dataDir = own.dataDir;
    try {
      const creds = await own.registry.addGateway('demo', 'gw3');
      const gateway = await connect(own.url, creds);
      gateway.on('error', () => {});
      await gateway.publishAsync(status('valve-1'), online, { qos: 1, retain: true });
      await own.broker.close();
      // Reopen the same level store: the retained offline was written before the broker closed.
      const again = await startTestBroker({ dataDir, broker: { persistence: 'level' } });
      try {
        const reader = await connect(again.url, again.service);
        const got = collect(reader);
        await subscribe(reader, status('valve-1'));
        await waitFor(() => got.length > 0);
        expect(JSON.parse(got[0].payload)).toMatchObject({ state: 'offline' });
        await reader.endAsync();
      } finally {
        await again.close();
      }
      gateway.end(true);
    } finally {
      await own.close();
    }
  });
});
