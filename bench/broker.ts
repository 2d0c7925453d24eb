// npm run bench:broker — the hazwatch broker against Mosquitto (Debian's /usr/sbin/mosquitto), side by
// side on loopback, QoS 0 and QoS 1. Both brokers run in their own process with authentication and
// per-user access rules on and TCP_NODELAY set; the same load generator (this process, mqtt.js) drives both.
// Plain aedes without any hook runs too, to show what hazwatch adds on top of the library it is built on.
//
// Load: closed loop. P device connections each keep W messages in flight (published but not yet received
// by the subscriber); one service connection subscribes to all of them. Throughput = messages received
// per second; latency = publish to receipt, p50 and p99. A short warm-up is not counted.
//
// Settings (environment): HAZWATCH_BENCH_SECONDS (per case, default 2), HAZWATCH_BENCH_ROUNDS (3),
// HAZWATCH_BENCH_PUBLISHERS (10), HAZWATCH_BENCH_WINDOW (in-flight messages per publisher, 20),
// HAZWATCH_BENCH_PROFILE=<dir> writes a V8 CPU profile of the hazwatch broker process there.
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt, { type MqttClient } from 'mqtt';
import { freePort, waitFor } from '../test/support/net.ts';

const SECONDS = Number(process.env.HAZWATCH_BENCH_SECONDS ?? 2);
const PUBLISHERS = Number(process.env.HAZWATCH_BENCH_PUBLISHERS ?? 10);
const WINDOW = Number(process.env.HAZWATCH_BENCH_WINDOW ?? 20);
const ROUNDS = Number(process.env.HAZWATCH_BENCH_ROUNDS ?? 3);
const WARMUP_MS = 500;
const MOSQUITTO = '/usr/sbin/mosquitto';

interface Account {
  username: string;
  password: string;
  clientId: string;
}

interface Target {
  name: string;
  url: string;
  devices: Account[];
  service: Account;
  stop(): Promise<void>;
}

interface Result {
  messages: number;
  perSecond: number;
  p50: number;
  p99: number;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

async function startNode(name: 'hazwatch' | 'aedes'): Promise<Target> {
  const script = fileURLToPath(new URL('./broker-server.ts', import.meta.url));
  const profile = name === 'hazwatch' && process.env.HAZWATCH_BENCH_PROFILE ? ['--cpu-prof', '--cpu-prof-dir', process.env.HAZWATCH_BENCH_PROFILE] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', script, String(PUBLISHERS), name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`hazwatch broker exited with ${code}`)));
  });
  const info = JSON.parse(line) as { port: number; devices: Account[]; service: Account };
  return { name, url: `mqtt://127.0.0.1:${info.port}`, devices: info.devices, service: info.service, stop: () => stopChild(child) };
}

async function startMosquitto(): Promise<Target> {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-bench-mosquitto-'));
  const port = await freePort();
  const secret = () => randomBytes(24).toString('base64url');
  // Mosquitto's password file separates user and hash with ':', so the service account is `svc-bench` here.
  const devices: Account[] = Array.from({ length: PUBLISHERS }, (_, i) => ({ username: `bench/dev-${i}`, password: secret(), clientId: `bench/dev-${i}` }));
  const service: Account = { username: 'svc-bench', password: secret(), clientId: 'svc-bench' };
  const passwd = join(dir, 'passwd');
  writeFileSync(passwd, '');
  for (const a of [...devices, service]) execFileSync('mosquitto_passwd', ['-b', passwd, a.username, a.password]);
  writeFileSync(join(dir, 'acl'), ['user svc-bench', 'topic read hw/v1/#', '', 'pattern write hw/v1/%u/telemetry', ''].join('\n'));
  writeFileSync(
    join(dir, 'mosquitto.conf'),
    [
      `listener ${port} 127.0.0.1`,
      'allow_anonymous false',
      `password_file ${passwd}`,
      `acl_file ${join(dir, 'acl')}`,
      'persistence false',
      'set_tcp_nodelay true',
      // aedes bounds neither; the defaults (20 in flight, 1000 queued) would throttle Mosquitto instead.
      'max_inflight_messages 0',
      'max_queued_messages 0',
      'user root',
      'log_dest none',
      '',
    ].join('\n'),
  );
  const child = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const ready = async () => {
    try {
      const probe = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { ...service, clientId: 'probe', reconnectPeriod: 0, connectTimeout: 1000 });
      await probe.endAsync(true);
      return true;
    } catch {
      return false;
    }
  };
  try {
    await waitFor(ready, 10_000, 100);
  } catch (err) {
    await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    name: 'mosquitto',
    url: `mqtt://127.0.0.1:${port}`,
    devices,
    service,
    stop: async () => {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function runCase(target: Target, qos: 0 | 1, round: number): Promise<Result> {
  const connect = (a: Account) => mqtt.connectAsync(target.url, { ...a, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000 });
  const subscriber = await connect({ ...target.service, clientId: `${target.service.clientId}${target.name === 'mosquitto' ? '-' : ':'}r${round}q${qos}` });
  await subscriber.subscribeAsync('hw/v1/+/+/telemetry', { qos });
  const publishers: MqttClient[] = await Promise.all(target.devices.map(connect));
  const topics = target.devices.map((d) => `hw/v1/${d.username}/telemetry`);
  const index = new Map(topics.map((t, i) => [t, i]));
  const latencies: number[] = [];
  let seq = 0;
  let running = true;
  const start = performance.now();
  const countFrom = start + WARMUP_MS;
  const end = countFrom + SECONDS * 1000;

  const send = (i: number) => {
    const payload = JSON.stringify({ values: { lel: 3.2 }, seq: seq++, t: performance.now() });
    publishers[i].publish(topics[i], payload, { qos });
  };
  subscriber.on('message', (topic, payload) => {
    const now = performance.now();
    const { t } = JSON.parse(payload.toString()) as { t: number };
    if (t >= countFrom && now <= end) latencies.push(now - t);
    const i = index.get(topic);
    if (running && i !== undefined) send(i);
  });
  for (let i = 0; i < publishers.length; i++) for (let w = 0; w < WINDOW; w++) send(i);
  await new Promise((r) => setTimeout(r, end - performance.now()));
  running = false;
  await Promise.all([...publishers, subscriber].map((c) => c.endAsync(true)));
  latencies.sort((a, b) => a - b);
  return { messages: latencies.length, perSecond: latencies.length / SECONDS, p50: percentile(latencies, 50), p99: percentile(latencies, 99) };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

async function main(): Promise<void> {
  process.stdout.write(`broker benchmark: ${PUBLISHERS} publishers x ${WINDOW} in flight, 1 subscriber, ${SECONDS} s per case, ${ROUNDS} rounds (median), loopback\n\n`);
  // Both brokers run for the whole benchmark and the cases alternate, so that a busy machine
  // (other processes, CPU frequency) weighs on both alike; the median of the rounds is reported.
  const targets: Target[] = [];
  const runs: Record<string, Record<number, Result[]>> = { hazwatch: { 0: [], 1: [] }, aedes: { 0: [], 1: [] }, mosquitto: { 0: [], 1: [] } };
  try {
    targets.push(await startNode('hazwatch'));
    targets.push(await startNode('aedes'));
    targets.push(await startMosquitto());
    for (let round = 0; round < ROUNDS; round++) {
      for (const qos of [0, 1] as const) for (const target of targets) runs[target.name][qos].push(await runCase(target, qos, round));
    }
  } finally {
    await Promise.all(targets.map((t) => t.stop()));
  }
  const median = (rs: Result[]): Result => [...rs].sort((a, b) => a.perSecond - b.perSecond)[Math.floor(rs.length / 2)];
  const results: Record<string, Record<number, Result>> = Object.fromEntries(Object.keys(runs).map((name) => [name, { 0: median(runs[name][0]), 1: median(runs[name][1]) }]));
  const header = `${'broker'.padEnd(10)} ${'qos'.padStart(3)} ${'msgs/s'.padStart(10)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)}`;
  process.stdout.write(header + '\n' + '-'.repeat(header.length) + '\n');
  for (const qos of [0, 1]) {
    for (const name of ['hazwatch', 'aedes', 'mosquitto']) {
      const r = results[name][qos];
      process.stdout.write(`${name.padEnd(10)} ${String(qos).padStart(3)} ${fmt(r.perSecond).padStart(10)} ${fmt(r.p50, 2).padStart(8)} ${fmt(r.p99, 2).padStart(8)}\n`);
    }
  }
  process.stdout.write('\nratios (throughput; p50 and p99 latency)\n');
  for (const [a, b] of [['hazwatch', 'mosquitto'], ['hazwatch', 'aedes']]) {
    for (const qos of [0, 1]) {
      const x = results[a][qos];
      const y = results[b][qos];
      process.stdout.write(`  ${a} / ${b}, qos ${qos}: throughput ${fmt(x.perSecond / y.perSecond, 2)}x, p50 ${fmt(x.p50 / y.p50, 2)}x, p99 ${fmt(x.p99 / y.p99, 2)}x\n`);
    }
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench:broker failed: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
