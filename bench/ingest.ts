// npm run bench:ingest: sustained readings/s from MQTT into InfluxDB on this machine, hazwatch ingest
// and, side by side, a Node-RED flow doing the same job (mqtt in → influxdb batch), with the ratio.
//
// Every part is a real process of its own: the broker (`hazwatch broker`, or Mosquitto with
// HAZWATCH_BENCH_BROKER=mosquitto), InfluxDB 1.x (Debian's influxd, own temporary directory),
// `hazwatch ingest`, Node-RED 4. The publisher (this process) sends the same N single-reading QoS1
// messages to each pipeline in turn, in two modes:
//   live     the pipeline runs while the readings are published (bounded by the publisher as well);
//   backlog  the readings are first queued in the pipeline's persistent session, then the pipeline
//            starts: its own capacity.
// The figure is N divided by the time from the first publish (live) or the pipeline's connection
// (backlog) until InfluxDB counts all N points. Bounded: each run stops after HAZWATCH_BENCH_TIMEOUT_S
// (default 90 s) and reports what had landed by then.
//
// HAZWATCH_BENCH_PROFILE=<dir> writes V8 CPU profiles of hazwatch ingest there.
//
//   HAZWATCH_BENCH_MESSAGES=60000 HAZWATCH_BENCH_BROKER=mosquitto HAZWATCH_BENCH_MODE=backlog npm run bench:ingest
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { openRegistry } from '../registry/registry.ts';
import { ownInflux, v1Count } from '../test/support/influxd.ts';
import { freePort } from '../test/support/net.ts';
import { READY, sampleProc, startService, type Service } from './lib/procs.ts';

/** hazwatch: our broker (`hazwatch broker`); mosquitto: Debian's Mosquitto, to take the broker out of the measurement. */
const BROKER = process.env.HAZWATCH_BENCH_BROKER === 'mosquitto' ? 'mosquitto' : 'hazwatch';
const MESSAGES = Number(process.env.HAZWATCH_BENCH_MESSAGES ?? 30_000);
const MODES = (process.env.HAZWATCH_BENCH_MODE ?? 'live,backlog').split(',') as ('live' | 'backlog')[];
const TIMEOUT_S = Number(process.env.HAZWATCH_BENCH_TIMEOUT_S ?? 90);
/** A directory for V8 CPU profiles of hazwatch ingest, one per mode. */
const PROFILE = process.env.HAZWATCH_BENCH_PROFILE;
const DEVICES = 200;
const PUBLISHERS = 2;
const WINDOW = 1000; // QoS1 publishes in flight per publisher connection

const dir = mkdtempSync(join(tmpdir(), 'hazwatch-bench-ingest-'));
let brokerPid: number | undefined;
const children: Service[] = [];
let influx: Awaited<ReturnType<typeof ownInflux>> | undefined;

/** `hazwatch <args>`, or `command` with `args`, started and kept for the cleanup at the end. */
async function run(name: string, args: string[], env: NodeJS.ProcessEnv, ready: RegExp, command?: string, nodeArgs?: string[]): Promise<Service> {
  const service = await startService(name, args, { env, ready, command, nodeArgs });
  children.push(service);
  return service;
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

interface Pipeline {
  label: string;
  db: string;
  /** Starts the pipeline process; resolves once it is subscribed (or has found its session). */
  start(mode: 'live' | 'backlog'): Promise<Service>;
}

async function publishAll(gateway: { username: string; password: string; clientId: string }, brokerUrl: string, t0: number): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, i) => mqtt.connectAsync(brokerUrl, { ...gateway, clientId: `${gateway.clientId}:p${i}`, reconnectPeriod: 0 })),
  );
  const done = await publish(clients, t0);
  await Promise.all(clients.map((c) => c.endAsync()));
  return done;
}

async function landed(influxUrl: string, db: string): Promise<number> {
  return (await v1Count(influxUrl, db, 'SELECT count(lel) FROM gas_combustible').catch(() => [0]))[0] ?? 0;
}

/**
 * live: the pipeline runs while the readings are published; the figure is bounded by the publisher too.
 * backlog: the readings wait in the pipeline's persistent session first; the figure is the pipeline's
 * own capacity, from its connect until the last point is in InfluxDB.
 */
async function measure(p: Pipeline, mode: 'live' | 'backlog', influxUrl: string, gateway: { username: string; password: string; clientId: string }, brokerUrl: string) {
  let child: Service;
  let t0: number;
  let publishSeconds: number | null = null;
  if (mode === 'backlog') {
    // Creates the persistent session and its subscription; killed, so that Node-RED cannot
    // unsubscribe on its way out (it does when stopped gracefully) and the session keeps queueing.
    const first = await p.start(mode);
    await first.stop('SIGKILL');
    const p0 = Date.now();
    publishSeconds = Math.round((await publishAll(gateway, brokerUrl, p0)) - p0) / 1000;
    child = await p.start(mode);
    t0 = Date.now(); // when its connection shows in its log (polled every 50 ms), for both pipelines alike
  } else {
    child = await p.start(mode);
    t0 = Date.now();
    void publishAll(gateway, brokerUrl, t0).then((t) => (publishSeconds = (t - t0) / 1000));
  }
  // CPU seconds of each part over the measured time: what the pipeline costs per reading, and what it
  // leaves to the broker and the publisher sharing the two cores.
  const cpu = () => ({ pipeline: sampleProc(child.pid)?.cpuSeconds ?? NaN, broker: brokerPid ? (sampleProc(brokerPid)?.cpuSeconds ?? NaN) : NaN, influxd: sampleProc(influx?.pid() ?? 0)?.cpuSeconds ?? NaN, publisher: sampleProc(process.pid)?.cpuSeconds ?? NaN });
  const cpu0 = cpu();
  let n = 0;
  const deadline = t0 + TIMEOUT_S * 1000;
  while (Date.now() < deadline) {
    n = await landed(influxUrl, `${p.db}_${mode}`);
    if (n >= MESSAGES) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const seconds = (Date.now() - t0) / 1000;
  const cpu1 = cpu();
  const perReading = (k: keyof typeof cpu0) => Math.round(((cpu1[k] - cpu0[k]) / Math.max(1, n)) * 1e7) / 10;
  const cpuMicros = { pipeline: perReading('pipeline'), broker: perReading('broker'), influxd: perReading('influxd'), publisher: perReading('publisher') };
  const result = { pipeline: p.label, mode, messages: MESSAGES, landed: n, complete: n >= MESSAGES, seconds: Math.round(seconds * 100) / 100, readingsPerSecond: Math.round(n / seconds), publishSeconds, cpuMicrosPerReading: cpuMicros };
  console.log(
    `${p.label.padEnd(16)} ${mode.padEnd(8)} ${String(result.readingsPerSecond).padStart(7)} readings/s  (${n}/${MESSAGES} in ${result.seconds} s${publishSeconds === null ? '' : `; publisher ${publishSeconds} s`}; CPU µs/reading: pipeline ${cpuMicros.pipeline}, broker ${cpuMicros.broker}, influxd ${cpuMicros.influxd}, publisher ${cpuMicros.publisher})`,
  );
  if (!result.complete) console.log(`${p.label} log (end):\n${child.output().slice(-3000)}`);
  await child.stop();
  return result;
}

function nodeRedFlows(brokerPort: number, influxPort: number, db: string, clientId: string): unknown[] {
  // The usual tuned Node-RED pipeline: parse, map to a point, batch 1000 (or 1 s), one write per batch.
  const toPoint = `
const parts = msg.topic.split('/');
let body;
try { body = JSON.parse(msg.payload.toString()); } catch (e) { node.warn('bad JSON on ' + msg.topic); return null; }
if (!body || typeof body.values !== 'object') return null;
msg.payload = { measurement: 'gas_combustible', tags: { enterprise: parts[2], device: parts[3] }, fields: body.values, timestamp: new Date(typeof body.ts === 'number' ? body.ts : Date.now()) };
return msg;`;
  return [
    { id: 'b1a0000000000001', type: 'tab', label: 'bench' },
    { id: 'b1a0000000000002', type: 'mqtt-broker', name: 'hazwatch', broker: '127.0.0.1', port: String(brokerPort), clientid: clientId, autoConnect: true, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: false },
    { id: 'b1a0000000000003', type: 'mqtt in', z: 'b1a0000000000001', topic: 'hw/v1/+/+/telemetry', qos: '1', datatype: 'buffer', broker: 'b1a0000000000002', nl: false, rap: false, inputs: 0, wires: [['b1a0000000000004']] },
    { id: 'b1a0000000000004', type: 'function', z: 'b1a0000000000001', name: 'to point', func: toPoint, outputs: 1, wires: [['b1a0000000000005']] },
    { id: 'b1a0000000000005', type: 'join', z: 'b1a0000000000001', mode: 'custom', build: 'array', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '1', count: '1000', wires: [['b1a0000000000007']] },
    { id: 'b1a0000000000006', type: 'influxdb', hostname: '127.0.0.1', port: String(influxPort), protocol: 'http', database: db, name: 'bench', usetls: false, influxdbVersion: '1.x' },
    { id: 'b1a0000000000007', type: 'influxdb batch', z: 'b1a0000000000001', influxdb: 'b1a0000000000006', precision: 'ms', retentionPolicy: '', name: '', wires: [] },
  ];
}

async function main(): Promise<void> {
  console.log(`bench:ingest (broker: ${BROKER}): ${MESSAGES} single-reading QoS1 messages from ${DEVICES} devices through ${PUBLISHERS} publisher connections (window ${WINDOW} each), machine: ${(await import('node:os')).cpus().length} cores`);
  const registry = await openRegistry(join(dir, 'registry.db'));
  await registry.addDevices(Array.from({ length: DEVICES }, (_, i) => ({ enterprise: 'bench', id: `gas-${i}`, class: 'gas_combustible' as const })));
  const gateway = await registry.addGateway('bench', 'gw');
  const svc = await registry.setService('ingest');
  await registry.close();

  influx = await ownInflux();
  await influx.start();
  for (const db of ['bench_hazwatch_live', 'bench_hazwatch_backlog', 'bench_nodered_live', 'bench_nodered_backlog']) await fetch(`${influx.url}/query?q=${encodeURIComponent(`CREATE DATABASE ${db}`)}`, { method: 'POST' });

  const brokerPort = await freePort();
  const common = { HAZWATCH_DATA_DIR: dir, HAZWATCH_LOG_LEVEL: 'info' };
  if (BROKER === 'mosquitto') {
    const conf = join(dir, 'mosquitto.conf');
    // No inflight limit towards subscribers (ingest acknowledges per group commit), a deep queue.
    writeFileSync(conf, `listener ${brokerPort} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 1000000\n`);
    await run('mosquitto', ['-c', conf, '-v'], {}, /running|Opening ipv4 listen socket/i, '/usr/sbin/mosquitto');
  } else {
    brokerPid = (await run(
      'broker',
      ['broker', '--port', String(brokerPort), '--ws-port', 'false', '--tls-port', 'false', '--allow-anonymous'],
      { ...common, HAZWATCH_BROKER_PUBLISH_RATE_PER_SECOND: '0', HAZWATCH_BROKER_GATEWAY_PUBLISH_RATE_PER_SECOND: '0' },
      /listening|started|ready/i,
    )).pid;
  }
  const brokerUrl = `mqtt://127.0.0.1:${brokerPort}`;
  const results = [];
  const pipelines: Pipeline[] = [
    {
      label: 'hazwatch ingest',
      db: 'bench_hazwatch',
      start: (mode) =>
        run(
          'hazwatch ingest',
          ['ingest'],
          {
            ...common,
            HAZWATCH_MQTT_URL: brokerUrl,
            HAZWATCH_MQTT_USERNAME: svc.username,
            HAZWATCH_MQTT_PASSWORD: svc.password,
            HAZWATCH_INGEST_INFLUX_KIND: 'v1',
            HAZWATCH_INGEST_INFLUX_URL: influx!.url,
            HAZWATCH_INGEST_INFLUX_DATABASE: `bench_hazwatch_${mode}`,
            HAZWATCH_INGEST_INSTANCE: `bench-${mode}`,
            // A session per mode: the live session must not hand its queue (Node-RED's run) to the backlog run.
            HAZWATCH_INGEST_CLIENT_ID: `${svc.username}:${mode}`,
            HAZWATCH_INGEST_SPOOL_PATH: join(dir, `spool-${mode}.db`),
          },
          READY.ingest,
          undefined,
          PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`, `--cpu-prof-name=ingest-${mode}.cpuprofile`] : [],
        ),
    },
  ];
  const require = createRequire(import.meta.url);
  let redJs: string | undefined;
  try {
    redJs = join(require.resolve('node-red/package.json'), '..', 'red.js');
    require.resolve('node-red-contrib-influxdb/package.json');
  } catch {
    redJs = undefined;
  }
  if (redJs && existsSync(redJs)) {
    const port = await freePort();
    pipelines.push({
      label: 'Node-RED 4',
      db: 'bench_nodered',
      start: (mode) => {
        const flows = join(dir, `flows-${mode}.json`);
        writeFileSync(flows, JSON.stringify(nodeRedFlows(brokerPort, influx!.port, `bench_nodered_${mode}`, `nodered-bench-${mode}`), null, 2));
        return run('node-red', [redJs, '--userDir', join(dir, `node-red-${mode}`), '--port', String(port), flows], { NODE_RED_ENABLE_PROJECTS: 'false' }, /Connected to broker/, process.execPath);
      },
    });
  } else {
    console.log('Node-RED: not installed (npm install -D node-red node-red-contrib-influxdb); no comparison.');
  }
  for (const mode of MODES) {
    for (const p of pipelines) results.push(await measure(p, mode, influx.url, gateway, brokerUrl));
    const [ours, theirs] = results.filter((r) => r.mode === mode);
    if (theirs) console.log(`ratio hazwatch / Node-RED (${mode}): ${(ours.readingsPerSecond / theirs.readingsPerSecond).toFixed(2)}`);
  }
  console.log(JSON.stringify({ bench: 'ingest', broker: BROKER, results }));
}

try {
  await main();
} finally {
  for (const c of children.reverse()) await c.stop();
  await influx?.remove();
  rmSync(dir, { recursive: true, force: true });
}
