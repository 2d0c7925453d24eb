// PostgreSQL (database.url: registry, alarm store, console accounts) stopped for OUTAGE_S (default 10 s)
// and started again while the fleet publishes RATE readings/s (default 2,000), probe detectors cross
// their threshold every 250 ms and an operator signs for each probe alarm through the API as it
// arrives: no process exits, every reading is stored, every probe raises exactly one alarm, and every
// signature made during the outage is committed once PostgreSQL is back. Prints the counts.
//   HAZWATCH_FAULT_PG_RATE=2000 HAZWATCH_FAULT_PG_OUTAGE_S=10
import mqtt from 'mqtt';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { startLoad } from '../../bench/lib/load.ts';
import { rawConnect } from '../../bench/lib/raw-mqtt.ts';
import { ownPostgres, type OwnPostgres } from '../support/postgres.ts';
import { ADMIN_PASSWORD, countCode, sleep, startPipeline, startProbing, until, type Pipeline } from './harness.ts';

const RATE = Number(process.env.HAZWATCH_FAULT_PG_RATE ?? 2000);
const OUTAGE_S = Number(process.env.HAZWATCH_FAULT_PG_OUTAGE_S ?? 10);
const PROBES = 80;
let p: Pipeline | undefined;
let server: OwnPostgres | undefined;
afterAll(async () => {
  await p?.close();
  await server?.remove();
});

it(`PostgreSQL restarted under ${RATE} readings/s with rules and API running: no process exits, no alarm change lost`, async () => {
  server = await ownPostgres();
  await server.start();
  p = await startPipeline({ devices: 1000, probes: PROBES, rules: true, api: true, database: server.url });
  const load = await startLoad({ host: '127.0.0.1', port: p.port, enterprise: 'load', devices: p.devices, gateways: p.gateways });
  const login = await fetch(`${p.apiUrl}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }) });
  const token = ((await login.json()) as { token: string }).token;

  // The operator: signs for every probe alarm as soon as it is published.
  const signed: Promise<number>[] = [];
  const alarmsOf = new Map<string, Set<string>>();
  const watch = await mqtt.connectAsync(p.url, { ...p.services.watch, clientId: `${p.services.watch.clientId}:w`, reconnectPeriod: 0 });
  watch.on('message', (_t, payload) => {
    const e = JSON.parse(payload.toString()) as { alarm: { id: string; device: string; condition: string }; change: { action: string } };
    if (e.alarm.condition !== 'HW_ALM_GAS_LEL_HIGH') return;
    if (!alarmsOf.has(e.alarm.device)) alarmsOf.set(e.alarm.device, new Set());
    alarmsOf.get(e.alarm.device)!.add(e.alarm.id);
    if (e.change.action !== 'raised') return;
    signed.push(
      fetch(`${p!.apiUrl}/api/v1/alarms/${e.alarm.id}/acknowledge`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' }).then((r) => r.status),
    );
  });
  await watch.subscribeAsync('hw/v1/probe/+/alarm', { qos: 1 });
  const prober = await rawConnect({ host: '127.0.0.1', port: p.port, ...p.probeGateway });
  const probing = startProbing(prober, PROBES);
  try {
    const run = load.run(RATE, 8 + OUTAGE_S + 12);
    await sleep(8000);
    await server.stop();
    const downAt = Date.now();
    console.log(`postgres-restart: PostgreSQL stopped under ${RATE} readings/s, ${probing.sent()} probes sent, ${signed.length} signatures asked`);
    await sleep(OUTAGE_S * 1000);
    const probesDuring = probing.sent();
    await server.start();
    const upAt = Date.now();
    const done = await run;
    probing.stop();
    const stored = await until(async () => (await p!.stored()) >= done.acked, 120_000, 1000);
    const all = await until(() => alarmsOf.size >= probing.sent() && signed.length >= probing.sent(), 90_000);
    const statuses = await Promise.all(signed);
    await sleep(3000);

    const db = new pg.Client({ connectionString: server.url });
    await db.connect();
    const acked = Number((await db.query("select count(*) as n from alarms where enterprise = 'probe' and acked = 1")).rows[0].n);
    const raisedTwice = (await db.query("select device from alarms where enterprise = 'probe' group by device, condition having count(*) > 1")).rows.length;
    await db.end();
    const alive = [p.broker, p.ingest!, p.rules!, p.api!].filter((s) => s.child.exitCode === null && s.child.signalCode === null).length;
    console.log(
      `postgres-restart: down ${((upAt - downAt) / 1000).toFixed(1)} s (probes ${probesDuring} by its end); sent ${done.sent}, acknowledged ${done.acked}, stored ${await p.stored()}; ` +
        `probes ${probing.sent()}, alarms for ${alarmsOf.size}, signatures ${statuses.length} (${statuses.filter((s) => s === 200).length} × 200, others: ${JSON.stringify(statuses.filter((s) => s !== 200))}); ` +
        `acknowledged in PostgreSQL ${acked}; processes alive ${alive}/4; rules logged ${countCode(p.rules, 'HW_ERR_DB_WRITE')} HW_ERR_DB_WRITE, ${(p.rules!.output().match(/retrying/g) ?? []).length} retries; api ${(p.api!.output().match(/retrying/g) ?? []).length} retries`,
    );
    expect(alive).toBe(4);
    expect(stored).toBe(true);
    expect(await p.stored()).toBe(done.sent);
    expect(all).toBe(true);
    expect([...alarmsOf.values()].filter((ids) => ids.size > 1)).toEqual([]);
    expect(raisedTwice).toBe(0);
    expect(statuses.every((s) => s === 200)).toBe(true);
    expect(acked).toBe(probing.sent());
  } finally {
    probing.stop();
    prober.close();
    await watch.endAsync();
    load.exit();
  }
});
