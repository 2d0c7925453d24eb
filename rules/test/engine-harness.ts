// The rules engine with the default rules on a real alarm store and a clock of its own: messages in at
// chosen times (ms after T0), alarms and history out. For tests of the engine's behaviour end to end.
import type { AlarmEventPayload } from '../../contract/alarms.ts';
import { silentLogger } from '../../core/log.ts';
import { createMetricsRegistry } from '../../core/metrics.ts';
import type { DeviceRecord } from '../../registry/registry.ts';
import { loadRuleSet } from '../definitions.ts';
import { createEngine, type EngineOptions } from '../engine.ts';
import { openAlarmStore } from '../store.ts';

export const T0 = Date.UTC(2026, 11, 6, 8, 0, 0);
const rules = loadRuleSet();

export function record(id: string, cls: DeviceRecord['class'], meta: Record<string, unknown> = {}): DeviceRecord {
  return { enterprise: 'acme', id, class: cls, name: '', site: 'tank-farm', hazardSource: null, intervalSeconds: null, meta, connection: null, createdAt: T0, revokedAt: null };
}

export async function setup(target: string, devices: DeviceRecord[], correlate = true, more: Partial<EngineOptions> = {}) {
  let now = T0;
  const store = await openAlarmStore(target, { now: () => now });
  const byKey = new Map(devices.map((d) => [`${d.enterprise}/${d.id}`, d]));
  const engine = createEngine({ store, rules: () => rules, devices: { get: (e, id) => byKey.get(`${e}/${id}`), all: () => devices }, log: silentLogger(), metrics: createMetricsRegistry(), now: () => now, correlate, ...more });
  await engine.start();
  const at = async (t: number, send: () => void) => {
    now = T0 + t;
    send();
    await engine.idle();
  };
  const reading = (device: string, t: number, values: Record<string, number | boolean>) => at(t, () => engine.telemetry('acme', device, JSON.stringify({ ts: T0 + t, values }), T0 + t));
  const event = (device: string, t: number, type: string, active: boolean | undefined = true, data?: Record<string, unknown>) =>
    at(t, () => engine.event('acme', device, JSON.stringify({ ts: T0 + t, type, ...(active === undefined ? {} : { active }), ...(data ? { data } : {}) }), T0 + t));
  const all = async () => store.list({ limit: 1000 });
  const history = async () => (await store.tailHistory(0, 10_000)) as AlarmEventPayload[];
  return { store, engine, reading, event, all, history, setNow: (t: number) => (now = T0 + t) };
}
