// One of two broker nodes (broker.cluster.redis, registry in PostgreSQL) killed with SIGKILL while
// gateways publish RATE readings/s through HAProxy in front of both: every client (the gateways and
// ingest, whose persistent session lives in Redis) reconnects through HAProxy to the surviving node by
// itself, every reading the gateways sent is stored (stored = sent), and the QoS 1 messages queued for
// a persistent session that was away are delivered on the other node. Prints the counts.
//   HAZWATCH_FAULT_NODE_RATE=2000 readings/s
import mqtt, { type MqttClient } from 'mqtt';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startHaproxy, type Haproxy } from '../../bench/lib/haproxy.ts';
import { READY, startService, type Service } from '../../bench/lib/procs.ts';
import { openRegistry, type Credentials } from '../../registry/registry.ts';
import { ownInflux, type OwnInflux } from '../support/influxd.ts';
import { freePort } from '../support/net.ts';
import { ownPostgres, type OwnPostgres } from '../support/postgres.ts';
import { ownRedis, type OwnRedis } from '../support/redis.ts';
import { sleep, until } from './harness.ts';

const RATE = Number(process.env.HAZWATCH_FAULT_NODE_RATE ?? 2000);
const GATEWAYS = 20;
const DEVICES_PER_GATEWAY = 25;
const DB = 'hazwatch_node_kill';

const dir = mkdtempSync(join(tmpdir(), 'hazwatch-node-kill-'));
let redis: OwnRedis | undefined;
let pg: OwnPostgres | undefined;
let influx: OwnInflux | undefined;
let haproxy: Haproxy | undefined;
const services: Service[] = [];
afterAll(async () => {
  for (const s of services.reverse()) await s.stop();
  haproxy?.stop();
  await influx?.remove();
  await pg?.remove();
  await redis?.remove();
  rmSync(dir, { recursive: true, force: true });
});

it(`SIGKILL of one of two broker nodes under ${RATE} readings/s behind HAProxy: every client fails over by itself, stored = sent`, async () => {
  redis = await ownRedis();
  pg = await ownPostgres();
  influx = await ownInflux();
  await Promise.all([redis.start(), pg.start(), influx.start()]);

  const registry = await openRegistry(pg.url);
  const gateways: Credentials[] = [];
  for (let g = 0; g < GATEWAYS; g++) {
    await registry.addDevices(Array.from({ length: DEVICES_PER_GATEWAY }, (_, i) => ({ enterprise: `e${g}`, id: `lel-${i}`, class: 'gas_combustible' as const, intervalSeconds: 3600 })));
    gateways.push(await registry.addGateway(`e${g}`, 'gw'));
  }
  const ingestCreds = await registry.setService('ingest');
  const watch = await registry.setService('watch');
  await registry.close();

  const ports = [await freePort(), await freePort()];
  const front = await freePort();
  const common = { HAZWATCH_DATABASE_URL: pg.url, HAZWATCH_BROKER_CLUSTER_REDIS: redis.url, HAZWATCH_LOG_LEVEL: 'info', HAZWATCH_BROKER_PUBLISH_RATE_PER_SECOND: '0', HAZWATCH_BROKER_GATEWAY_PUBLISH_RATE_PER_SECOND: '0' };
  const node = (i: number) =>
    startService(`broker-${i}`, ['broker', '--port', String(ports[i]), '--ws-port', 'false', '--tls-port', 'false'], { env: { ...common, HAZWATCH_DATA_DIR: join(dir, `broker-${i}`) }, ready: READY.broker });
  const brokers = [await node(0), await node(1)];
  services.push(...brokers);
  haproxy = await startHaproxy(dir, front, ports);
  const url = `mqtt://127.0.0.1:${front}`;
  const ingest = await startService('ingest', ['ingest'], {
    env: {
      ...common,
      HAZWATCH_DATA_DIR: join(dir, 'ingest'),
      HAZWATCH_MQTT_URL: url,
      HAZWATCH_MQTT_USERNAME: ingestCreds.username,
      HAZWATCH_MQTT_PASSWORD: ingestCreds.password,
      HAZWATCH_INGEST_INFLUX_KIND: 'v1',
      HAZWATCH_INGEST_INFLUX_URL: influx.url,
      HAZWATCH_INGEST_INFLUX_DATABASE: DB,
      HAZWATCH_INGEST_INFLUX_CREATE_DATABASE: 'true',
    },
    ready: READY.ingest,
  });
  services.push(ingest);

  // A persistent session that goes away before the kill; its queue is filled meanwhile.
  const awayId = `${watch.clientId}:away`;
  const away = await mqtt.connectAsync(url, { ...watch, clientId: awayId, clean: false, reconnectPeriod: 0 });
  await away.subscribeAsync('hw/v1/e0/+/telemetry', { qos: 1 });
  await away.endAsync();

  // The gateways: mqtt.js reconnects by itself and sends again what was not acknowledged.
  const clients: MqttClient[] = [];
  for (const g of gateways) clients.push(await mqtt.connectAsync(url, { username: g.username, password: g.password, clientId: g.clientId, clean: false, reconnectPeriod: 300, connectTimeout: 5000 }));
  const reconnects = { n: 0 };
  for (const c of clients) c.on('reconnect', () => reconnects.n++);
  let sent = 0;
  let acked = 0;
  let failed = 0;
  let e0Sent = 0;
  const lastTs = new Map<string, number>();
  const publish = () => {
    const g = sent % GATEWAYS;
    const d = Math.floor(sent / GATEWAYS) % DEVICES_PER_GATEWAY;
    const key = `${g}/${d}`;
    const ts = Math.max(Date.now(), (lastTs.get(key) ?? 0) + 1);
    lastTs.set(key, ts);
    sent++;
    if (g === 0) e0Sent++;
    clients[g].publish(`hw/v1/e${g}/lel-${d}/telemetry`, `{"ts":${ts},"values":{"lel":${(ts % 100) / 10}}}`, { qos: 1 }, (err) => (err ? failed++ : acked++));
  };
  const seconds = 24;
  const t0 = Date.now();
  const pacing = setInterval(() => {
    const due = Math.floor(((Date.now() - t0) * RATE) / 1000) - sent;
    for (let i = 0; i < due; i++) publish();
  }, 10);
  try {
    await sleep(8000);
    const victim = brokers[0];
    await victim.stop('SIGKILL');
    const killedAt = Date.now();
    console.log(`broker-node-kill: node 0 killed after ${sent} readings`);
    await sleep(seconds * 1000 - (Date.now() - t0));
    clearInterval(pacing);
    const allAcked = await until(() => acked + failed >= sent, 120_000, 200);
    const stored = async () => Number((await influx!.query(DB, 'SELECT count("lel") FROM gas_combustible'))[0]?.[1] ?? 0);
    const allStored = await until(async () => (await stored()) >= sent, 120_000, 1000);
    const connected = clients.filter((c) => c.connected).length;

    // The session that was away comes back, through HAProxy, to the surviving node: its queue is there.
    const got = new Set<string>();
    const back = mqtt.connect(url, { ...watch, clientId: awayId, clean: false, reconnectPeriod: 0 });
    // Two devices may report the same reading at the same millisecond: the topic tells them apart.
    back.on('message', (topic, payload) => got.add(`${topic} ${payload}`));
    await until(() => got.size >= e0Sent, 60_000, 200);
    back.end(true);
    console.log(
      `broker-node-kill: ${RATE} readings/s for ${seconds} s, node 0 killed at ${((killedAt - t0) / 1000).toFixed(1)} s; sent ${sent}, acknowledged ${acked}, failed ${failed}; ` +
        `stored ${await stored()}; gateways connected ${connected}/${GATEWAYS} after ${reconnects.n} reconnect attempts; ingest alive ${ingest.child.exitCode === null}; ` +
        `queued for the away session ${got.size}/${e0Sent}`,
    );
    expect(allAcked).toBe(true);
    expect(failed).toBe(0);
    expect(allStored).toBe(true);
    expect(await stored()).toBe(sent);
    expect(connected).toBe(GATEWAYS);
    expect(ingest.child.exitCode).toBeNull();
    expect(got.size).toBe(e0Sent);
  } finally {
    clearInterval(pacing);
    for (const c of clients) c.end(true);
  }
});
