// npm run bench:connections: memory per connected device with many idle connections, the hazwatch
// broker (`hazwatch broker`, its own process) against Mosquitto (/usr/sbin/mosquitto, temporary config)
// at the same counts. Each device is a raw MQTT 3.1.1 CONNECT (keepalive 60 s, clean session) followed by
// one subscription to its own error topic, as a real device does, then only PINGREQs. The clients live
// in separate processes (bench/lib/idle-clients.ts, 5,000 each) so that their memory is not the broker's.
//
// Figure: (broker RSS with N connections − broker RSS before the first) / N, after the connections
// have sat idle for SETTLE seconds. Both brokers accept the clients anonymously: with a registry, our
// broker verifies a scrypt hash per CONNECT (~10 ms of CPU each, a deliberate cost) and 50,000 CONNECTs
// would measure the hashing, not the memory; Mosquitto gets the same treatment so the figures compare.
//
// A process cannot hold more sockets than its RLIMIT_NOFILE allows: a count above the hard limit is
// measured at the largest count that fits, and said so.
//   HAZWATCH_BENCH_CONNECTIONS=10000,50000  HAZWATCH_BENCH_CONNECT_RATE=2000  HAZWATCH_BENCH_SETTLE_S=10
//   HAZWATCH_BENCH_BROKERS=hazwatch,mosquitto
import { execSync, fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/support/net.ts';
import { machine, ROOT, sampleProc, startService, type Service } from './lib/procs.ts';

const COUNTS = (process.env.HAZWATCH_BENCH_CONNECTIONS ?? '10000,50000').split(',').map(Number);
const RATE = Number(process.env.HAZWATCH_BENCH_CONNECT_RATE ?? 2000);
const SETTLE_S = Number(process.env.HAZWATCH_BENCH_SETTLE_S ?? 10);
const BROKERS = (process.env.HAZWATCH_BENCH_BROKERS ?? 'hazwatch,mosquitto').split(',');
const PER_PROCESS = 5000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function nofileLimit(): number {
  // The hard limit of this shell is also what the brokers inherit.
  try {
    return Number(execSync('ulimit -Hn', { shell: '/bin/bash' }).toString().trim()) || Infinity;
  } catch {
    return Infinity;
  }
}

async function startBrokerProcess(kind: string, dir: string): Promise<{ service: Service; port: number }> {
  const port = await freePort();
  if (kind === 'mosquitto') {
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_connections -1\nlog_type error\nlog_type warning\nlog_type notice\n`);
    return { service: await startService('mosquitto', ['-c', conf, '-v'], { command: '/usr/sbin/mosquitto', ready: /running|Opening ipv4 listen socket/i }), port };
  }
  const service = await startService('hazwatch broker', ['broker', '--port', String(port), '--ws-port', 'false', '--tls-port', 'false', '--allow-anonymous'], {
    env: { HAZWATCH_DATA_DIR: dir, HAZWATCH_LOG_LEVEL: 'warn', HAZWATCH_BROKER_MAX_CONNECTIONS: '1000000' },
    // warn: the anonymous warning is the first line it prints once listening.
    ready: /anonymous clients are allowed/,
  });
  return { service, port };
}

async function measure(kind: string, wanted: number, limit: number) {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-bench-conn-'));
  const count = Math.min(wanted, limit - 200);
  const { service, port } = await startBrokerProcess(kind, dir);
  const clients: ChildProcess[] = [];
  try {
    await sleep(2000);
    const base = sampleProc(service.pid)!;
    const t0 = Date.now();
    const parts = Math.ceil(count / PER_PROCESS);
    const results = await Promise.all(
      Array.from({ length: parts }, (_, i) => {
        const n = Math.min(PER_PROCESS, count - i * PER_PROCESS);
        const child = fork(join(ROOT, 'bench/lib/idle-clients.ts'), [], {
          execArgv: ['--import', 'tsx'],
          env: { ...process.env, HAZWATCH_BENCH_IDLE: JSON.stringify({ host: '127.0.0.1', port, first: i * PER_PROCESS, count: n, rate: RATE / parts, keepalive: 60, prefix: `${kind[0]}${i}-` }) },
        });
        clients.push(child);
        return new Promise<{ connected: number; failed: number; errors: Record<string, number> }>((resolve, reject) => {
          child.on('message', (m: { done?: { connected: number; failed: number; errors: Record<string, number> } }) => m.done && resolve(m.done));
          child.on('exit', (code) => reject(new Error(`client process exited ${code}`)));
        });
      }),
    );
    const connectSeconds = (Date.now() - t0) / 1000;
    const connected = results.reduce((n, r) => n + r.connected, 0);
    const errors: Record<string, number> = {};
    for (const r of results) for (const [k, v] of Object.entries(r.errors)) errors[k] = (errors[k] ?? 0) + v;
    await sleep(SETTLE_S * 1000);
    const after = sampleProc(service.pid)!;
    const cpuPerConnectMs = ((after.cpuSeconds - base.cpuSeconds) * 1000) / Math.max(1, connected);
    return {
      broker: kind,
      wanted,
      count,
      connected,
      failed: count - connected,
      errors,
      connectSeconds: Math.round(connectSeconds * 10) / 10,
      baseMb: Math.round(base.rssMb),
      rssMb: Math.round(after.rssMb),
      kbPerConnection: Math.round(((after.rssMb - base.rssMb) * 1024 * 100) / Math.max(1, connected)) / 100,
      cpuMsPerConnect: Math.round(cpuPerConnectMs * 100) / 100,
    };
  } finally {
    for (const c of clients) {
      if (c.connected) c.send({ cmd: 'exit' });
    }
    await sleep(1000);
    for (const c of clients) c.kill();
    await service.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const limit = nofileLimit();
  console.log(`bench:connections ${new Date().toISOString()} on ${machine()}; open files hard limit ${limit}`);
  const rows = [];
  for (const wanted of COUNTS) {
    for (const kind of BROKERS) {
      const r = await measure(kind, wanted, limit);
      rows.push(r);
      console.log(`  ${kind} ${r.connected}/${r.count} connected in ${r.connectSeconds} s: ${r.rssMb} MB RSS (${r.baseMb} MB before), ${r.kbPerConnection} kB per connection${Object.keys(r.errors).length ? `; errors ${JSON.stringify(r.errors)}` : ''}`);
    }
  }
  console.log('\n| connections asked | measured at | broker | connected | RSS before MB | RSS after MB | kB per connection | CPU ms per CONNECT | ratio to Mosquitto |');
  console.log('|---:|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    const mosq = rows.find((m) => m.broker === 'mosquitto' && m.wanted === r.wanted);
    const ratio = mosq && mosq.kbPerConnection > 0 ? `${(r.kbPerConnection / mosq.kbPerConnection).toFixed(1)}×` : '';
    console.log(
      `| ${r.wanted} | ${r.count}${r.count < r.wanted ? ' (fd limit)' : ''} | ${r.broker} | ${r.connected} | ${r.baseMb} | ${r.rssMb} | ${r.kbPerConnection} | ${r.cpuMsPerConnect} | ${ratio} |`,
    );
  }
  if (COUNTS.some((c) => c > limit - 200)) {
    console.log(`\nThe open-files hard limit of this machine (${limit}) caps one process at about ${limit - 200} sockets; raise it (ulimit -Hn, systemd LimitNOFILE) to measure more.`);
  }
  console.log(`\nJSON ${JSON.stringify({ at: new Date().toISOString(), machine: machine(), limit, rows })}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
