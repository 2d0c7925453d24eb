// Evaluation of one device's rules, in memory, in arrival order, with no I/O: readings and events go
// in, and the most severe active stage of each alarm condition comes out. Chattering is held off by
// hysteresis (a separate clear threshold), "N samples in a row", on-delay and off-delay, all judged
// on the readings' own timestamps, so that a replayed buffer is judged as it happened.
import { ALARM_CONDITIONS, type AlarmCondition, type AlarmLevel } from '../contract/alarms.ts';
import { metricSpec, type EventType } from '../contract/catalog.ts';
import { presencePolicy, type Presence } from '../contract/presence.ts';
import type { DeviceRecord } from '../registry/registry.ts';
import { resolveThreshold, type Rule, type Threshold } from './definitions.ts';
import type { PendingStage } from './store-types.ts';

/** What a rule says about its condition right now. */
export interface Signal {
  rule: string;
  level: AlarmLevel;
  metric: string | null;
  value: number | boolean | null;
  threshold: number | null;
  message: string;
  /** The rule file's own Chinese line (`message.zh`), or null: the console composes one from the code. */
  messageZh: string | null;
  /** Time of the reading or event that made it so. */
  ts: number;
  /** The snapshot a camera's event carried (event data.snapshot), or null. */
  snapshot: string | null;
}

interface StageRuntime {
  level: AlarmLevel;
  /** Resolved thresholds; undefined raise = the device lacks the limit, stage skipped. */
  raise?: number;
  clear?: number;
  event?: EventType;
  active: boolean;
  pendingSince: number | null;
  pendingCount: number;
  clearingSince: number | null;
  expiresAt: number | null;
  value: number | boolean | null;
  ts: number;
  snapshot: string | null;
}

interface RuleRuntime {
  rule: Rule;
  /** The alarm condition it feeds: its own, or the one it corroborates (`corroborates`). */
  condition: AlarmCondition;
  /** An event rule feeding the alarm of a measured condition as corroboration. */
  corroborating: boolean;
  stages: StageRuntime[];
  /** Rate rules: readings inside the window. */
  window: { ts: number; v: number }[];
}

export interface DeviceRuntime {
  device: DeviceRecord;
  rules: RuleRuntime[];
  byCondition: Map<AlarmCondition, RuleRuntime[]>;
  byMetric: Map<string, RuleRuntime[]>;
  byEvent: Map<EventType, RuleRuntime[]>;
  silence: RuleRuntime[];
  /**
   * False when no stage of `silence` is active, so that a message (markHeard) need not look at them:
   * their objects are rarely in the CPU's caches, and on the benchmark machine each miss costs about as
   * much as the evaluation itself. Set wherever a silence stage may become active, cleared by markHeard.
   */
  silenceMayBeActive: boolean;
  /** False when no momentary event is waiting to expire: the once-a-second tick skips the event rules. */
  expiryPending: boolean;
  latest: Map<string, { value: number | boolean; ts: number }>;
  /** Timestamp of the last reading evaluated: older ones arriving later are not evaluated again. */
  lastTs: number;
  /** Time of the last input that changed something: the time of the alarm change it causes. */
  inputTs: number;
  /**
   * A stage on its way up changed its count or start (`pendingStages`): set by the evaluation, cleared by
   * whoever saves them, so that a reading counted towards "N samples in a row" is not forgotten in a crash.
   */
  pendingChanged: boolean;
}

function resolveStage(rule: Rule, stage: { level: AlarmLevel; raise?: Threshold; clear?: Threshold; event?: EventType }, device: DeviceRecord): StageRuntime {
  const rt: StageRuntime = { level: stage.level, active: false, pendingSince: null, pendingCount: 0, clearingSince: null, expiresAt: null, value: null, ts: 0, snapshot: null };
  if (stage.event) rt.event = stage.event;
  if ((rule.type === 'threshold' || rule.type === 'rate') && stage.raise !== undefined) {
    const raise = resolveThreshold(stage.raise, device, rule.metric);
    if (raise === undefined) return rt;
    const high = rule.type === 'rate' || rule.direction === 'high';
    let clear = stage.clear !== undefined ? resolveThreshold(stage.clear, device, rule.metric) : undefined;
    if (clear === undefined) {
      const band = rule.deadband ?? (rule.deadbandPercent ? (Math.abs(raise) * rule.deadbandPercent) / 100 : 0);
      clear = high ? raise - band : raise + band;
    }
    rt.raise = raise;
    rt.clear = clear;
  }
  return rt;
}

/**
 * Builds the runtime of a device's rules (stage thresholds resolved against its registry entry).
 * `correlate: false` keeps every event on its own condition (to measure what correlation saves).
 */
export function createDeviceRuntime(device: DeviceRecord, rules: Rule[], options: { correlate?: boolean } = {}): DeviceRuntime {
  const dev: DeviceRuntime = {
    device,
    rules: [],
    byCondition: new Map(),
    byMetric: new Map(),
    byEvent: new Map(),
    silence: [],
    silenceMayBeActive: false,
    expiryPending: false,
    latest: new Map(),
    lastTs: -Infinity,
    inputTs: 0,
    pendingChanged: false,
  };
  const add = <K>(map: Map<K, RuleRuntime[]>, key: K, rt: RuleRuntime) => {
    const list = map.get(key);
    if (list) list.push(rt);
    else map.set(key, [rt]);
  };
  const built: RuleRuntime[] = [];
  for (const rule of rules) {
    let stages: StageRuntime[];
    if (rule.type === 'silence' || rule.type === 'combination') stages = [resolveStage(rule, { level: rule.level }, device)];
    else stages = (rule.stages as { level: AlarmLevel; raise?: Threshold; clear?: Threshold; event?: EventType }[]).map((s) => resolveStage(rule, s, device));
    if ((rule.type === 'threshold' || rule.type === 'rate') && stages.every((s) => s.raise === undefined)) continue;
    if (rule.type === 'combination') {
      const resolvable = rule.all.every((t) => {
        const th = t.above ?? t.below;
        return th === undefined || resolveThreshold(th, device, t.metric) !== undefined;
      });
      if (!resolvable) continue;
    }
    built.push({ rule, condition: rule.condition, corroborating: false, stages, window: [] });
  }
  // What the platform measures for this device: an event corroborating one of these joins its alarm.
  const measured = new Set(built.filter((rt) => rt.rule.type !== 'event').map((rt) => rt.rule.condition));
  for (const rt of built) {
    const rule = rt.rule;
    if (options.correlate !== false && rule.type === 'event' && rule.corroborates && measured.has(rule.corroborates)) {
      rt.condition = rule.corroborates;
      rt.corroborating = true;
    }
    const stages = rt.stages;
    dev.rules.push(rt);
    add(dev.byCondition, rt.condition, rt);
    if (rule.type === 'threshold' || rule.type === 'rate') add(dev.byMetric, rule.metric, rt);
    if (rule.type === 'combination') for (const t of rule.all) add(dev.byMetric, t.metric, rt);
    if (rule.type === 'event') for (const s of stages) if (s.event) add(dev.byEvent, s.event, rt);
    if (rule.type === 'silence') dev.silence.push(rt);
  }
  return dev;
}

function resetStage(s: StageRuntime): void {
  s.active = false;
  s.pendingSince = null;
  s.pendingCount = 0;
  s.clearingSince = null;
  s.expiresAt = null;
  s.snapshot = null;
}

/**
 * Debounced stage logic; returns true when the stage's active flag changed, and flags the device when
 * what `pendingStages` would save changed (a count that still matters, a start, a stage leaving).
 */
function step(dev: DeviceRuntime, rule: Rule, s: StageRuntime, raiseCond: boolean, clearCond: boolean, ts: number, value: number | boolean): boolean {
  const samples = 'samples' in rule ? rule.samples ?? 1 : 1;
  const onDelayMs = ('onDelaySeconds' in rule ? rule.onDelaySeconds ?? 0 : 0) * 1000;
  const offDelayMs = ('offDelaySeconds' in rule ? rule.offDelaySeconds ?? 0 : 0) * 1000;
  if (!s.active) {
    if (raiseCond) {
      const was = s.pendingCount++;
      s.pendingSince ??= ts;
      if (s.pendingCount >= samples && ts - s.pendingSince >= onDelayMs) {
        s.active = true;
        s.clearingSince = null;
        s.value = value;
        s.ts = ts;
        // Raised by its first reading, it was never saved as pending: nothing to take back.
        if (was > 0) dev.pendingChanged = true;
        return true;
      }
      // Past the count it needs, only the start matters (an on-delay running): saved once.
      if (was < samples) dev.pendingChanged = true;
    } else if (s.pendingCount > 0) {
      s.pendingCount = 0;
      s.pendingSince = null;
      dev.pendingChanged = true;
    }
    return false;
  }
  if (clearCond) {
    s.clearingSince ??= ts;
    if (ts - s.clearingSince >= offDelayMs) {
      resetStage(s);
      s.value = value;
      s.ts = ts;
      return true;
    }
  } else {
    s.clearingSince = null;
    s.value = value;
  }
  return false;
}

function evaluateNumeric(dev: DeviceRuntime, rt: RuleRuntime, v: number, ts: number, high: boolean): boolean {
  let changed = false;
  for (const s of rt.stages) {
    if (s.raise === undefined || s.clear === undefined) continue;
    const raiseCond = high ? v >= s.raise : v <= s.raise;
    const clearCond = high ? v < s.clear || (s.clear === s.raise && v < s.raise) : v > s.clear || (s.clear === s.raise && v > s.raise);
    if (step(dev, rt.rule, s, raiseCond, clearCond, ts, v)) changed = true;
  }
  return changed;
}

function termHolds(term: { metric: string; above?: Threshold; below?: Threshold; equals?: boolean | number }, value: number | boolean, device: DeviceRecord): boolean {
  if (term.equals !== undefined) return value === term.equals || (typeof term.equals === 'number' && Number(value) === term.equals);
  if (typeof value !== 'number') return false;
  if (term.above !== undefined) {
    const th = resolveThreshold(term.above, device, term.metric);
    return th !== undefined && value > th;
  }
  const th = resolveThreshold(term.below!, device, term.metric);
  return th !== undefined && value < th;
}

/**
 * Rules touched by the reading being evaluated: one array reused by every call (the evaluation is
 * synchronous), emptied by its length, not a Set: V8's Set.clear() allocates a new table every time.
 */
const touched: RuleRuntime[] = [];

/**
 * Evaluates one reading; the conditions whose state changed are added to `changed` (the hot path passes
 * one set it reuses, so that a reading allocates nothing it does not keep).
 */
export function evaluateReading(
  dev: DeviceRuntime,
  reading: { ts: number; values: Record<string, number | boolean> },
  skip?: (c: AlarmCondition) => boolean,
  changed: Set<AlarmCondition> = new Set(),
): Set<AlarmCondition> {
  if (reading.ts < dev.lastTs) return changed;
  dev.lastTs = reading.ts;
  touched.length = 0;
  for (const metric in reading.values) {
    const value = reading.values[metric];
    const latest = dev.latest.get(metric);
    if (latest) {
      latest.value = value;
      latest.ts = reading.ts;
    } else dev.latest.set(metric, { value, ts: reading.ts });
    const rules = dev.byMetric.get(metric);
    // A rule of several metrics (combination) once per reading.
    if (rules) for (const rt of rules) if (!touched.includes(rt)) touched.push(rt);
  }
  for (const rt of touched) {
    const rule = rt.rule;
    if (skip?.(rt.condition)) continue;
    let did = false;
    if (rule.type === 'threshold') {
      const v = reading.values[rule.metric];
      if (typeof v === 'number') did = evaluateNumeric(dev, rt, v, reading.ts, rule.direction === 'high');
    } else if (rule.type === 'rate') {
      const v = reading.values[rule.metric];
      if (typeof v !== 'number') continue;
      const windowMs = rule.windowSeconds * 1000;
      rt.window.push({ ts: reading.ts, v });
      while (rt.window.length > 1 && reading.ts - rt.window[0].ts > windowMs) rt.window.shift();
      const first = rt.window[0];
      // Judge a rate only over at least half its window, so that one noisy pair never decides.
      if (reading.ts - first.ts < windowMs / 2) continue;
      const perMinute = ((v - first.v) / (reading.ts - first.ts)) * 60_000;
      const rate = rule.direction === 'rise' ? perMinute : rule.direction === 'fall' ? -perMinute : Math.abs(perMinute);
      did = evaluateNumeric(dev, rt, rate, reading.ts, true);
    } else if (rule.type === 'combination') {
      let all = true;
      let value: number | boolean = false;
      for (const term of rule.all) {
        const latest = dev.latest.get(term.metric);
        if (!latest) {
          all = false;
          break;
        }
        if (term.equals === undefined) value = latest.value;
        if (!termHolds(term, latest.value, dev.device)) all = false;
      }
      did = step(dev, rule, rt.stages[0], all, !all, reading.ts, value);
    }
    if (did) changed.add(rt.condition);
  }
  if (changed.size) dev.inputTs = reading.ts;
  return changed;
}

/** Evaluates a device event; returns the conditions whose state may have changed. */
export function evaluateEvent(dev: DeviceRuntime, event: { ts: number; type: EventType; active: boolean; data?: Record<string, unknown> }, momentary: boolean, skip?: (c: AlarmCondition) => boolean): Set<AlarmCondition> {
  const changed = new Set<AlarmCondition>();
  for (const rt of dev.byEvent.get(event.type) ?? []) {
    if (rt.rule.type !== 'event' || skip?.(rt.condition)) continue;
    for (const s of rt.stages) {
      if (s.event !== event.type) continue;
      const was = s.active;
      if (event.active) {
        s.active = true;
        s.ts = event.ts;
        s.value = true;
        s.expiresAt = momentary ? event.ts + (rt.rule.clearAfterSeconds ?? 300) * 1000 : null;
        if (momentary) dev.expiryPending = true;
        // The first picture of the condition is the one kept: it shows how it began.
        if (!was || s.snapshot === null) s.snapshot = typeof event.data?.snapshot === 'string' ? event.data.snapshot : null;
      } else {
        resetStage(s);
        s.ts = event.ts;
      }
      if (was !== s.active || momentary) changed.add(rt.condition);
    }
  }
  if (changed.size) dev.inputTs = event.ts;
  return changed;
}

/** Time-driven part: momentary events expire, devices judged offline (contract/presence.ts) raise silence. */
export function evaluateTime(dev: DeviceRuntime, now: number, presence: Presence, skip?: (c: AlarmCondition) => boolean, changed: Set<AlarmCondition> = new Set()): Set<AlarmCondition> {
  const before = changed.size;
  if (dev.expiryPending) {
    let waiting = false;
    for (const rt of dev.rules) {
      if (rt.rule.type !== 'event') continue;
      for (const s of rt.stages) {
        if (!s.active || s.expiresAt === null) continue;
        if (now >= s.expiresAt) {
          resetStage(s);
          changed.add(rt.condition);
        } else waiting = true;
      }
    }
    dev.expiryPending = waiting;
  }
  for (const rt of dev.silence) {
    const rule = rt.rule;
    if (rule.type !== 'silence' || skip?.(rule.condition)) continue;
    const s = rt.stages[0];
    const active = presence.state === 'offline';
    if (active !== s.active) {
      s.active = active;
      if (active) dev.silenceMayBeActive = true;
      // The alarm's time is when the device became offline, not the tick that noticed it.
      s.ts = active ? Math.min(now, presence.offlineAt) : now;
      s.value = presence.reason === 'connection_lost' ? false : null;
      changed.add(rule.condition);
    }
  }
  if (changed.size > before) dev.inputTs = now;
  return changed;
}

/** A message arrived: the device is not silent any more. */
export function markHeard(dev: DeviceRuntime, ts: number, changed: Set<AlarmCondition> = new Set()): Set<AlarmCondition> {
  if (!dev.silenceMayBeActive) return changed;
  dev.silenceMayBeActive = false;
  const before = changed.size;
  for (const rt of dev.silence) {
    const s = rt.stages[0];
    if (s.active) {
      resetStage(s);
      s.ts = ts;
      changed.add(rt.rule.condition);
    }
  }
  if (changed.size > before) dev.inputTs = ts;
  return changed;
}

function fmt(v: number | boolean | null): string {
  if (typeof v === 'number') return String(Math.round(v * 1000) / 1000);
  return String(v);
}

function describe(dev: DeviceRuntime, rt: RuleRuntime, s: StageRuntime): Signal {
  const rule = rt.rule;
  const spec = ALARM_CONDITIONS[rule.condition];
  let metric: string | null = null;
  let threshold: number | null = null;
  let text: string = spec.title;
  if (rule.type === 'threshold' || rule.type === 'rate') {
    metric = rule.metric;
    threshold = s.raise ?? null;
    const unit = metricSpec(dev.device.class, rule.metric)?.unit ?? '';
    const per = rule.type === 'rate' ? `${unit}/min` : unit;
    const op = rule.type === 'rate' ? '≥' : rule.direction === 'high' ? '≥' : '≤';
    text = `${spec.title}: ${rule.metric}${rule.type === 'rate' ? ' rate' : ''} ${fmt(s.value)} ${per} ${op} ${fmt(threshold)} ${per}`.replace(/ +/g, ' ').trim();
  } else if (rule.type === 'event') {
    text = `${spec.title}: device reported ${s.event}`;
  } else if (rule.type === 'silence') {
    const p = presencePolicy(dev.device);
    // The limit in seconds that was passed, so that a console can word the line in its own language.
    threshold = s.value === false ? p.graceSeconds : p.intervalSeconds * p.tolerance;
    text = s.value === false
      ? `${spec.title}: connection lost for more than ${p.graceSeconds} s`
      : `${spec.title}: nothing heard for more than ${p.intervalSeconds * p.tolerance} s (${p.tolerance} × its ${p.intervalSeconds} s reporting interval)`;
  } else if (rule.type === 'combination') {
    const first = rule.all.find((t) => t.equals === undefined);
    metric = first?.metric ?? null;
    const th = first ? first.above ?? first.below : undefined;
    threshold = th !== undefined && first ? resolveThreshold(th, dev.device, first.metric) ?? null : null;
    text = `${spec.title}: ${rule.all.map((t) => `${t.metric} ${t.equals !== undefined ? '= ' + t.equals : t.above !== undefined ? '> ' + t.above : '< ' + t.below}`).join(' and ')}`;
  }
  const fill = (template: string) =>
    template
      .replaceAll('{value}', fmt(s.value))
      .replaceAll('{threshold}', fmt(threshold))
      .replaceAll('{metric}', metric ?? '')
      .replaceAll('{unit}', metric ? metricSpec(dev.device.class, metric)?.unit ?? '' : '');
  const own = typeof rule.message === 'string' ? { en: rule.message } : rule.message;
  if (own?.en !== undefined) text = fill(own.en);
  const messageZh = own?.zh !== undefined ? fill(own.zh) : null;
  return { rule: rule.id, level: s.level, metric, value: s.value, threshold, message: text, messageZh, ts: s.ts, snapshot: s.snapshot };
}

/** The most severe active stage of a condition across its rules, or null when the condition is clear. */
export function conditionSignal(dev: DeviceRuntime, condition: AlarmCondition): Signal | null {
  let best: { rt: RuleRuntime; s: StageRuntime } | undefined;
  for (const rt of dev.byCondition.get(condition) ?? []) {
    for (const s of rt.stages) if (s.active && (!best || s.level < best.s.level)) best = { rt, s };
  }
  return best ? describe(dev, best.rt, best.s) : null;
}

/** Active stages of the device's own events corroborating a measured condition (`corroborates`). */
export function corroborations(dev: DeviceRuntime, condition: AlarmCondition): { rule: string; condition: AlarmCondition; event: EventType; level: AlarmLevel; ts: number }[] {
  const out: { rule: string; condition: AlarmCondition; event: EventType; level: AlarmLevel; ts: number }[] = [];
  for (const rt of dev.byCondition.get(condition) ?? []) {
    if (!rt.corroborating) continue;
    for (const s of rt.stages) if (s.active && s.event) out.push({ rule: rt.rule.id, condition: rt.rule.condition, event: s.event, level: s.level, ts: s.ts });
  }
  return out;
}

/** The conditions whose alarm a raised alarm of `condition` goes under (`groupUnder` of its rules). */
export function causesOf(dev: DeviceRuntime, condition: AlarmCondition): AlarmCondition[] {
  const out = new Set<AlarmCondition>();
  for (const rt of dev.byCondition.get(condition) ?? []) for (const c of rt.rule.groupUnder ?? []) if (c !== condition) out.add(c);
  return [...out];
}

/** After a restart: an instance is active at `level`, so its stages of that level and milder start active (no re-raise). */
export function seedActive(dev: DeviceRuntime, condition: AlarmCondition, level: AlarmLevel, ts: number): void {
  dev.silenceMayBeActive = true;
  const rts = dev.byCondition.get(condition) ?? [];
  const measured = rts.filter((rt) => rt.rule.type !== 'event');
  for (const rt of measured.length ? measured : rts) {
    for (const s of rt.stages) {
      if (s.level >= level && (rt.rule.type !== 'event' || s.level === level)) {
        s.active = true;
        s.ts = ts;
      }
    }
  }
}

/** Forgets the state of a condition (manual clear, maintenance): it must build up again to raise. */
export function resetCondition(dev: DeviceRuntime, condition?: AlarmCondition): void {
  for (const rt of condition ? dev.byCondition.get(condition) ?? [] : dev.rules) {
    for (const s of rt.stages) {
      if (!s.active && s.pendingCount > 0) dev.pendingChanged = true;
      resetStage(s);
    }
    rt.window = [];
  }
}

/** The stages on their way up (counting samples, or waiting out an on-delay): what a restart must not forget. */
export function pendingStages(dev: DeviceRuntime): PendingStage[] {
  const out: PendingStage[] = [];
  for (const rt of dev.rules) {
    for (const s of rt.stages) if (!s.active && s.pendingCount > 0 && s.pendingSince !== null) out.push({ rule: rt.rule.id, level: s.level, count: s.pendingCount, since: s.pendingSince });
  }
  return out;
}

/** After a restart: the saved stages on their way up go on counting (a stage active meanwhile, or gone with a rule change, is left alone). */
export function restorePending(dev: DeviceRuntime, stages: readonly PendingStage[]): void {
  for (const p of stages) {
    const s = dev.rules.find((rt) => rt.rule.id === p.rule)?.stages.find((st) => st.level === p.level);
    if (!s || s.active) continue;
    s.pendingCount = p.count;
    s.pendingSince = p.since;
  }
}

export function conditionsOf(dev: DeviceRuntime): AlarmCondition[] {
  return [...dev.byCondition.keys()];
}
