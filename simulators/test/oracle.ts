// A reference evaluator for the simulator's own tests: applies the default thresholds of
// shared/domain.md (the same defaults rules/defaults/*.yaml carries) to what a scenario's devices sent,
// after the contract's interpretation (what ingest would store), and says which alarms a correct rules
// engine must raise and when. It checks that each scenario's expected-alarm list is right; it is not
// the rules engine and does not replace its tests.
import type { AlarmCondition, AlarmLevel } from '../../contract/alarms.ts';
import type { DeviceClass, EventType } from '../../contract/catalog.ts';
import { interpretEvent, interpretTelemetry } from '../../contract/payloads.ts';
import type { ScenarioPlan } from '../scenario.ts';
import type { VesselLimits } from '../models/index.ts';

export interface Observed {
  enterprise: string;
  device: string;
  channel: 'telemetry' | 'event' | 'status';
  payload: string | Buffer;
  /** When the platform received it (epoch ms). */
  receivedAt: number;
}

export interface OracleDevice {
  enterprise: string;
  id: string;
  class: DeviceClass;
  intervalSeconds: number;
  meta: Record<string, unknown>;
}

export interface Reached {
  enterprise: string;
  device: string;
  condition: AlarmCondition;
  level: AlarmLevel;
  at: number;
}

interface Threshold {
  condition: AlarmCondition;
  metric: string;
  dir: 'high' | 'low';
  stages: { level: AlarmLevel; raise: number }[];
  deadband: number;
  samples: number;
}

function thresholds(cls: DeviceClass, meta: Record<string, unknown>): Threshold[] {
  const t = (condition: AlarmCondition, metric: string, dir: 'high' | 'low', stages: [AlarmLevel, number][], deadband: number, samples = 2): Threshold => ({
    condition,
    metric,
    dir,
    stages: stages.map(([level, raise]) => ({ level, raise })),
    deadband,
    samples,
  });
  switch (cls) {
    case 'gas_combustible':
      return [t('HW_ALM_GAS_LEL_HIGH', 'lel', 'high', [[2, 25], [1, 50]], 3)];
    case 'gas_toxic': {
      const el = typeof meta.exposureLimit === 'number' ? meta.exposureLimit : 10;
      return [t('HW_ALM_GAS_TOXIC_HIGH', 'ppm', 'high', [[2, el], [1, 2 * el]], el * 0.1)];
    }
    case 'oxygen':
      return [t('HW_ALM_O2_LOW', 'o2', 'low', [[2, 19.5]], 0.3), t('HW_ALM_O2_HIGH', 'o2', 'high', [[2, 23.5]], 0.3)];
    case 'vessel': {
      const l = meta.limits as VesselLimits;
      const pair = (metric: 'level' | 'temperature' | 'pressure', hi: AlarmCondition, lo: AlarmCondition, pct: number) => [
        t(hi, metric, 'high', [[3, l[metric].H], [2, l[metric].HH]], Math.abs(l[metric].H) * pct),
        t(lo, metric, 'low', [[3, l[metric].L], [2, l[metric].LL]], Math.abs(l[metric].L) * pct),
      ];
      return [
        ...pair('level', 'HW_ALM_LEVEL_HIGH', 'HW_ALM_LEVEL_LOW', 0.01),
        ...pair('temperature', 'HW_ALM_TEMPERATURE_HIGH', 'HW_ALM_TEMPERATURE_LOW', 0.02),
        ...pair('pressure', 'HW_ALM_PRESSURE_HIGH', 'HW_ALM_PRESSURE_LOW', 0.02),
      ];
    }
    case 'fire_water':
      return [t('HW_ALM_FIRE_WATER_PRESSURE_LOW', 'pressure', 'low', [[2, 0.1]], 0.01)];
    case 'power_meter': {
      const rated = typeof meta.ratedCurrent === 'number' ? meta.ratedCurrent : 100;
      return [
        t('HW_ALM_RESIDUAL_CURRENT_HIGH', 'residual_current', 'high', [[2, 300]], 30),
        t('HW_ALM_CABLE_TEMPERATURE_HIGH', 'cable_temperature', 'high', [[2, 70]], 3),
        t('HW_ALM_OVER_VOLTAGE', 'voltage', 'high', [[3, 242]], 3, 3),
        t('HW_ALM_UNDER_VOLTAGE', 'voltage', 'low', [[3, 198]], 3, 3),
        t('HW_ALM_OVER_CURRENT', 'current', 'high', [[3, rated * 1.05]], rated * 0.05, 3),
      ];
    }
    case 'smoke_alarm':
      return [t('HW_ALM_LOW_BATTERY', 'battery', 'low', [[4, 20]], 5, 1)];
    case 'camera':
      return [];
  }
}

const EVENT_ALARMS: Partial<Record<EventType, [AlarmCondition, AlarmLevel]>> = {
  alarm_stage1: ['HW_ALM_GAS_DETECTOR_ALARM', 2],
  alarm_stage2: ['HW_ALM_GAS_DETECTOR_ALARM', 1],
  interlock_trip: ['HW_ALM_INTERLOCK_TRIP', 2],
  pump_fault: ['HW_ALM_PUMP_FAULT', 2],
  hydrant_draw: ['HW_ALM_HYDRANT_DRAW', 3],
  tilt: ['HW_ALM_HYDRANT_DRAW', 3],
  arc_fault: ['HW_ALM_ARC_FAULT', 2],
  intrusion: ['HW_ALM_VIDEO_INTRUSION', 2],
  smoke_fire: ['HW_ALM_VIDEO_FIRE', 1],
  no_helmet: ['HW_ALM_VIDEO_NO_HELMET', 4],
  leak_spotted: ['HW_ALM_VIDEO_LEAK', 2],
  smoke: ['HW_ALM_SMOKE', 1],
  low_battery: ['HW_ALM_LOW_BATTERY', 4],
  fault: ['HW_ALM_DEVICE_FAULT', 4],
  sensor_short: ['HW_ALM_DEVICE_FAULT', 4],
  sensor_open: ['HW_ALM_DEVICE_FAULT', 4],
  tamper: ['HW_ALM_TAMPER', 4],
};

export interface OracleResult {
  reached: Reached[];
  /** Instances (raise after a clear) per `<enterprise>/<device>/<condition>`. */
  instances: Map<string, number>;
}

/** What a rules engine with the default thresholds must raise for these messages, until `end`. */
export function evaluate(devices: OracleDevice[], observed: Observed[], end: number): OracleResult {
  const reached = new Map<string, Reached>();
  const instances = new Map<string, number>();
  const active = new Set<string>();
  const reach = (d: OracleDevice, condition: AlarmCondition, level: AlarmLevel, at: number) => {
    const key = `${d.enterprise}/${d.id}/${condition}/${level}`;
    if (!reached.has(key)) reached.set(key, { enterprise: d.enterprise, device: d.id, condition, level, at });
  };
  const raise = (d: OracleDevice, condition: AlarmCondition, level: AlarmLevel, at: number) => {
    const key = `${d.enterprise}/${d.id}/${condition}`;
    if (!active.has(key)) {
      active.add(key);
      instances.set(key, (instances.get(key) ?? 0) + 1);
    }
    reach(d, condition, level, at);
  };
  const clear = (d: OracleDevice, condition: AlarmCondition) => active.delete(`${d.enterprise}/${d.id}/${condition}`);

  const byKey = new Map(devices.map((d) => [`${d.enterprise}/${d.id}`, d]));
  const state = new Map<string, { rules: Threshold[]; above: Map<string, number>; below: Map<string, number>; lastTs?: number; noPressureSince?: number }>();
  for (const d of devices) state.set(`${d.enterprise}/${d.id}`, { rules: thresholds(d.class, d.meta), above: new Map(), below: new Map() });

  const silence = (d: OracleDevice, from: number | undefined, to: number) => {
    const limit = 3 * d.intervalSeconds * 1000;
    if (from !== undefined && to - from > limit) raise(d, 'HW_ALM_DEVICE_OFFLINE', 4, from + limit);
  };

  for (const m of observed) {
    const d = byKey.get(`${m.enterprise}/${m.device}`);
    if (!d) continue;
    const s = state.get(`${d.enterprise}/${d.id}`)!;
    if (m.channel === 'event') {
      const e = interpretEvent(d.class, m.payload, m.receivedAt).event;
      const mapped = e && EVENT_ALARMS[e.type];
      if (!e || !mapped) continue;
      if (e.active) raise(d, mapped[0], mapped[1], e.ts);
      continue;
    }
    if (m.channel !== 'telemetry') continue;
    for (const r of interpretTelemetry(d.class, m.payload, m.receivedAt).readings) {
      silence(d, s.lastTs, r.ts);
      if (s.lastTs !== undefined && r.ts - s.lastTs <= 3 * d.intervalSeconds * 1000) clear(d, 'HW_ALM_DEVICE_OFFLINE');
      s.lastTs = r.ts;
      for (const rule of s.rules) {
        const v = r.values[rule.metric];
        if (typeof v !== 'number') continue;
        let worst: AlarmLevel | undefined;
        for (const st of rule.stages) {
          const key = `${rule.condition}/${st.level}`;
          const beyond = rule.dir === 'high' ? v >= st.raise : v <= st.raise;
          const n = beyond ? (s.above.get(key) ?? 0) + 1 : 0;
          s.above.set(key, n);
          if (n >= rule.samples && (worst === undefined || st.level < worst)) worst = st.level;
        }
        if (worst !== undefined) raise(d, rule.condition, worst, r.ts);
        const first = rule.stages[0];
        const cleared = rule.dir === 'high' ? v < first.raise - rule.deadband : v > first.raise + rule.deadband;
        const n = cleared ? (s.below.get(rule.condition) ?? 0) + 1 : 0;
        s.below.set(rule.condition, n);
        if (n >= 2) clear(d, rule.condition);
      }
      if (d.class === 'fire_water') {
        const bad = r.values.pump_running === true && typeof r.values.pressure === 'number' && r.values.pressure < 0.1;
        if (!bad) s.noPressureSince = undefined;
        else if (s.noPressureSince === undefined) s.noPressureSince = r.ts;
        else if (r.ts - s.noPressureSince >= 60_000) raise(d, 'HW_ALM_FIRE_PUMP_NO_PRESSURE', 2, r.ts);
      }
    }
  }
  for (const d of devices) silence(d, state.get(`${d.enterprise}/${d.id}`)!.lastTs, end);
  return { reached: [...reached.values()].sort((a, b) => a.at - b.at), instances };
}

/** Differences between a plan's expected alarms and what the oracle found; empty when they agree. */
export function compare(plan: ScenarioPlan, result: OracleResult): string[] {
  const problems: string[] = [];
  for (const e of plan.expected) {
    const hit = result.reached.find((r) => r.enterprise === e.enterprise && r.device === e.device && r.condition === e.condition && r.level <= e.level);
    if (!hit) problems.push(`missing: ${e.device} ${e.condition} level ${e.level}`);
    else if (hit.at > e.deadline) problems.push(`late: ${e.device} ${e.condition} level ${e.level} at +${(hit.at - e.fault.at) / 1000} s, expected within ${e.withinSeconds} s`);
    if (e.maxInstances !== undefined) {
      const n = result.instances.get(`${e.enterprise}/${e.device}/${e.condition}`) ?? 0;
      if (n > e.maxInstances) problems.push(`too many: ${e.device} ${e.condition} ${n} instances, at most ${e.maxInstances}`);
    }
  }
  if (plan.exhaustive) {
    for (const r of result.reached) {
      const listed = plan.expected.some((e) => e.enterprise === r.enterprise && e.device === r.device && e.condition === r.condition && e.level === r.level);
      if (!listed) problems.push(`unexpected: ${r.device} ${r.condition} level ${r.level} at ${new Date(r.at).toISOString()}`);
    }
  }
  return problems;
}
