// npm run bench:fleet: the whole pipeline at a province's load, every part a process of its own:
//   load generator (bench/lib/fleet-load.ts) → `hazwatch broker` → `hazwatch ingest` → InfluxDB 1.x
//                                                              ↘ `hazwatch rules` → alarm events
// at 5,000, 10,000 and 20,000 readings/s for a fixed time each. For each rate it prints: readings/s
// the generator got acknowledged, readings/s stored, the lag from publish to stored (while running, and
// the drain time after the last publish), p50/p99 from publish to alarm event (probe detectors crossing
// the first-stage threshold, watched on hw/v1/+/+/alarm), CPU (1.0 = one core) and peak RSS of every
// process, and the exact count stored against the count sent.
//
// npm run bench:cluster (--cluster): the same load on the scaled-out topology of docs/deploy.md: two
// broker nodes sharing Redis behind HAProxy, registry and alarms in PostgreSQL, two ingest and two rules
// processes each owning one partition of the enterprises (bench/lib/cluster.ts); default rates
// 2,000, 5,000 and 10,000 readings/s.
//
// Bounded and local: loopback only, own temporary directory, stops by itself.
//   HAZWATCH_BENCH_RATES=5000,10000,20000  readings/s per phase
//   HAZWATCH_BENCH_SECONDS=20              seconds per phase
//   HAZWATCH_BENCH_DEVICES=5000            gas detectors in the load (each a registry device)
//   HAZWATCH_BENCH_GATEWAYS=4              publishing connections (enterprise gateways)
//   HAZWATCH_BENCH_BATCH=1                 readings per MQTT message (1: one message per reading)
//   HAZWATCH_BENCH_WINDOW=2000             unacknowledged QoS1 messages per connection at most
//   HAZWATCH_BENCH_DRAIN_S=60              how long each phase waits for the last readings to land
//   HAZWATCH_BENCH_PROFILE=dir             run ingest/rules/broker with --cpu-prof into dir
import { fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openRegistry, type Credentials } from '../registry/registry.ts';
import { freePort } from '../test/support/net.ts';
import { ownInflux, type OwnInflux } from '../test/support/influxd.ts';
import { startCluster } from './lib/cluster.ts';
import { machine, percentile, READY, ROOT, startService, watchProcs, type Service } from './lib/procs.ts';
import { rawConnect } from './lib/raw-mqtt.ts';

const CLUSTER = process.argv.includes('--cluster');
// HAZWATCH_BENCH_NICE=1: the CPU priorities docs/deploy.md recommends on a shared machine (config `nice`):
// the alarm path (broker, rules) before storage (ingest). Needs root or CAP_SYS_NICE to raise a priority.
const NICE = process.env.HAZWATCH_BENCH_NICE === '1';
const RECOMMENDED_NICE = { broker: -5, rules: -5, ingest: 5 } as const;
const niceOf = (service: keyof typeof RECOMMENDED_NICE): Record<string, string> => (NICE ? { HAZWATCH_NICE: String(RECOMMENDED_NICE[service]) } : {});
const RATES = (process.env.HAZWATCH_BENCH_RATES ?? (CLUSTER ? '2000,5000,10000' : '5000,10000,20000')).split(',').map(Number);
const SECONDS = Number(process.env.HAZWATCH_BENCH_SECONDS ?? 20);
const DEVICES = Number(process.env.HAZWATCH_BENCH_DEVICES ?? 5000);
const GATEWAYS = Number(process.env.HAZWATCH_BENCH_GATEWAYS ?? 4);
const BATCH = Number(process.env.HAZWATCH_BENCH_BATCH ?? 1);
const WINDOW = Number(process.env.HAZWATCH_BENCH_WINDOW ?? 2000);
const DRAIN_S = Number(process.env.HAZWATCH_BENCH_DRAIN_S ?? 60);
const PROFILE = process.env.HAZWATCH_BENCH_PROFILE;
const PROBE_EVERY_MS = 250;
const DB = 'hazwatch_bench';

interface Phase {
  rate: number;
  sent: number;
  acked: number;
  stored: number;
  publishSeconds: number;
  ackedPerSecond: number;
  storedPerSecond: number;
  lagP50Ms: number;
  lagMaxMs: number;
  drainMs: number | null;
  alarmP50Ms: number;
  alarmP99Ms: number;
  probes: number;
  probesMissed: number;
  duplicateRaises: number;
  generatorWaited: number;
  /** Median time of InfluxDB's count query: the lag cannot be read finer than this. */
  countQueryP50Ms: number;
  procs: Record<string, { cpu: number; peakRssMb: number }>;
  /** Per process (single topology): event-loop delay p99 and max over the phase, GC time and pauses over 10 ms. */
  stalls?: Record<string, Stalls>;
}

interface Stalls {
  loopP99Ms: number;
  loopMaxMs: number;
  gcSeconds: number;
  gcOver10ms: number;
  /** Every collection of the phase, most of them scavenges: per reading, how much garbage the process makes. */
  gcPauses: number;
}

/** The process's default metrics (prom-client): the event-loop histogram restarts at every scrape. */
async function scrape(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

function sum(m: Map<string, number>, test: (key: string) => boolean): number {
  let n = 0;
  for (const [k, v] of m) if (test(k)) n += v;
  return n;
}

function stallsBetween(before: Map<string, number>, after: Map<string, number>): Stalls {
  const gcSum = (m: Map<string, number>) => sum(m, (k) => k.startsWith('hazwatch_nodejs_gc_duration_seconds_sum'));
  const gcCount = (m: Map<string, number>) => sum(m, (k) => k.startsWith('hazwatch_nodejs_gc_duration_seconds_count'));
  const gcFast = (m: Map<string, number>) => sum(m, (k) => k.startsWith('hazwatch_nodejs_gc_duration_seconds_bucket') && k.includes('le="0.01"'));
  return {
    loopP99Ms: Math.round(sum(after, (k) => k.startsWith('hazwatch_nodejs_eventloop_lag_p99_seconds')) * 1000),
    loopMaxMs: Math.round(sum(after, (k) => k.startsWith('hazwatch_nodejs_eventloop_lag_max_seconds')) * 1000),
    gcSeconds: Math.round((gcSum(after) - gcSum(before)) * 100) / 100,
    gcOver10ms: gcCount(after) - gcCount(before) - (gcFast(after) - gcFast(before)),
    gcPauses: gcCount(after) - gcCount(before),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a phase needs of the system under test, one node of each kind or the cluster. */
interface System {
  port: number;
  influx: OwnInflux;
  pids: Record<string, number>;
  /** The load's readings in InfluxDB (InfluxQL condition). */
  where: string;
  load: { enterprise: string; devices: string[]; gateways: { username: string; password: string; clientId: string; enterprise?: string }[] };
  probeGateway: Credentials;
  watch: Credentials;
  ingestOutput(): string;
  /** The /metrics endpoints of broker, ingest and rules (single topology). */
  ops?: Record<string, string>;
  close(): Promise<void>;
}

const devicesOf = (enterprise: string, n: number) => Array.from({ length: n }, (_, i) => ({ enterprise, id: `lel-${i}`, class: 'gas_combustible' as const, intervalSeconds: 3600 }));
const probesOf = (n: number) => Array.from({ length: n }, (_, i) => ({ enterprise: 'probe', id: `p-${i}`, class: 'gas_combustible' as const, intervalSeconds: 3600 }));
const prof = (name: string) => (PROFILE ? [`--cpu-prof`, `--cpu-prof-dir=${PROFILE}`, `--cpu-prof-name=${name}.cpuprofile`] : []);

/** One process of each kind, SQLite registry and alarm store: what `npm start` runs. */
async function startSingle(probes: number): Promise<System> {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-bench-fleet-'));
  const services: Service[] = [];
  const influx = await ownInflux();
  const close = async () => {
    for (const s of services.reverse()) await s.stop();
    await influx.remove();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    // Registry: the fleet, the probe detectors (own enterprise, not counted in the load), accounts.
    const registryPath = join(dir, 'registry.db');
    const registry = await openRegistry(registryPath);
    // A long reporting interval: the silence rule must not flood the engine with offline alarms between phases.
    await registry.addDevices(devicesOf('bench', DEVICES));
    await registry.addDevices(probesOf(probes));
    const gateways = await Promise.all(Array.from({ length: GATEWAYS }, (_, i) => registry.addGateway('bench', `gw-${i}`)));
    const probeGateway = await registry.addGateway('probe', 'gw');
    const svc = { ingest: await registry.setService('ingest'), rules: await registry.setService('rules'), bench: await registry.setService('bench') };
    await registry.close();

    await influx.start();
    const port = await freePort();
    const url = `mqtt://127.0.0.1:${port}`;
    const common = { HAZWATCH_REGISTRY_PATH: registryPath, HAZWATCH_LOG_LEVEL: 'info', HAZWATCH_MQTT_URL: url, HAZWATCH_INGEST_INFLUX_KIND: 'v1', HAZWATCH_INGEST_INFLUX_URL: influx.url, HAZWATCH_INGEST_INFLUX_DATABASE: DB, HAZWATCH_INGEST_INFLUX_CREATE_DATABASE: 'true' };
    const opsPorts = { broker: await freePort(), ingest: await freePort(), rules: await freePort() };
    const broker = await startService('broker', ['broker', '--port', String(port), '--ws-port', 'false', '--tls-port', 'false'], {
      nodeArgs: prof('broker'),
      env: { ...common, HAZWATCH_OPS_PORT: String(opsPorts.broker), ...niceOf('broker'), HAZWATCH_DATA_DIR: join(dir, 'broker'), HAZWATCH_BROKER_PUBLISH_RATE_PER_SECOND: '0', HAZWATCH_BROKER_GATEWAY_PUBLISH_RATE_PER_SECOND: '0' },
      ready: READY.broker,
    });
    services.push(broker);
    const ingest = await startService('ingest', ['ingest'], {
      nodeArgs: prof('ingest'),
      env: { ...common, HAZWATCH_OPS_PORT: String(opsPorts.ingest), ...niceOf('ingest'), HAZWATCH_DATA_DIR: join(dir, 'ingest'), HAZWATCH_MQTT_USERNAME: svc.ingest.username, HAZWATCH_MQTT_PASSWORD: svc.ingest.password },
      ready: READY.ingest,
    });
    services.push(ingest);
    const rules = await startService('rules', ['rules'], {
      nodeArgs: prof('rules'),
      env: { ...common, HAZWATCH_OPS_PORT: String(opsPorts.rules), ...niceOf('rules'), HAZWATCH_DATA_DIR: join(dir, 'rules'), HAZWATCH_MQTT_USERNAME: svc.rules.username, HAZWATCH_MQTT_PASSWORD: svc.rules.password },
      ready: READY.rules,
    });
    services.push(rules);
    return {
      port,
      influx,
      pids: { broker: broker.pid, ingest: ingest.pid, rules: rules.pid, influxd: influx.pid()! },
      ops: Object.fromEntries(Object.entries(opsPorts).map(([name, p]) => [name, `http://127.0.0.1:${p}`])),
      where: "enterprise='bench'",
      load: { enterprise: 'bench', devices: DEVICES_LIST(DEVICES), gateways },
      probeGateway,
      watch: svc.bench,
      ingestOutput: () => ingest.output(),
      close,
    };
  } catch (err) {
    await close();
    throw err;
  }
}

/**
 * Two nodes of each kind (bench/lib/cluster.ts): the fleet split into two enterprises, each the
 * partition of one ingest and one rules process, every connection through HAProxy.
 */
async function startTwoNodes(probes: number): Promise<System> {
  const half = Math.ceil(DEVICES / 2);
  const gateways: { username: string; password: string; clientId: string; enterprise: string }[] = [];
  let probeGateway!: Credentials;
  const cluster = await startCluster({
    db: DB,
    partitions: [['bench-a', 'probe'], ['bench-b']],
    nodeArgs: prof,
    async provision(registry) {
      for (const e of ['bench-a', 'bench-b']) await registry.addDevices(devicesOf(e, half));
      await registry.addDevices(probesOf(probes));
      // Alternating, so that both partitions carry half the load.
      for (let i = 0; i < GATEWAYS; i++) {
        const enterprise = i % 2 ? 'bench-b' : 'bench-a';
        gateways.push({ ...(await registry.addGateway(enterprise, `gw-${i}`)), enterprise });
      }
      probeGateway = await registry.addGateway('probe', 'gw');
    },
  });
  return {
    port: cluster.port,
    influx: cluster.influx,
    pids: cluster.pids(),
    where: 'enterprise =~ /^bench-/',
    load: { enterprise: 'bench-a', devices: DEVICES_LIST(half), gateways },
    probeGateway,
    watch: cluster.watch,
    ingestOutput: () => ['ingest-1', 'ingest-2'].map((n) => cluster.services.get(n)!.output().slice(-1500)).join('\n'),
    close: cluster.close,
  };
}

const DEVICES_LIST = (n: number) => Array.from({ length: n }, (_, i) => `lel-${i}`);

async function main(): Promise<void> {
  const startedAt = new Date();
  console.log(`bench:${CLUSTER ? 'cluster' : 'fleet'} ${startedAt.toISOString()} on ${machine()}`);
  console.log(
    `  ${DEVICES} gas detectors via ${GATEWAYS} gateway connections, ${BATCH} reading(s) per QoS1 message, ${SECONDS} s per rate, rates ${RATES.join(', ')} readings/s` +
      (CLUSTER ? '; two broker nodes (Redis) behind HAProxy, PostgreSQL, two ingest and two rules processes on two partitions' : '; one process of each kind, SQLite') + (NICE ? `; CPU priorities (nice) broker ${RECOMMENDED_NICE.broker}, rules ${RECOMMENDED_NICE.rules}, ingest ${RECOMMENDED_NICE.ingest}` : ''),
  );
  if (PROFILE) mkdirSync(PROFILE, { recursive: true });
  const probesPerPhase = Math.ceil((SECONDS * 1000) / PROBE_EVERY_MS) + 4;
  const sys = await (CLUSTER ? startTwoNodes : startSingle)(probesPerPhase * RATES.length);
  const { port, influx } = sys;
  let load: ReturnType<typeof fork> | undefined;
  try {
    // Alarm watcher and probe publisher: light, in this process.
    const raisedAt = new Map<string, number>();
    const raises = new Map<string, number>();
    const watcher = await rawConnect({ host: '127.0.0.1', port, ...sys.watch, clientId: `${sys.watch.clientId}:watch` });
    watcher.onMessage = (_topic, payload) => {
      const at = performance.now();
      try {
        const p = JSON.parse(payload.toString()) as { alarm: { device: string; condition: string }; change: { action: string } };
        if (p.change.action !== 'raised' || p.alarm.condition !== 'HW_ALM_GAS_LEL_HIGH') return;
        raises.set(p.alarm.device, (raises.get(p.alarm.device) ?? 0) + 1);
        if (!raisedAt.has(p.alarm.device)) raisedAt.set(p.alarm.device, at);
      } catch {
        /* not an alarm event */
      }
    };
    await watcher.subscribe('hw/v1/probe/+/alarm', 1);
    const prober = await rawConnect({ host: '127.0.0.1', port, ...sys.probeGateway });

    load = fork(join(ROOT, 'bench/lib/fleet-load.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, HAZWATCH_BENCH_LOAD: JSON.stringify({ host: '127.0.0.1', port, ...sys.load, batch: BATCH, window: WINDOW }) },
    });
    const messages: ((m: Record<string, unknown>) => void)[] = [];
    load.on('message', (m) => messages.forEach((f) => f(m as Record<string, unknown>)));
    const next = (key: string) =>
      new Promise<Record<string, unknown>>((resolve) => {
        const f = (m: Record<string, unknown>) => {
          if (key in m) {
            messages.splice(messages.indexOf(f), 1);
            resolve(m[key] as Record<string, unknown>);
          }
        };
        messages.push(f);
      });
    await next('ready');
    const pids = { ...sys.pids, generator: load.pid! };

    // Warm-up, not reported: every device seen once by ingest and rules, code paths compiled.
    {
      const t0 = Date.now();
      load.send({ cmd: 'run', rate: Math.min(2000, RATES[0]), seconds: Math.max(3, DEVICES / 2000 + 1) });
      const done = (await next('done')) as { acked: number };
      const until = Date.now() + 60_000;
      while ((await influx.count(DB, 'gas_combustible', `${sys.where} AND time >= ${t0}ms`)) < done.acked && Date.now() < until) await sleep(500);
      console.log(`  warm-up: ${done.acked} readings in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    }

    let probe = 0;
    const phases: Phase[] = [];
    for (const rate of RATES) {
      await sleep(1000);
      const stepStart = Date.now();
      const progress: { at: number; sent: number }[] = [{ at: stepStart, sent: 0 }];
      const onProgress = (m: Record<string, unknown>) => {
        if (m.progress) progress.push(m.progress as { at: number; sent: number });
      };
      messages.push(onProgress);
      const watch = watchProcs(pids);
      const opsBefore = sys.ops ? Object.fromEntries(await Promise.all(Object.entries(sys.ops).map(async ([n, u]) => [n, await scrape(u)] as const))) : undefined;
      load.send({ cmd: 'run', rate, seconds: SECONDS });
      const done = next('done') as Promise<{ sent: number; acked: number; seconds: number; publishedAt: number; waitedTicks: number }>;
      let finished: Awaited<typeof done> | undefined;
      void done.then((d) => (finished = d));
      const sentAt = new Map<string, number>();
      const where = `${sys.where} AND time >= ${stepStart}ms`;
      const lags: number[] = [];
      let lastPoll = 0;
      let stored = 0;
      const queryMs: number[] = [];
      const pollStored = async () => {
        const at = Date.now();
        stored = await influx.count(DB, 'gas_combustible', where);
        queryMs.push(Date.now() - at);
        // The lag: how long ago the generator had sent the readings now counted as stored.
        const sentBy = progress.find((p) => p.sent >= stored);
        if (sentBy && stored > 0) lags.push(Math.max(0, at - sentBy.at));
      };
      while (!finished) {
        const now = performance.now();
        if (sentAt.size < Math.min(probesPerPhase, Math.floor((Date.now() - stepStart) / PROBE_EVERY_MS))) {
          // A probe detector crosses the first stage twice (the rule wants two samples): the clock runs from the second publish.
          const id = `p-${probe++}`;
          const ts = Date.now();
          prober.publish(`hw/v1/probe/${id}/telemetry`, `{"ts":${ts},"values":{"lel":60}}`, 1);
          prober.publish(`hw/v1/probe/${id}/telemetry`, `{"ts":${ts + 1},"values":{"lel":61}}`, 1);
          sentAt.set(id, performance.now());
        }
        if (now - lastPoll >= 1000) {
          lastPoll = now;
          await pollStored();
        }
        await sleep(20);
      }
      const procs = watch.stop();
      const stalls = sys.ops && opsBefore ? Object.fromEntries(await Promise.all(Object.entries(sys.ops).map(async ([n, u]) => [n, stallsBetween(opsBefore[n], await scrape(u))] as const))) : undefined;
      const fin = finished!;
      // From the generator's last publish (it then waited for the broker's acknowledgements).
      const publishedAt = fin.publishedAt;
      // Drain: until every acknowledged reading is in InfluxDB, or DRAIN_S.
      let drainMs: number | null = null;
      const until = publishedAt + DRAIN_S * 1000;
      for (;;) {
        await pollStored();
        if (stored >= fin.acked) {
          drainMs = Date.now() - publishedAt;
          break;
        }
        if (Date.now() > until) break;
        await sleep(250);
      }
      messages.splice(messages.indexOf(onProgress), 1);
      // Late alarms (at most 10 s more).
      const alarmUntil = Date.now() + 10_000;
      while ([...sentAt.keys()].some((id) => !raisedAt.has(id)) && Date.now() < alarmUntil) await sleep(100);
      const latencies = [...sentAt].flatMap(([id, t]) => (raisedAt.has(id) ? [raisedAt.get(id)! - t] : [])).sort((a, b) => a - b);
      const sortedLags = [...lags].sort((a, b) => a - b);
      const phase: Phase = {
        rate,
        sent: fin.sent,
        acked: fin.acked,
        stored,
        publishSeconds: fin.seconds,
        ackedPerSecond: Math.round(fin.acked / fin.seconds),
        storedPerSecond: Math.round(stored / ((publishedAt - stepStart + (drainMs ?? DRAIN_S * 1000)) / 1000)),
        lagP50Ms: Math.round(percentile(sortedLags, 50)),
        lagMaxMs: Math.round(sortedLags.at(-1) ?? NaN),
        drainMs,
        alarmP50Ms: Math.round(percentile(latencies, 50)),
        alarmP99Ms: Math.round(percentile(latencies, 99)),
        probes: sentAt.size,
        probesMissed: sentAt.size - latencies.length,
        duplicateRaises: [...sentAt.keys()].reduce((n, id) => n + Math.max(0, (raises.get(id) ?? 0) - 1), 0),
        generatorWaited: fin.waitedTicks,
        countQueryP50Ms: Math.round(percentile([...queryMs].sort((a, b) => a - b), 50)),
        procs,
        ...(stalls ? { stalls } : {}),
      };
      phases.push(phase);
      if (stored < fin.acked) {
        console.log(`  measurements in ${DB}: ${JSON.stringify(await influx.query(DB, 'SHOW MEASUREMENTS').catch((e) => String(e)))}`);
        console.log(`  ingest log (end):\n${sys.ingestOutput().slice(-3000)}`);
      }
      console.log(
        `  ${rate}/s: sent ${phase.sent}, stored ${phase.stored}${drainMs === null ? ` (NOT all within ${DRAIN_S} s)` : `, drained ${(drainMs / 1000).toFixed(1)} s after the last publish`}; alarm p50 ${phase.alarmP50Ms} ms p99 ${phase.alarmP99Ms} ms (${phase.probesMissed}/${phase.probes} missed)`,
      );
    }

    const names = Object.keys(pids);
    console.log(`\nbench:${CLUSTER ? 'cluster' : 'fleet'} results (${startedAt.toISOString()}, ${SECONDS} s per rate, ${DEVICES} devices, ${GATEWAYS} connections, ${BATCH} reading(s)/message)\n`);
    console.log('| target r/s | sent | stored | stored = sent | acked r/s | lag p50 / max ms (count query p50) | drain after last publish | alarm p50 / p99 ms (missed) |');
    console.log('|---:|---:|---:|:---:|---:|---:|---:|---:|');
    for (const p of phases) {
      console.log(
        `| ${p.rate} | ${p.sent} | ${p.stored} | ${p.stored === p.sent ? 'yes' : `**no** (${p.stored - p.sent})`} | ${p.ackedPerSecond}${p.generatorWaited ? ' (generator held back)' : ''} | ${p.lagP50Ms} / ${p.lagMaxMs} (${p.countQueryP50Ms}) | ${p.drainMs === null ? `> ${DRAIN_S} s` : `${(p.drainMs / 1000).toFixed(1)} s`} | ${p.alarmP50Ms} / ${p.alarmP99Ms} (${p.probesMissed}/${p.probes}) |`,
      );
    }
    console.log(`\n| target r/s | ${names.map((n) => `${n} CPU / peak RSS MB`).join(' | ')} |`);
    console.log(`|---:|${names.map(() => '---:').join('|')}|`);
    for (const p of phases) console.log(`| ${p.rate} | ${names.map((n) => `${p.procs[n].cpu} / ${p.procs[n].peakRssMb}`).join(' | ')} |`);
    if (phases[0]?.stalls) {
      const stalled = Object.keys(phases[0].stalls);
      console.log(`\nWhere a tail comes from, per process over each phase: event-loop delay p99 / max ms (sampled every 10 ms, so 10 is the floor), GC seconds, GC pauses over 10 ms, GC pauses per 1,000 readings`);
      console.log(`\n| target r/s | ${stalled.map((n) => `${n} loop p99 / max · GC s (>10 ms) · per 1k`).join(' | ')} |`);
      console.log(`|---:|${stalled.map(() => '---:').join('|')}|`);
      for (const p of phases) console.log(`| ${p.rate} | ${stalled.map((n) => `${p.stalls![n].loopP99Ms} / ${p.stalls![n].loopMaxMs} · ${p.stalls![n].gcSeconds} (${p.stalls![n].gcOver10ms}) · ${((p.stalls![n].gcPauses * 1000) / Math.max(1, p.acked)).toFixed(2)}`).join(' | ')} |`);
    }
    console.log(`\nJSON ${JSON.stringify({ startedAt, topology: CLUSTER ? 'cluster' : 'single', machine: machine(), seconds: SECONDS, devices: DEVICES, gateways: GATEWAYS, batch: BATCH, phases })}`);
    load.send({ cmd: 'exit' });
    watcher.close();
    prober.close();
  } finally {
    load?.kill();
    await sys.close();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
