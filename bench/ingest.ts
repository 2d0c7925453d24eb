// npm run bench:ingest: sustained readings/s from MQTT into InfluxDB on this machine, hazwatch ingest
// and, side by side, a Node-RED flow doing the same job (mqtt in → influxdb batch), with the ratio.
//
// Every part is a real process of its own: our broker (`hazwatch broker`), InfluxDB 1.x (Debian's
// influxd, own temporary directory), `hazwatch ingest`, Node-RED 4. The publisher (this process)
// sends the same N single-reading QoS1 messages to each pipeline in turn; the figure is N divided by
// the time from the first publish until InfluxDB counts all N points. Bounded: each run stops after
// HAZWATCH_BENCH_TIMEOUT_S (default 90 s) and reports what had landed by then.
//
//   HAZWATCH_BENCH_MESSAGES=60000 npm run bench:ingest
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { openRegistry } from '../registry/registry.ts';
import { ownInflux, v1Count } from '../ingest/test/influxd.ts';
import { freePort, waitFor } from '../test/support/net.ts';

const MESSAGES = Number(process.env.HAZWATCH_BENCH_MESSAGES ?? 60_000);
const TIMEOUT_S = Number(process.env.HAZWATCH_BENCH_TIMEOUT_S ?? 90);
const DEVICES = 200;
const PUBLISHERS = 2;
const WINDOW = 1000; // QoS1 publishes in flight per publisher connection

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'hazwatch-bench-ingest-'));
const children: ChildProcess[] = [];
let influx: Awaited<ReturnType<typeof ownInflux>> | undefined;

function run(name: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp): Promise<ChildProcess> {
  const child = spawn(process.execPath, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  const keep = (d: Buffer) => (out = (out + d).slice(-20_000));
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return waitFor(() => ready.test(out) || child.exitCode !== null, 60_000, 100)
    .then(() => {
      if (child.exitCode !== null) throw new Error(`${name} exited: ${out.slice(-2000)}`);
      return child;
    })
    .catch((err) => {
      throw new Error(`${name} not ready: ${(err as Error).message}\n${out.slice(-2000)}`);
    });
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((r) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(t);
      r();
    });
    child.kill('SIGTERM');
  });
}

/** Publishes MESSAGES readings as fast as the QoS1 window allows; resolves when all are acknowledged by the broker. */
async function publish(clients: MqttClient[], t0: number): Promise<number> {
  let next = 0;
  await Promise.all(
    clients.map(async (client) => {
      const lanes = Array.from({ length: WINDOW }, async () => {
        while (next < MESSAGES) {
          const seq = next++;
          const device = `gas-${seq % DEVICES}`;
          // Device timestamps 1 ms apart per device: every reading is its own point.
          const body = JSON.stringify({ ts: t0 - 3_600_000 + Math.floor(seq / DEVICES), values: { lel: (seq % 1000) / 10 } });
          await client.publishAsync(`hw/v1/bench/${device}/telemetry`, body, { qos: 1 });
        }
      });
      await Promise.all(lanes);
    }),
  );
  return Date.now();
}

async function measure(label: string, influxUrl: string, db: string, gateway: { username: string; password: string; clientId: string }, brokerUrl: string) {
  const clients = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) => mqtt.connectAsync(brokerUrl, { ...gateway, clientId: `${gateway.clientId}:p${i}`, reconnectPeriod: 0 })),
  );
  const t0 = Date.now();
  const published = publish(clients, t0);
  let landed = 0;
  const deadline = t0 + TIMEOUT_S * 1000;
  while (Date.now() < deadline) {
    landed = (await v1Count(influxUrl, db, 'SELECT count(lel) FROM gas_combustible').catch(() => [0]))[0] ?? 0;
    if (landed >= MESSAGES) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  const t1 = Date.now();
  const publishedAt = await Promise.race([published, new Promise<number>((r) => setTimeout(() => r(Number.NaN), 1000))]);
  await Promise.all(clients.map((c) => c.endAsync(true)));
  const seconds = (t1 - t0) / 1000;
  const result = {
    pipeline: label,
    messages: MESSAGES,
    landed,
    complete: landed >= MESSAGES,
    seconds: Math.round(seconds * 100) / 100,
    readingsPerSecond: Math.round(landed / seconds),
    publishSeconds: Number.isNaN(publishedAt) ? null : Math.round((publishedAt - t0) / 10) / 100,
  };
  console.log(`${label.padEnd(16)} ${String(result.readingsPerSecond).padStart(7)} readings/s  (${landed}/${MESSAGES} in ${result.seconds} s; broker took them in ${result.publishSeconds ?? '>' + result.seconds} s)`);
  return result;
}

function nodeRedFlows(brokerPort: number, influxPort: number, db: string): unknown[] {
  // The usual tuned Node-RED pipeline: parse, map to a point, batch 1000 (or 1 s), one write per batch.
  const toPoint = `
const parts = msg.topic.split('/');
let body;
try { body = JSON.parse(msg.payload.toString()); } catch (e) { node.warn('bad JSON on ' + msg.topic); return null; }
if (!body || typeof body.values !== 'object') return null;
msg.payload = { measurement: 'gas_combustible', tags: { enterprise: parts[2], device: parts[3] }, fields: body.values, timestamp: new Date(typeof body.ts === 'number' ? body.ts : Date.now()) };
return msg;`;
  return [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'broker', type: 'mqtt-broker', name: 'hazwatch', broker: '127.0.0.1', port: String(brokerPort), clientid: 'nodered-bench', autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: false },
    { id: 'in', type: 'mqtt in', z: 'tab', topic: 'hw/v1/+/+/telemetry', qos: '1', datatype: 'buffer', broker: 'broker', nl: false, rap: false, inputs: 0, wires: [['fn']] },
    { id: 'fn', type: 'function', z: 'tab', name: 'to point', func: toPoint, outputs: 1, wires: [['join']] },
    { id: 'join', type: 'join', z: 'tab', mode: 'custom', build: 'array', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '1', count: '1000', wires: [['out']] },
    { id: 'influx', type: 'influxdb', hostname: '127.0.0.1', port: String(influxPort), protocol: 'http', database: db, name: 'bench', usetls: false, influxdbVersion: '1.x' },
    { id: 'out', type: 'influxdb batch', z: 'tab', influxdb: 'influx', precision: 'ms', retentionPolicy: '', name: '', wires: [] },
  ];
}

async function main(): Promise<void> {
  console.log(`bench:ingest: ${MESSAGES} single-reading QoS1 messages from ${DEVICES} devices through ${PUBLISHERS} publisher connections (window ${WINDOW} each), machine: ${(await import('node:os')).cpus().length} cores`);
  const registry = openRegistry(join(dir, 'registry.db'));
  await registry.addDevices(Array.from({ length: DEVICES }, (_, i) => ({ enterprise: 'bench', id: `gas-${i}`, class: 'gas_combustible' as const })));
  const gateway = await registry.addGateway('bench', 'gw');
  const svc = await registry.setService('ingest');
  registry.close();

  influx = await ownInflux();
  await influx.start();
  for (const db of ['bench_hazwatch', 'bench_nodered']) await fetch(`${influx.url}/query?q=${encodeURIComponent(`CREATE DATABASE ${db}`)}`, { method: 'POST' });

  const brokerPort = await freePort();
  const common = { HAZWATCH_DATA_DIR: dir, HAZWATCH_LOG_LEVEL: 'info' };
  await run(
    'broker',
    ['bin/hazwatch.js', 'broker', '--port', String(brokerPort), '--ws-port', 'false', '--tls-port', 'false', '--allow-anonymous'],
    { ...common, HAZWATCH_BROKER_PUBLISH_RATE_PER_SECOND: '0', HAZWATCH_BROKER_GATEWAY_PUBLISH_RATE_PER_SECOND: '0' },
    /listening|started|ready/i,
  );
  const brokerUrl = `mqtt://127.0.0.1:${brokerPort}`;
  const results = [];

  const ingest = await run(
    'hazwatch ingest',
    ['bin/hazwatch.js', 'ingest'],
    {
      ...common,
      HAZWATCH_MQTT_URL: brokerUrl,
      HAZWATCH_MQTT_USERNAME: svc.username,
      HAZWATCH_MQTT_PASSWORD: svc.password,
      HAZWATCH_INGEST_INFLUX_KIND: 'v1',
      HAZWATCH_INGEST_INFLUX_URL: influx.url,
      HAZWATCH_INGEST_INFLUX_DATABASE: 'bench_hazwatch',
      HAZWATCH_INGEST_INSTANCE: 'bench',
    },
    /"msg":"subscribed"/,
  );
  results.push(await measure('hazwatch ingest', influx.url, 'bench_hazwatch', gateway, brokerUrl));
  await stop(ingest);

  const require = createRequire(import.meta.url);
  let redJs: string | undefined;
  try {
    redJs = join(require.resolve('node-red/package.json'), '..', 'red.js');
    require.resolve('node-red-contrib-influxdb/package.json');
  } catch {
    redJs = undefined;
  }
  if (!redJs || !existsSync(redJs)) {
    console.log('Node-RED: not installed (npm install -D node-red node-red-contrib-influxdb); no comparison.');
  } else {
    const userDir = join(dir, 'node-red');
    const flows = join(dir, 'flows.json');
    writeFileSync(flows, JSON.stringify(nodeRedFlows(brokerPort, influx.port, 'bench_nodered'), null, 2));
    const port = await freePort();
    const red = await run('node-red', [redJs, '--userDir', userDir, '--port', String(port), flows], { NODE_RED_ENABLE_PROJECTS: 'false' }, /Connected to broker/);
    results.push(await measure('Node-RED 4', influx!.url, 'bench_nodered', gateway, brokerUrl));
    await stop(red);
    const [ours, theirs] = results;
    console.log(`ratio hazwatch / Node-RED: ${(ours.readingsPerSecond / theirs.readingsPerSecond).toFixed(2)}`);
  }
  console.log(JSON.stringify({ bench: 'ingest', results }));
}

try {
  await main();
} finally {
  for (const c of children.reverse()) await stop(c);
  await influx?.remove();
  rmSync(dir, { recursive: true, force: true });
}
