// The cluster (bench/lib/cluster.ts: Redis, PostgreSQL, two broker nodes behind HAProxy, two ingest and
// two rules processes on static partitions of enterprises, two API nodes) under RATE readings/s: one
// ingest process and the rules process that publishes the alarm changes are killed with SIGKILL, and
// started again 2 s later as a supervisor would. The other rules process takes the publisher role over
// within its election period; the killed ones resume from their persistent sessions (in Redis) and
// spools. Asserted: stored = sent, every probe detector (in both partitions, probing through the kills)
// raises exactly one alarm (a change published just before the kill may come again, with its seq:
// counted, not failed), and API node 2's live stream shows every
// probe alarm whichever rules process raised it. Prints the counts.
//   HAZWATCH_FAULT_WORKERS_RATE=1000 readings/s (split over the two partitions)
import { afterAll, expect, it } from 'vitest';
import { startLoad, type Load } from '../../bench/lib/load.ts';
import { startCluster, CLUSTER_ADMIN_PASSWORD, type Cluster } from '../../bench/lib/cluster.ts';
import { rawConnect, type RawClient } from '../../bench/lib/raw-mqtt.ts';
import type { Credentials } from '../../registry/registry.ts';
import { missingReadings, sleep, startProbing, until } from './harness.ts';

const RATE = Number(process.env.HAZWATCH_FAULT_WORKERS_RATE ?? 1000);
const DB = 'hazwatch_workers_kill';
const DEVICES = 400;
const PROBES = 60;
const PARTS = ['a', 'b'] as const;

let cluster: Cluster | undefined;
const loads: Load[] = [];
const raw: RawClient[] = [];
afterAll(async () => {
  for (const l of loads) l.exit();
  for (const c of raw) c.close();
  await cluster?.close();
});

it(`SIGKILL of one of two ingest and of the publishing one of two rules processes under ${RATE} readings/s: stored = sent, every probe alarm once`, async () => {
  const gateways: Record<string, Credentials[]> = {};
  const probeGateways: Record<string, Credentials> = {};
  cluster = await startCluster({
    db: DB,
    api: true,
    partitions: PARTS.map((p) => [`load-${p}`, `probe-${p}`]),
    async provision(registry) {
      for (const p of PARTS) {
        await registry.addDevices(Array.from({ length: DEVICES }, (_, i) => ({ enterprise: `load-${p}`, id: `lel-${i}`, class: 'gas_combustible' as const, intervalSeconds: 3600 })));
        await registry.addDevices(Array.from({ length: PROBES }, (_, i) => ({ enterprise: `probe-${p}`, id: `p-${i}`, class: 'gas_combustible' as const, intervalSeconds: 3600 })));
        gateways[p] = [await registry.addGateway(`load-${p}`, 'gw-0'), await registry.addGateway(`load-${p}`, 'gw-1')];
        probeGateways[p] = await registry.addGateway(`probe-${p}`, 'gw');
      }
    },
  });
  const c = cluster;
  const devices = Array.from({ length: DEVICES }, (_, i) => `lel-${i}`);
  for (const p of PARTS) loads.push(await startLoad({ host: '127.0.0.1', port: c.port, enterprise: `load-${p}`, devices, gateways: gateways[p], ledger: true }));

  // Every alarm change on the alarm topic, by device: its alarm ids and how often each change came.
  const alarmIds = new Map<string, Set<string>>();
  const deliveries = new Map<string, number>();
  const watcher = await rawConnect({ host: '127.0.0.1', port: c.port, ...c.watch, clientId: `${c.watch.clientId}:w` });
  raw.push(watcher);
  watcher.onMessage = (_t, payload) => {
    const e = JSON.parse(payload.toString()) as { alarm: { id: string; enterprise: string; device: string; condition: string }; change: { seq: number } };
    if (e.alarm.condition !== 'HW_ALM_GAS_LEL_HIGH') return;
    const key = `${e.alarm.enterprise}/${e.alarm.device}`;
    if (!alarmIds.has(key)) alarmIds.set(key, new Set());
    alarmIds.get(key)!.add(e.alarm.id);
    deliveries.set(`${e.alarm.id}#${e.change.seq}`, (deliveries.get(`${e.alarm.id}#${e.change.seq}`) ?? 0) + 1);
  };
  for (const p of PARTS) await watcher.subscribe(`hw/v1/probe-${p}/+/alarm`, 1);

  // The console: logged in through HAProxy's HTTP frontend (whichever node answers), the live stream of
  // API node 2 with that session (sessions are shared in PostgreSQL).
  const api = c.apiUrls[1];
  const login = await fetch(`${c.apiUrl}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: CLUSTER_ADMIN_PASSWORD }) });
  expect(login.status).toBe(200);
  const token = ((await login.json()) as { token: string }).token;
  const stream = await fetch(`${api}/api/v1/stream?values=false`, { headers: { authorization: `Bearer ${token}` } });
  const reader = stream.body!.getReader();
  const streamed = new Set<string>();
  let text = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
      if (done) return;
      text += new TextDecoder().decode(value);
      const lines = text.split('\n');
      text = lines.pop()!;
      for (const line of lines) {
        if (!line.startsWith('data: {"alarm"')) continue;
        const e = JSON.parse(line.slice(6)) as { alarm: { enterprise: string; device: string }; change: { action: string } };
        if (e.alarm.enterprise.startsWith('probe-') && e.change.action === 'raised') streamed.add(`${e.alarm.enterprise}/${e.alarm.device}`);
      }
    }
  })();

  const probers = [];
  for (const p of PARTS) {
    const prober = await rawConnect({ host: '127.0.0.1', port: c.port, ...probeGateways[p] });
    raw.push(prober);
    probers.push(startProbing(prober, PROBES, `probe-${p}`));
  }
  const publisherOf = () => ['rules-1', 'rules-2'].find((n) => c.services.get(n)!.output().includes('this process is the rules-publisher now'));
  try {
    const runs = loads.map((l) => l.run(RATE / 2, 26));
    await sleep(6000);
    const killedAt = Date.now();
    const victim = publisherOf()!;
    const survivor = victim === 'rules-1' ? 'rules-2' : 'rules-1';
    const mark = c.services.get(survivor)!.mark();
    await Promise.all([c.services.get('ingest-1')!.stop('SIGKILL'), c.services.get(victim)!.stop('SIGKILL')]);
    console.log(`workers-kill: ingest-1 and ${victim} (the publisher) killed at 6 s`);
    await sleep(2000);
    await Promise.all([c.start('ingest-1'), c.start(victim)]);
    await c.services.get(survivor)!.waitFor(/this process is the rules-publisher now/, 20_000, mark);
    const done = await Promise.all(runs);
    for (const pr of probers) pr.stop();
    const sent = done.reduce((n, d) => n + d.sent, 0);
    const stored = () => c.influx.count(DB, 'gas_combustible', "enterprise =~ /^load-/");
    const allStored = await until(async () => (await stored()) >= sent, 120_000, 1000);
    const probes = probers.reduce((n, pr) => n + pr.sent(), 0);
    const allAlarms = await until(() => alarmIds.size >= probes && streamed.size >= probes, 60_000);
    await sleep(3000); // late duplicates, if any, would arrive now
    const twoAlarms = [...alarmIds].filter(([, ids]) => ids.size > 1).map(([d]) => d);
    const twice = [...deliveries.values()].filter((n) => n > 1).length;
    console.log(
      `workers-kill: sent ${sent}, acknowledged ${done.reduce((n, d) => n + d.acked, 0)}, stored ${await stored()}; probes ${probes}, alarms for ${alarmIds.size}, ` +
        `on API node 2's live stream ${streamed.size}; devices with more than one alarm ${twoAlarms.length}; changes delivered more than once ${twice}; publisher now ${survivor}; ` +
        `SUBSCRIBEs given up and sent again ${[...c.services.values()].reduce((n, svc) => n + (svc.output().match(/HW_ERR_SUBSCRIBE_TIMEOUT/g)?.length ?? 0), 0)}`,
    );
    if ((await stored()) !== sent) {
      // Where the loss lies: the readings not stored, by time from the kill and by topic.
      const missing = await missingReadings(c.influx.url, DB, 'gas_combustible', done.map((d) => d.ledger!));
      console.log(`workers-kill: ${missing.length} readings not stored: ${missing.slice(0, 20).map((m) => `${m.topic} ${m.ts} (${m.ts - killedAt} ms from the kill)`).join('; ')}`);
    }
    expect(allStored).toBe(true);
    expect(await stored()).toBe(sent);
    expect(allAlarms).toBe(true);
    expect(twoAlarms).toEqual([]);
    expect(c.services.get(victim)!.output()).toContain('stands by to take over');
  } finally {
    for (const pr of probers) pr.stop();
    await reader.cancel().catch(() => undefined);
  }
});
