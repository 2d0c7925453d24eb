// Several API nodes on one PostgreSQL (database.url), as the cluster runs them: any node serves any
// signed-in operator, every node's live stream shows every alarm change whichever process made it,
// and two operators acting on one alarm at the same instant on two nodes make one history.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { openRegistry, type Registry } from '../../registry/registry.ts';
import { openAlarmStore } from '../../rules/store.ts';
import type { AlarmStore } from '../../rules/store-types.ts';
import { createTestPostgres } from '../../test/support/postgres.ts';
import { startApi, type ApiService } from '../start.ts';

const ADMIN = { username: 'admin', password: 'admin-password-1' };
let database: { url: string; drop: () => Promise<void> };
let nodes: { api: ApiService; registry: Registry; dir: string }[] = [];
let rules: AlarmStore;

async function node(): Promise<{ api: ApiService; registry: Registry; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-node-'));
  const config = loadConfig({ env: {}, overrides: { dataDir: dir, database: { url: database.url }, api: { port: 0, adminPassword: ADMIN.password } } });
  const registry = await openRegistry(database.url);
  const api = await startApi({ config, log: silentLogger(), metrics: createMetricsRegistry(), registry, mqtt: false });
  return { api, registry, dir };
}

const call = async (n: number, method: string, path: string, token?: string, body?: unknown) => {
  const res = await fetch(`${nodes[n].api.url}${path}`, {
    method,
    headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};

beforeAll(async () => {
  database = await createTestPostgres('hw_nodes');
  // Both nodes start at once: the schema is created once, and one first administrator.
  nodes = await Promise.all([node(), node()]);
  rules = await openAlarmStore(database.url);
  await nodes[0].registry.addDevices([{ enterprise: 'acme', id: 'gas-1', class: 'gas_combustible' }]);
  // Each node follows the registry every second by itself; here at once, not to wait.
  await nodes[1].registry.pollChanges();
}, 60_000);

afterAll(async () => {
  for (const n of nodes) {
    await n.api.close();
    await n.registry.close();
    rmSync(n.dir, { recursive: true, force: true });
  }
  await rules?.dispose();
  await database?.drop();
});

describe('API nodes on one PostgreSQL', () => {
  test('a session opened on one node is honoured by the other; signing out on the other ends it everywhere', async () => {
    const login = await call(0, 'POST', '/api/v1/session', undefined, ADMIN);
    expect(login.status).toBe(200);
    const token = login.body.token as string;
    expect((await call(1, 'GET', '/api/v1/session', token)).status).toBe(200);
    // A device registered through node 1 is known to node 0 within its registry check.
    const created = await call(1, 'POST', '/api/v1/enterprises/acme/devices', token, { id: 'o2-7', class: 'oxygen' });
    expect(created.status).toBe(201);
    await nodes[0].registry.pollChanges();
    expect((await call(0, 'GET', '/api/v1/enterprises/acme/devices/o2-7', token)).status).toBe(200);
    expect((await call(1, 'DELETE', '/api/v1/session', token)).status).toBe(200);
    expect((await call(0, 'GET', '/api/v1/session', token)).status).toBe(401);
    // The audit log is one: node 0 lists what was done on node 1.
    const again = (await call(0, 'POST', '/api/v1/session', undefined, ADMIN)).body.token as string;
    const audit = (await fetch(`${nodes[0].api.url}/api/v1/audit?action=device.provision`, { headers: { authorization: `Bearer ${again}` } }).then((r) => r.json())) as { target: string }[];
    expect(audit.map((e) => e.target)).toContain('acme/o2-7');
  });

  test("each node's live stream shows an alarm raised by a rules process elsewhere, and the other node's actions", async () => {
    const token = (await call(1, 'POST', '/api/v1/session', undefined, ADMIN)).body.token as string;
    const res = await fetch(`${nodes[1].api.url}/api/v1/stream?values=false`, { headers: { authorization: `Bearer ${token}` } });
    const reader = res.body!.getReader();
    let text = '';
    const until = async (needle: string) => {
      while (!text.includes(needle)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await until('event: hello');
    const raised = (await rules.raise({ enterprise: 'acme', device: 'gas-1', deviceClass: 'gas_combustible', site: '', hazardSource: null, condition: 'HW_ALM_GAS_LEL_HIGH', level: 2, metric: 'lel', value: 30, threshold: 25, message: 'lel 30', at: Date.now() }))!;
    await until(raised.alarm.id);
    expect((await call(0, 'POST', `/api/v1/alarms/${raised.alarm.id}/acknowledge`, token, {})).status).toBe(200);
    await until('"action":"acknowledged"');
    await reader.cancel();
  });

  test('two operators acknowledge, then close, one alarm on two nodes at the same instant: one history, the loser told why', async () => {
    const [t0, t1] = await Promise.all([0, 1].map(async (n) => (await call(n, 'POST', '/api/v1/session', undefined, ADMIN)).body.token as string));
    const alarm = (await rules.raise({ enterprise: 'acme', device: 'gas-1', deviceClass: 'gas_combustible', site: '', hazardSource: null, condition: 'HW_ALM_DEVICE_FAULT', level: 3, metric: null, value: null, threshold: null, message: 'fault', at: Date.now() }))!.alarm;
    const acks = await Promise.all([call(0, 'POST', `/api/v1/alarms/${alarm.id}/acknowledge`, t0, {}), call(1, 'POST', `/api/v1/alarms/${alarm.id}/acknowledge`, t1, {})]);
    expect(acks.map((r) => r.status).sort()).toEqual([200, 409]);
    expect(acks.find((r) => r.status === 409)!.body.code).toBe('HW_ERR_ALARM_TRANSITION');
    await rules.clearAuto(alarm.id, null, Date.now());
    const closes = await Promise.all([call(0, 'POST', `/api/v1/alarms/${alarm.id}/close`, t0, {}), call(1, 'POST', `/api/v1/alarms/${alarm.id}/close`, t1, {})]);
    expect(closes.map((r) => r.status).sort()).toEqual([200, 409]);
    const history = (await rules.history(alarm.id)).map((h) => h.action);
    expect(history).toEqual(['raised', 'acknowledged', 'cleared', 'closed']);
  });
});
