// A real API on real stores in a temporary directory: registry, hazard sources, alarm store, accounts.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import { openRegistry, type Registry } from '../../registry/registry.ts';
import { openAlarmStore, type AlarmStore } from '../../rules/store.ts';
import { startApi, type ApiService } from '../start.ts';

export const ADMIN = { username: 'admin', password: 'admin-password-1' };

export interface Harness {
  dir: string;
  api: ApiService;
  registry: Registry;
  alarms: AlarmStore;
  clock: { t: number };
  close(): Promise<void>;
}

export async function startHarness(options: { api?: Record<string, unknown>; mqtt?: { url: string; username: string; password: string } | false; config?: Record<string, unknown> } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-api-'));
  const clock = { t: Date.now() };
  const now = () => clock.t;
  const config = loadConfig({
    env: {},
    overrides: { dataDir: dir, ...options.config, api: { port: 0, adminPassword: ADMIN.password, loginRateLimit: 1000, ...options.api } },
  });
  const registry = await openRegistry(join(dir, 'registry.db'));
  const alarms = await openAlarmStore(join(dir, 'alarms.db'), { now });
  const api = await startApi({ config, log: silentLogger(), metrics: createMetricsRegistry(), registry, alarms, mqtt: options.mqtt ?? false, now });
  return {
    dir,
    api,
    registry,
    alarms,
    clock,
    async close() {
      await api.close();
      await alarms.dispose();
      await registry.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Signs in through the API and returns the bearer header. */
export async function login(h: Harness, username: string, password: string): Promise<Record<string, string>> {
  const res = await h.api.app.inject({ method: 'POST', url: '/api/v1/session', payload: { username, password } });
  if (res.statusCode !== 200) throw new Error(`login ${username} failed: ${res.statusCode} ${res.body}`);
  return { authorization: `Bearer ${res.json().token}` };
}
