// Security at the broker: a device tries to publish and subscribe across enterprises, to subscribe to
// `#`, to take another device's client id, and to guess passwords. Every attempt is refused, counted
// (broker stats, by error code) and logged (the broker's log, with the code). The broker runs in this
// process (test/support/broker.ts, real TCP) so that its counters can be read exactly.
import mqtt from 'mqtt';
import { afterAll, expect, it } from 'vitest';
import { rawConnect } from '../../bench/lib/raw-mqtt.ts';
import { createLogger } from '../../core/log.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { sleep, until } from './harness.ts';

let broker: TestBroker | undefined;
afterAll(async () => broker?.close());

it('cross-enterprise publish/subscribe, # and password guessing: all refused, counted and logged', async () => {
  const lines: string[] = [];
  const log = createLogger({ level: 'info', destination: { write: (l: string) => void lines.push(l) } } as never);
  broker = await startTestBroker({ log, broker: { ban: { maxFailuresPerAddress: 1000, maxFailuresPerUsername: 10, windowSeconds: 60, durationSeconds: 300 } } as never });
  const a = await broker.registry.addDevice({ enterprise: 'acme', id: 'gas-01', class: 'gas_combustible' });
  const b = await broker.registry.addDevice({ enterprise: 'other', id: 'gas-02', class: 'gas_combustible' });
  const victim = await broker.registry.addDevice({ enterprise: 'other', id: 'gas-03', class: 'gas_combustible' });
  const watcher = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
  const seen: string[] = [];
  watcher.on('message', (t) => seen.push(t));
  await watcher.subscribeAsync('hw/v1/other/#', { qos: 1 });

  const device = await rawConnect({ host: '127.0.0.1', port: broker.port, ...a });
  const errors: string[] = [];
  device.onMessage = (_t, p) => void errors.push(JSON.parse(p.toString()).code);
  expect(await device.subscribe(`hw/v1/acme/gas-01/error`, 1)).toEqual([1]);
  // 1. Publishing as a device of another enterprise (and as another device of its own enterprise).
  const CROSS = 200;
  for (let i = 0; i < CROSS; i++) device.publish(`hw/v1/other/gas-02/telemetry`, '{"values":{"lel":99}}', 1);
  device.publish('hw/v1/acme/gas-99/telemetry', '{"values":{"lel":99}}', 1);
  device.publish('hw/v1/other/gas-02/alarm', '{}', 1);
  // MQTT 3.1.1 cannot refuse a PUBLISH: each is acknowledged and dropped.
  expect(await until(() => device.acked() === CROSS + 2, 10_000, 20)).toBe(true);
  // 2. Subscribing across enterprises, to everything, to $SYS.
  const filters = ['#', 'hw/#', 'hw/v1/+/+/telemetry', 'hw/v1/other/gas-02/error', 'hw/v1/other/+/command', '$SYS/#', '$share/g/hw/v1/other/gas-02/error', 'hw/v1/acme/+/error', '$share//hw/v1/acme/gas-01/error'];
  const granted: number[] = [];
  for (const f of filters) granted.push(...(await device.subscribe(f, 1)));
  // 3. Another device's client id with its own credentials.
  const stolenId = await mqtt.connectAsync(broker.url, { ...a, clientId: b.clientId, reconnectPeriod: 0 }).then(
    (c) => (c.end(), 'accepted'),
    (err: Error) => err.message,
  );
  // 4. Password guessing against another device, from one address: refused, then banned.
  const GUESSES = 50;
  const guessResults: Record<string, number> = {};
  for (let i = 0; i < GUESSES; i++) {
    const r = await rawConnect({ host: '127.0.0.1', port: broker.port, clientId: victim.clientId, username: victim.username, password: `guess-${i}`, localAddress: '127.0.0.7' }).then(
      (c) => (c.close(), 'accepted'),
      (err: Error) => err.message,
    );
    guessResults[r] = (guessResults[r] ?? 0) + 1;
  }
  // Even the right password is refused while the user name is banned.
  const afterBan = await rawConnect({ host: '127.0.0.1', port: broker.port, clientId: victim.clientId, username: victim.username, password: victim.password, localAddress: '127.0.0.8' }).then(
    (c) => (c.close(), 'accepted'),
    (err: Error) => err.message,
  );
  await until(() => errors.length > 0, 5000, 50);
  await sleep(500);
  const stats = broker.broker.stats();
  const logged = (code: string) => lines.filter((l) => l.includes(`"${code}"`)).length;
  console.log(
    `security: cross-enterprise publishes ${CROSS + 2} → denied ${JSON.stringify(stats.denied)}; subscriptions ${JSON.stringify(Object.fromEntries(filters.map((f, i) => [f, granted[i]])))}; ` +
      `stolen client id: ${stolenId}; ${GUESSES} guesses: ${JSON.stringify(guessResults)}; right password after the ban: ${afterBan}; ` +
      `refused connects ${JSON.stringify(stats.connectionsRefused)}; log lines: ACL_PUBLISH ${logged('HW_ERR_ACL_PUBLISH')}, ACL_SUBSCRIBE ${logged('HW_ERR_ACL_SUBSCRIBE')}, ` +
      `BAD_CREDENTIALS ${logged('HW_ERR_AUTH_BAD_CREDENTIALS')}, BANNED ${logged('HW_ERR_AUTH_BANNED')}, CLIENT_ID ${logged('HW_ERR_AUTH_CLIENT_ID')}; error replies to the device ${errors.length}`,
    );
    expect(seen).toEqual([]); // nothing reached the other enterprise
    expect(stats.denied.HW_ERR_ACL_PUBLISH).toBe(CROSS + 2);
    expect(logged('HW_ERR_ACL_PUBLISH')).toBeGreaterThan(0);
    expect(granted.slice(0, 7)).toEqual([128, 128, 128, 128, 128, 128, 128]);
    expect(granted[7]).toBe(128); // a device may not read the error topics of its neighbours either
    // A shared subscription is judged by its filter; a malformed one is refused under its own code.
    expect(granted[8]).toBe(128);
    expect(logged('HW_ERR_ACL_SUBSCRIBE')).toBe(8);
    expect(logged('HW_ERR_SHARED_SUBSCRIPTION')).toBe(1);
    expect(stolenId).not.toBe('accepted');
    expect(guessResults.accepted).toBeUndefined();
    expect(afterBan).not.toBe('accepted');
    expect(logged('HW_ERR_AUTH_BAD_CREDENTIALS') + logged('HW_ERR_AUTH_BANNED')).toBe(GUESSES + 1);
    expect(logged('HW_ERR_AUTH_BANNED')).toBeGreaterThan(0);
    device.close();
    await watcher.endAsync();
});
