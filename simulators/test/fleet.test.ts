// The fleet over real MQTT against our broker (test/support/broker.ts): per-device credentials, QoS 1,
// status and last will, scenario at 60×, stop by duration / budget / signal, reconnect after the broker
// went away. The 1,000-device run is in fleet-1000.test.ts.
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CLASSES } from '../../contract/catalog.ts';
import { interpretEvent, interpretTelemetry } from '../../contract/payloads.ts';
import { parseTopic } from '../../contract/topics.ts';
import { startTestBroker, type TestBroker } from '../../test/support/broker.ts';
import { freePort, waitFor } from '../../test/support/net.ts';
import { startFleet, runFleet } from '../fleet.ts';
import { fleetDevices } from '../mix.ts';
import { provisionDevices } from '../provision.ts';
import { expectedDocument, startRun } from '../run.ts';
import { loadScenario } from '../scenario.ts';
import { simulateConfig } from '../config.ts';
import { compare, evaluate, type Observed } from './oracle.ts';

const SCENARIOS = join(import.meta.dirname, '..', 'scenarios');

async function listen(broker: TestBroker, filter: string) {
  const client = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
  const received: (Observed & { retain: boolean })[] = [];
  client.on('message', (topic, payload, packet) => {
    const t = parseTopic(topic);
    if (t && (t.channel === 'telemetry' || t.channel === 'event' || t.channel === 'status')) {
      received.push({ enterprise: t.enterprise, device: t.device, channel: t.channel, payload: Buffer.from(payload), receivedAt: Date.now(), retain: packet.retain });
    }
  });
  await client.subscribeAsync(filter, { qos: 1 });
  return { client, received };
}

describe('fleet over MQTT', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startTestBroker();
  });
  afterAll(async () => {
    await broker?.close();
  });

  it('runs a scenario at 60×: contract-clean messages, timestamps never ahead, the expected alarms in the data', async () => {
    const scenario = loadScenario(join(SCENARIOS, 'gas-leak.yaml'));
    const { client, received } = await listen(broker, 'hw/v1/sim-chem/#');
    const settings = simulateConfig.parse({ speed: 60 });
    const run = await startRun({ url: broker.url, settings, scenario, registry: broker.registry, progress: false });
    const plan = run.plan!;
    const summary = await run.done;
    await waitFor(() => received.filter((m) => m.channel !== 'status').length >= summary.sent, 5000);
    await client.endAsync();

    expect(summary.stoppedBy).toBe('duration');
    expect(summary.everConnected).toBe(4);
    expect(summary.sent).toBeGreaterThan(300); // 10 simulated minutes of 4 devices at 5 s
    expect(summary.acked).toBe(summary.sent);
    expect(summary.rejectedTotal).toBe(0);
    expect(broker.broker.stats().denied).toEqual({});

    const classOf = new Map(plan.devices.map((d) => [d.id, d.class]));
    const problems: string[] = [];
    for (const m of received) {
      const cls = classOf.get(m.device)!;
      if (m.channel === 'status') continue;
      const r = m.channel === 'telemetry' ? interpretTelemetry(cls, m.payload, m.receivedAt) : interpretEvent(cls, m.payload, m.receivedAt);
      if (r.rejections.length) problems.push(`${m.device}: ${JSON.stringify(r.rejections)}`);
      const ts = JSON.parse(m.payload.toString()).ts as number;
      // Simulated time runs 60× but is anchored in the past: never ahead of the wall clock.
      if (ts > m.receivedAt + 50) problems.push(`${m.device}: ts ${ts - m.receivedAt} ms ahead`);
      if (ts < plan.start || ts > plan.end) problems.push(`${m.device}: ts outside the scenario`);
    }
    expect(problems).toEqual([]);

    // What arrived over MQTT carries the alarms the scenario expects, in time.
    const devices = run.fleet.simulation.states.map((s) => ({ ...s.device, meta: s.model.meta }));
    const result = evaluate(devices, received.filter((m) => m.channel !== 'status'), plan.end);
    expect(compare(plan, result)).toEqual([]);

    const doc = JSON.parse(JSON.stringify(expectedDocument(plan, 60, summary)));
    expect(doc).toMatchObject({ scenario: 'gas-leak', speed: 60, exhaustive: true, rejections: [] });
    expect(doc.alarms).toHaveLength(6);
    for (const a of doc.alarms) {
      expect(a.deadline).toBeGreaterThan(plan.start);
      expect(a.deadline).toBeLessThanOrEqual(plan.end);
      expect(Date.parse(a.deadlineIso)).toBe(a.deadline);
    }
    // Each device said online at connect and offline when it stopped.
    const status = received.filter((m) => m.channel === 'status').map((m) => `${m.device}:${JSON.parse(m.payload.toString()).state}`);
    for (const id of classOf.keys()) expect(status).toEqual(expect.arrayContaining([`${id}:online`, `${id}:offline`]));
  });

  it('stops by budget exactly, by duration and by an abort signal, leaving every device offline', async () => {
    const devices = fleetDevices({ enterprises: 2, devicesPerEnterprise: 7, mix: { gas_combustible: 1, vessel: 1, smoke_alarm: 1, power_meter: 1 }, rate: 2, prefix: 'stop' });
    const credentials = await provisionDevices(broker.registry, devices);

    const byBudget = await runFleet({ url: broker.url, devices, credentials, budget: 40, progress: false });
    expect(byBudget.stoppedBy).toBe('budget');
    expect(byBudget.sent).toBe(40);
    expect(byBudget.acked).toBe(40);

    const byDuration = await runFleet({ url: broker.url, devices, credentials, durationSeconds: 2, progress: false });
    expect(byDuration.stoppedBy).toBe('duration');
    expect(byDuration.sent).toBeGreaterThan(0);
    expect(byDuration.acked).toBe(byDuration.sent);

    // Waiting for the whole fleet: nothing is sent before, and the duration counts from then.
    const waited = await runFleet({ url: broker.url, devices, credentials, durationSeconds: 1, waitForConnections: true, progress: false });
    expect(waited.stoppedBy).toBe('duration');
    expect(waited.runningSinceMs).toBeGreaterThanOrEqual(waited.allConnectedAfterMs!);
    expect(waited.sentSinceAllConnected).toBe(waited.sent);
    expect(waited.sent).toBeGreaterThan(0);

    const abort = new AbortController();
    const fleet = startFleet({ url: broker.url, devices, credentials, signal: abort.signal, progress: false });
    await waitFor(() => fleet.stats().connected === devices.length, 20_000);
    abort.abort();
    const bySignal = await fleet.done;
    expect(bySignal.stoppedBy).toBe('signal');
    expect(bySignal.acked).toBe(bySignal.sent);
    await waitFor(() => broker.broker.stats().clientsConnected === 0, 5000);

    // The retained status of every device now says offline.
    const { client, received } = await listen(broker, 'hw/v1/+/+/status');
    await waitFor(() => received.filter((m) => m.enterprise.startsWith('stop-')).length === devices.length, 5000);
    await client.endAsync();
    const states = received.filter((m) => m.enterprise.startsWith('stop-')).map((m) => JSON.parse(m.payload.toString()).state);
    expect(new Set(states)).toEqual(new Set(['offline']));
  });

  it('a device with a wrong password is refused, counted, not retried; the others run', async () => {
    const devices = [
      { enterprise: 'bp', id: 'o2-1', class: 'oxygen' as const, intervalSeconds: 0.5 },
      { enterprise: 'bp', id: 'o2-2', class: 'oxygen' as const, intervalSeconds: 0.5 },
    ];
    const credentials = await provisionDevices(broker.registry, devices);
    credentials.set('bp/o2-2', { ...credentials.get('bp/o2-2')!, password: 'guessed' });
    // Waiting for the fleet ends with the refusal: a refused device does not hold the others back.
    const summary = await runFleet({ url: broker.url, devices, credentials, durationSeconds: 2, waitForConnections: true, maxWaitMs: 60_000, progress: false });
    expect(summary.stoppedBy).toBe('duration');
    expect(summary.everConnected).toBe(1);
    expect(Object.values(summary.connectErrors)).toEqual([1]);
    expect(summary.reconnects).toBe(0);
    expect(summary.sent).toBeGreaterThan(0);
    expect(summary.acked).toBe(summary.sent);
  });

  it('counts what the platform refuses, by code, from each device\'s error topic', async () => {
    const devices = [{ enterprise: 'err', id: 'pm-1', class: 'power_meter' as const, intervalSeconds: 0.5 }];
    const credentials = await provisionDevices(broker.registry, devices);
    const seen: unknown[] = [];
    const fleet = startFleet({ url: broker.url, devices, credentials, progress: false, onError: (_d, e) => seen.push(e) });
    await waitFor(() => fleet.stats().connected === 1, 10_000);
    await new Promise((r) => setTimeout(r, 300)); // the SUBACK of the error topic
    // Ingest is not part of this test: the service account answers on the error topic the way ingest does.
    const platform = await mqtt.connectAsync(broker.url, { ...broker.service, reconnectPeriod: 0 });
    const refusal = { code: 'HW_ERR_RANGE', message: 'value is outside the physical range of this metric', topic: 'hw/v1/err/pm-1/telemetry', receivedAt: Date.now(), metric: 'voltage' };
    await platform.publishAsync('hw/v1/err/pm-1/error', JSON.stringify(refusal), { qos: 1 });
    await platform.publishAsync('hw/v1/err/pm-1/error', JSON.stringify({ ...refusal, code: 'HW_ERR_BAD_JSON' }), { qos: 1 });
    await waitFor(() => fleet.stats().rejectedTotal === 2, 5000);
    await platform.endAsync();
    const summary = await fleet.stop();
    expect(summary.rejected).toEqual({ HW_ERR_RANGE: 1, HW_ERR_BAD_JSON: 1 });
    expect(seen[0]).toEqual(refusal);
  });

  it('a device that drops its link (silent: drop) leaves its last will, and comes back', async () => {
    const devices = [{ enterprise: 'drop', id: 'lel-1', class: 'gas_combustible' as const, intervalSeconds: 0.5 }];
    const credentials = await provisionDevices(broker.registry, devices);
    const { client, received } = await listen(broker, 'hw/v1/drop/lel-1/status');
    const fleet = startFleet({
      url: broker.url,
      devices,
      credentials,
      progress: false,
      faults: [{ enterprise: 'drop', device: 'lel-1', at: Date.now() + 1500, fault: { kind: 'silent', mode: 'drop', durationSeconds: 1.5 } }],
    });
    await waitFor(() => received.some((m) => JSON.parse(m.payload.toString()).state === 'offline'), 10_000);
    await waitFor(() => fleet.stats().connects >= 2, 10_000);
    const summary = await fleet.stop();
    await client.endAsync();
    const states = received.map((m) => JSON.parse(m.payload.toString()).state);
    // online, offline (the broker's will: no DISCONNECT), online again, offline at the clean stop.
    expect(states.slice(0, 3)).toEqual(['online', 'offline', 'online']);
    expect(summary.acked).toBe(summary.sent);
  });
});

describe('fleet and a broker that goes away', () => {
  it('reconnects with backoff and loses no acknowledged-later message', async () => {
    const port = await freePort();
    let broker = await startTestBroker({ broker: { port } });
    const dataDir = broker.dataDir;
    const registryPath = broker.registryPath;
    const devices = fleetDevices({ enterprises: 1, devicesPerEnterprise: 8, mix: { gas_combustible: 1, power_meter: 1 }, rate: 2, prefix: 'rc' });
    const credentials = await provisionDevices(broker.registry, devices);
    const fleet = startFleet({ url: broker.url, devices, credentials, progress: false, reconnectMinMs: 200, reconnectMaxMs: 1000 });
    try {
      await waitFor(() => fleet.stats().connected === devices.length, 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      // Keep the data directory: the second broker reads the same registry.
      const first = broker;
      await first.broker.close();
      await first.registry.close();
      await waitFor(() => fleet.stats().connected === 0, 10_000);
      await new Promise((r) => setTimeout(r, 1500));
      const whileDown = fleet.stats().sent;
      broker = await startTestBroker({ broker: { port }, dataDir, registryPath });
      await waitFor(() => fleet.stats().connected === devices.length, 20_000);
      await new Promise((r) => setTimeout(r, 1000));
      const summary = await fleet.stop();
      expect(summary.reconnects).toBeGreaterThanOrEqual(devices.length);
      expect(summary.connectionLosses).toBeGreaterThanOrEqual(devices.length);
      expect(summary.sent).toBeGreaterThan(whileDown);
      // Reports made while the broker was away were queued and delivered after the reconnect.
      expect(summary.failed).toBe(0);
      expect(summary.dropped).toBe(0);
      expect(summary.acked).toBe(summary.sent);
      expect(broker.broker.stats().denied).toEqual({});
    } finally {
      await fleet.stop();
      await broker.close();
    }
  });
});

describe('device classes', () => {
  it('the fleet mix covers every class of the catalog by default', () => {
    const classes = new Set(fleetDevices({ enterprises: 1, devicesPerEnterprise: 14 }).map((d) => d.class));
    expect([...classes].sort()).toEqual(Object.keys(DEVICE_CLASSES).sort());
  });
});
