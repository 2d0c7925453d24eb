// npm run bench:alarms: latency from a device's publish to the alarm event on the MQTT alarm topic
// (p50/p99), and the readings/s the rules process sustains, at 1,000, 5,000 and 20,000 readings/s.
//
// Setup, all on this machine: the hazwatch broker (`hazwatch broker`, a process of its own, real TCP), the
// rules service on its own thread (bench/alarms-worker.ts: own event loop, like a separate process), 4
// gateway connections publishing QoS1 readings of 2,000 combustible gas detectors (normal values,
// 0-10 %LEL), and one probe every 200 ms: a fresh detector sends two readings at 60 %LEL (the default
// rule wants two samples in a row), and the clock runs from the publish of the second one to the
// `raised` change on hw/v1/<enterprise>/<device>/alarm. Broker, rules engine and load generator share
// the 2 cores: the figures are a floor, not a ceiling.
//
// HAZWATCH_BENCH_SECONDS (default 5) sets the duration of each phase; HAZWATCH_BENCH_RATES="1000,5000"
// the rates; HAZWATCH_BENCH_BROKER=mosquitto runs the same load through Mosquitto (/usr/sbin/mosquitto,
// anonymous, own process) instead of the hazwatch broker, to tell the broker's share from the engine's.
import mqtt, { type MqttClient } from 'mqtt';
import { AlarmEventPayload } from '../contract/alarms.ts';
import { topicFor } from '../contract/topics.ts';
import { loadConfig } from '../core/config.ts';
import { Worker } from 'node:worker_threads';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { freePort, waitFor } from '../test/support/net.ts';
import { openRegistry } from '../registry/registry.ts';
import { READY, startService, type Service } from './lib/procs.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SECONDS = Number(process.env.HAZWATCH_BENCH_SECONDS ?? 5);
const RATES = (process.env.HAZWATCH_BENCH_RATES ?? '1000,5000,20000').split(',').map(Number);
const DEVICES = 2000;
const PROBES_PER_PHASE = Math.ceil((SECONDS * 1000) / 200);
const GATEWAYS = 4;
const BROKER = process.env.HAZWATCH_BENCH_BROKER === 'mosquitto' ? 'mosquitto' : 'hazwatch';
const ENTERPRISE = 'bench';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main(): Promise<void> {
  const started = Date.now();
  // Both brokers run in a process of their own, as deployed: the load generator and the watcher live
  // on this thread, the rules engine on a worker thread.
  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-alarms-broker-'));
  const registryPath = join(dir, 'registry.db');
  const registry = await openRegistry(registryPath);
  const service = await registry.setService('bench');
  await registry.addDevices(Array.from({ length: DEVICES }, (_, i) => ({ enterprise: ENTERPRISE, id: `lel-${i}`, class: 'gas_combustible' as const })));
  await registry.addDevices(
    Array.from({ length: PROBES_PER_PHASE * RATES.length + 10 }, (_, i) => ({ enterprise: ENTERPRISE, id: `probe-${i}`, class: 'gas_combustible' as const })),
  );
  const gatewayCreds = [];
  for (let g = 0; g < GATEWAYS; g++) gatewayCreds.push(await registry.addGateway(ENTERPRISE, `gw-${g}`));
  const port = await freePort();
  const url = `mqtt://127.0.0.1:${port}`;
  let broker: { url: string; service: { username?: string; password?: string; clientId: string }; registryPath: string; close(): Promise<void> };
  if (BROKER === 'mosquitto') {
    const conf = join(dir, 'mosquitto.conf');
    writeFileSync(conf, `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 0\n`);
    const mosquitto: ChildProcess = spawn('/usr/sbin/mosquitto', ['-c', conf], { stdio: 'ignore' });
    await waitFor(async () => (await mqtt.connectAsync(url, { reconnectPeriod: 0 }).then((c) => (c.end(), true)).catch(() => false)), 10_000);
    broker = { url, service: { clientId: 'svc:bench' }, registryPath, close: async () => void mosquitto.kill() };
  } else {
    const proc: Service = await startService('broker', ['broker', '--port', String(port), '--ws-port', 'false', '--tls-port', 'false'], {
      env: { HAZWATCH_DATA_DIR: dir, HAZWATCH_REGISTRY_PATH: registryPath, HAZWATCH_LOG_LEVEL: 'info', HAZWATCH_BROKER_PUBLISH_RATE_PER_SECOND: '0', HAZWATCH_BROKER_GATEWAY_PUBLISH_RATE_PER_SECOND: '0' },
      ready: READY.broker,
    });
    broker = { url, service, registryPath, close: () => proc.stop() };
  }
  const gateways: MqttClient[] = [];
  for (let g = 0; g < GATEWAYS; g++) {
    const creds = gatewayCreds[g];
    gateways.push(await mqtt.connectAsync(broker.url, BROKER === 'mosquitto' ? { clientId: `bench-gw-${g}`, reconnectPeriod: 0 } : { ...creds, reconnectPeriod: 0 }));
  }
  const overrides = {
    dataDir: mkdtempSync(join(tmpdir(), 'hw-bench-alarms-')),
    log: { level: 'silent' },
    mqtt: { url: broker.url, ...(broker.service.username ? { username: broker.service.username, password: broker.service.password } : {}) },
    rules: { clientId: `${broker.service.clientId}:rules`, pollMs: 50 },
  };
  loadConfig({ env: {}, overrides });
  // The worker registers tsx's loader itself, then loads the TypeScript module.
  const workerUrl = new URL('./alarms-worker.ts', import.meta.url).href;
  const worker = new Worker(`import('tsx/esm/api').then((m) => { m.register(); return import(${JSON.stringify(workerUrl)}); })`, {
    eval: true,
    workerData: { overrides, registryPath: broker.registryPath },
  });
  const waiting = new Map<number, (v: number) => void>();
  let ask = 0;
  await new Promise<void>((resolve, reject) => {
    worker.on('error', reject);
    worker.on('message', (m: { ready?: boolean; id?: number; value?: number }) => {
      if (m.ready) resolve();
      else if (m.id !== undefined) waiting.get(m.id)?.(m.value ?? 0);
    });
  });
  const call = (op: 'readings' | 'settle' | 'close') =>
    new Promise<number>((resolve) => {
      const id = ++ask;
      waiting.set(id, resolve);
      worker.postMessage({ id, op });
    });
  const rules = { settle: () => call('settle'), close: () => call('close') };

  const watcher = await mqtt.connectAsync(broker.url, { ...broker.service, clientId: `${broker.service.clientId}:watch`, reconnectPeriod: 0 });
  const raisedAt = new Map<string, number>();
  watcher.on('message', (_t, payload) => {
    const p = AlarmEventPayload.parse(JSON.parse(payload.toString()));
    if (p.change.action === 'raised' && p.alarm.condition === 'HW_ALM_GAS_LEL_HIGH' && !raisedAt.has(p.alarm.device)) raisedAt.set(p.alarm.device, performance.now());
  });
  await watcher.subscribeAsync(`hw/v1/${ENTERPRISE}/+/alarm`, { qos: 1 });

  const readingsTotal = () => call('readings');
  const deviceTs = new Map<string, number>();
  const publish = (client: MqttClient, device: string, lel: number) => {
    const ts = Math.max(Date.now(), (deviceTs.get(device) ?? 0) + 1);
    deviceTs.set(device, ts);
    client.publish(topicFor(ENTERPRISE, device, 'telemetry'), JSON.stringify({ ts, values: { lel } }), { qos: 1 });
  };

  // Warm-up (not reported): every device seen once, code paths compiled.
  {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < 3000) {
      for (let i = 0; i < 20; i++, n++) publish(gateways[n % GATEWAYS], `lel-${n % DEVICES}`, 1);
      await new Promise((r) => setTimeout(r, 10));
    }
    const until = performance.now() + 30_000;
    while ((await readingsTotal()) < n && performance.now() < until) await new Promise((r) => setTimeout(r, 50));
  }

  let probe = 0;
  const results: { rate: number; offered: number; sustained: number; p50: number; p99: number; max: number; probes: number; missed: number }[] = [];
  for (const rate of RATES) {
    const before = await readingsTotal();
    const sentAt = new Map<string, number>();
    let sent = 0;
    let next = 0;
    const t0 = performance.now();
    const tick = 10;
    let lastProbe = t0;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = performance.now() - t0;
        if (elapsed >= SECONDS * 1000) {
          clearInterval(timer);
          resolve();
          return;
        }
        const due = Math.floor((elapsed / 1000) * rate) - sent;
        for (let i = 0; i < due; i++) {
          const d = next++ % DEVICES;
          publish(gateways[d % GATEWAYS], `lel-${d}`, Math.round(Math.random() * 1000) / 100);
          sent++;
        }
        if (performance.now() - lastProbe >= 200) {
          lastProbe = performance.now();
          const id = `probe-${probe++}`;
          const gw = gateways[probe % GATEWAYS];
          publish(gw, id, 60);
          publish(gw, id, 61);
          sentAt.set(id, performance.now());
        }
      }, tick);
    });
    const offeredSeconds = (performance.now() - t0) / 1000;
    // Wait until the engine has evaluated everything sent in this phase (or 60 s).
    const target = before + sent + sentAt.size * 2;
    const deadline = performance.now() + 60_000;
    while ((await readingsTotal()) < target && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const doneSeconds = (performance.now() - t0) / 1000;
    const processed = (await readingsTotal()) - before;
    await rules.settle();
    await new Promise((r) => setTimeout(r, 300));
    const latencies = [...sentAt].flatMap(([id, t]) => (raisedAt.has(id) ? [raisedAt.get(id)! - t] : [])).sort((a, b) => a - b);
    results.push({
      rate,
      offered: Math.round((sent + sentAt.size * 2) / offeredSeconds),
      sustained: Math.round(processed / doneSeconds),
      p50: Math.round(percentile(latencies, 50) * 10) / 10,
      p99: Math.round(percentile(latencies, 99) * 10) / 10,
      max: Math.round((latencies.at(-1) ?? NaN) * 10) / 10,
      probes: sentAt.size,
      missed: sentAt.size - latencies.length,
    });
    process.stdout.write(`  ${rate}/s done\n`);
  }

  console.log(`\nbench:alarms — ${DEVICES} gas detectors via ${GATEWAYS} gateways, QoS1, ${BROKER === 'mosquitto' ? 'Mosquitto' : 'hazwatch broker'}, ${SECONDS} s per rate, rules on its own thread (${Math.round((Date.now() - started) / 1000)} s)\n`);
  console.log('target r/s | offered r/s | rules sustained r/s | publish→alarm p50 ms | p99 ms | max ms | probes (missed)');
  console.log('-----------|-------------|---------------------|---------------------|--------|--------|----------------');
  for (const r of results) {
    console.log(`${String(r.rate).padStart(10)} | ${String(r.offered).padStart(11)} | ${String(r.sustained).padStart(19)} | ${String(r.p50).padStart(19)} | ${String(r.p99).padStart(6)} | ${String(r.max).padStart(6)} | ${r.probes} (${r.missed})`);
  }

  await watcher.endAsync();
  for (const g of gateways) await g.endAsync();
  await rules.close();
  await worker.terminate();
  await broker.close();
  await registry.close();
  process.exit(0);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
