// Bad input at volume while good traffic flows: malformed MQTT packets on raw sockets, refused payloads
// and topics from an enterprise gateway, and random API requests. No process crashes, every refused
// payload is counted by ingest (its `ingest stopped` totals), the good readings all land in InfluxDB,
// and the API answers every bad request with a 4xx, never a 5xx.
//   HAZWATCH_FAULT_BAD=3000  (bad payloads; malformed connections and API requests scale with it)
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startLoad } from '../../bench/lib/load.ts';
import { startService, type Service } from '../../bench/lib/procs.ts';
import { rawConnect } from '../../bench/lib/raw-mqtt.ts';
import { freePort } from '../support/net.ts';
import { sleep, startPipeline, until, type Pipeline } from './harness.ts';

const BAD = Number(process.env.HAZWATCH_FAULT_BAD ?? 3000);
let p: Pipeline | undefined;
let api: Service | undefined;
afterAll(async () => {
  await api?.stop();
  await p?.close();
});

/** Payloads that each earn exactly one rejection (one reason) from ingest. */
const BAD_PAYLOADS: (string | Buffer)[] = [
  '{"values":{"lel":',
  '{}',
  '[]',
  'null',
  '{"values":{"nope":1}}',
  '{"values":{"lel":1000}}',
  '{"values":{"lel":"NaN"}}',
  '{"values":{"lel":"12"}}',
  '{"ts":"yesterday","values":{"lel":1}}',
  Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
  '{"values":{"lel":1},"extra":true}',
  `{"readings":[${Array.from({ length: 1001 }, () => '{"values":{"lel":1}}').join(',')}]}`,
];

/** Byte sequences that break the MQTT protocol. */
const MALFORMED: Buffer[] = [
  Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
  Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01]), // remaining length over 4 bytes
  Buffer.from([0x30, 0x05, 0x00, 0x01, 0x61, 0x62, 0x63]), // PUBLISH before CONNECT
  Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x58, 0x58, 0x04, 0x02, 0x00, 0x3c, 0x00, 0x00]), // bad protocol name
  Buffer.from([0x10, 0x0c, 0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x09, 0x02, 0x00, 0x3c, 0x00, 0x00]), // protocol level 9
  Buffer.from([0xf0, 0x00]), // reserved packet type
];

function malformedConnection(port: number, bytes: Buffer, i: number): Promise<'closed' | 'open'> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, localAddress: `127.0.0.${10 + (i % 50)}` });
    // Longer than the broker's CONNECT timeout: random bytes may look like the start of a long packet.
    const timer = setTimeout(() => (s.destroy(), resolve('open')), 45_000);
    s.on('connect', () => s.write(i % 7 === 0 ? Buffer.from(Array.from({ length: 64 }, () => Math.floor(Math.random() * 256))) : bytes));
    s.on('error', () => undefined);
    s.on('close', () => (clearTimeout(timer), resolve('closed')));
  });
}

it(`bad input at volume (${BAD} payloads, ${BAD / 3} malformed connections, ${BAD / 3} bad topics, ${BAD} API requests): no crash, all counted, good traffic flows`, async () => {
  p = await startPipeline({ devices: 500, rules: true });
  const apiPort = await freePort();
  api = await startService('api', ['api'], {
    env: { HAZWATCH_DATA_DIR: join(p.dir, 'api'), HAZWATCH_REGISTRY_PATH: p.registryPath, HAZWATCH_API_HOST: '127.0.0.1', HAZWATCH_API_PORT: String(apiPort), HAZWATCH_API_DEMO_LOGIN: 'true', HAZWATCH_API_INFLUX_URL: p.influx.url, HAZWATCH_API_INFLUX_DATABASE: 'hazwatch_faults', HAZWATCH_API_ALARMS_PATH: join(p.dir, 'rules', 'alarms.db'), HAZWATCH_LOG_LEVEL: 'info' },
    ready: /API and console listening/,
  });
  const load = await startLoad({ host: '127.0.0.1', port: p.port, enterprise: 'load', devices: p.devices, gateways: p.gateways });
  const gw = await rawConnect({ host: '127.0.0.1', port: p.port, ...p.probeGateway });
  try {
    const good = load.run(1000, 25);
    await sleep(2000);
    // 1. Refused payloads on valid topics.
    for (let i = 0; i < BAD; i++) {
      gw.publish(`hw/v1/probe/p-${i % 100}/telemetry`, BAD_PAYLOADS[i % BAD_PAYLOADS.length], 1);
      if (i % 200 === 0) await sleep(20);
    }
    // 2. Topics no client may publish on (dropped by the broker, the gateway stays connected).
    const badTopics = ['hw/v1/probe/p-1/bogus', 'hw/v1/load/lel-1/telemetry', 'hw/v2/probe/p-1/telemetry', 'hw/v1/probe/p-1/telemetry/x', 'hw/v1/probe/p-1/alarm', `hw/v1/probe/${'x'.repeat(300)}/telemetry`, 'hw/v1/probe/p-1/status/../telemetry', '$SYS/x'];
    for (let i = 0; i < BAD / 3; i++) gw.publish(badTopics[i % badTopics.length], '{"values":{"lel":1}}', 1);
    // 3. Malformed MQTT, all connections at once (some random bytes look like the start of a long packet:
    // the broker closes those at its CONNECT timeout, so waiting batch by batch would take minutes).
    const outcomes: Record<string, number> = {};
    const malformed = await Promise.all(Array.from({ length: BAD / 3 }, (_, i) => malformedConnection(p!.port, MALFORMED[i % MALFORMED.length], i)));
    for (const o of malformed) outcomes[o] = (outcomes[o] ?? 0) + 1;
    // 4. Random API requests, half with a session.
    const base = `http://127.0.0.1:${apiPort}`;
    const login = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'demo', password: 'hazwatch-demo' }) });
    const cookie = login.headers.get('set-cookie')?.split(';')[0] ?? '';
    // A second session, never used by the fuzz (which may sign its own out), for the check afterwards.
    const spare = await fetch(`${base}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'demo', password: 'hazwatch-demo' }) });
    const spareCookie = spare.headers.get('set-cookie')?.split(';')[0] ?? '';
    const paths = ['/api/v1/alarms', '/api/v1/alarms/%00', '/api/v1/devices?limit=-1', '/api/v1/enterprises/..%2f..%2fetc/devices', '/api/v1/enterprises/x/devices/y/chart?from=abc&to=1e999', '/api/v1/latest?enterprise=' + 'a'.repeat(5000), '/api/v1/maintenance', '/api/v1/accounts', '/api/v1/session', '/api/v1/enterprises/acme/devices/%E0%A4%A/thresholds', '/api/v1/alarms/1/ack', '/api/v1/nope', '/%2e%2e/%2e%2e/etc/passwd'];
    const bodies = ['{', '[]', 'null', '{"username":{"$gt":""}}', JSON.stringify({ reason: 'x'.repeat(100_000) }), '\u0000\u0001', '{"cause":"nope","measures":""}'];
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
    const statuses: Record<string, number> = {};
    for (let i = 0; i < BAD; i += 50) {
      await Promise.all(
        Array.from({ length: 50 }, async (_, k) => {
          const n = i + k;
          const method = methods[n % methods.length];
          const res = await fetch(base + paths[n % paths.length], {
            method,
            headers: { ...(n % 2 ? { cookie } : {}), ...(method === 'GET' || method === 'DELETE' ? {} : { 'content-type': n % 3 ? 'application/json' : 'text/plain' }) },
            body: method === 'GET' || method === 'DELETE' ? undefined : bodies[n % bodies.length],
          }).catch((err: Error) => ({ status: `network error ${err.message}` }));
          const key = typeof res.status === 'number' ? `${Math.floor(res.status / 100)}xx` : String(res.status);
          statuses[key] = (statuses[key] ?? 0) + 1;
        }),
      );
    }
    const done = await good;
    expect(await until(async () => (await p!.stored()) >= done.acked, 60_000)).toBe(true);
    const alive = { broker: p.broker.child.exitCode === null, ingest: p.ingest!.child.exitCode === null, rules: p.rules!.child.exitCode === null, api: api.child.exitCode === null };
    const catalog = (await fetch(`${base}/api/v1/catalog`, { headers: { cookie: spareCookie } })).status;
    const malformedLogged = p.broker.output().split('\n').filter((l) => l.includes('HW_ERR_MALFORMED_PACKET')).length;
    // ingest's totals, printed when it stops.
    const mark = p.ingest!.mark();
    await p.ingest!.stop('SIGTERM');
    const stoppedLine = p.ingest!.output().split('\n').find((l) => l.includes('"ingest stopped"')) ?? '{}';
    const totals = JSON.parse(stoppedLine) as { rejected?: number; received?: number };
    void mark;
    console.log(
      `bad-input: good readings sent ${done.sent}, stored ${await p.stored()}; ${BAD} bad payloads → ingest rejected ${totals.rejected} (received ${totals.received}); ` +
        `${BAD / 3} malformed connections → ${JSON.stringify(outcomes)}, broker logged HW_ERR_MALFORMED_PACKET ${malformedLogged}; ${BAD / 3} bad topics dropped, gateway still connected: ${!gw.socket.destroyed}; ` +
        `${BAD} API requests → ${JSON.stringify(statuses)}, login ${login.status}, catalog afterwards (untouched session) ${catalog}; processes alive ${JSON.stringify(alive)}`,
    );
    expect(alive).toEqual({ broker: true, ingest: true, rules: true, api: true });
    expect(await p.stored()).toBe(done.sent);
    expect(totals.rejected).toBe(BAD);
    expect(outcomes.open ?? 0).toBe(0);
    expect(gw.socket.destroyed).toBe(false);
    expect(statuses['5xx'] ?? 0).toBe(0);
    expect(catalog).toBe(200);
  } finally {
    gw.close();
    load.exit();
  }
});
