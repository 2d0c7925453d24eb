// The rules engine: device messages in, alarm instances out. Evaluation is synchronous and in arrival
// order per device; the resulting store operations run in a per-device queue that always reconciles
// the latest wanted state of a condition with the one instance bound to it, so a burst of readings
// costs at most one write, and a restart (instances loaded from the store) never raises a duplicate.
import { raiseLevel, type AlarmCondition, type AlarmEventPayload, type AlarmLevel, type MaintenanceWindow } from '../contract/alarms.ts';
import { MOMENTARY_EVENTS } from '../contract/catalog.ts';
import { judgePresence, presencePolicy, type Presence, type PresencePolicy } from '../contract/presence.ts';
import { interpretEvent, interpretTelemetry, parseJson, StatusPayload, type TimePolicy, DEFAULT_TIME_POLICY } from '../contract/payloads.ts';
import type { Logger } from '../core/log.ts';
import { loopSlice } from '../core/loop-slice.ts';
import { counter, gauge, histogram, hotIncrement, type Registry as MetricsRegistry } from '../core/metrics.ts';
import type { DeviceRecord } from '../registry/registry.ts';
import type { RuleSet } from './definitions.ts';
import {
  causesOf,
  conditionSignal,
  corroborations,
  createDeviceRuntime,
  evaluateEvent,
  evaluateReading,
  evaluateTime,
  markHeard,
  pendingStages,
  resetCondition,
  restorePending,
  seedActive,
  type DeviceRuntime,
  type Signal,
} from './evaluator.ts';
import type { AlarmStore } from './store-types.ts';

export interface DeviceLookup {
  get(enterprise: string, id: string): DeviceRecord | undefined;
  all(): DeviceRecord[];
  /** Looks for registry changes now (a device registered a moment ago must not lose its first messages). */
  refresh?(): void;
}

export interface EngineOptions {
  store: AlarmStore;
  rules: () => RuleSet;
  devices: DeviceLookup;
  log: Logger;
  metrics: MetricsRegistry;
  now?: () => number;
  timePolicy?: TimePolicy;
  /** Raise every alarm of a device on a grade-1 major hazard source one level (domain.md, Grading). */
  grade1RaisesLevel?: boolean;
  /** Longest run of the tick's walk over the devices without a turn of the event loop (default 5 ms). */
  tickSliceMs?: number;
  /** Called after the engine wrote changes, so that the publishers run at once. */
  onWrite?: () => void;
  /** A device's presence (contract/presence.ts) changed between online and offline, or was judged the first time. */
  onPresence?(device: DeviceRecord, presence: PresenceReport): void;
  /** Watch only these enterprises (partitioning); empty or absent: all. */
  enterprises?: string[];
  /** Whether tick() ends expired shelving and maintenance now (the publishing process does). Default always. */
  expire?: () => boolean;
  /**
   * One cause, one alarm (default true): events corroborating a measured condition join its alarm, and
   * consequences go under the alarm of their cause. false raises each as an alarm of its own, to measure
   * what correlation saves (`hazwatch replay`).
   */
  correlate?: boolean;
}

export interface PresenceReport extends Presence {
  mode: PresencePolicy['mode'];
  /** Receive time of its newest message; null when not heard from since rules started. */
  heardAt: number | null;
  ts: number;
}

interface Bound {
  id: string;
  level: AlarmLevel;
  /** The alarm of its cause, when grouped under one. */
  parentId: string | null;
  /** Corroborating event stages already recorded on it (`rule:event:level`), while they stay active. */
  corroborated: Set<string>;
}

function boundTo(id: string, level: AlarmLevel, parentId: string | null = null): Bound {
  return { id, level, parentId, corroborated: new Set() };
}

interface DeviceState {
  key: string;
  runtime: DeviceRuntime;
  bound: Map<AlarmCondition, Bound>;
  /** Receive time of the last message, or when watching started: what silence is measured from. */
  heardAt: number;
  /** Receive time of the last message; null while not heard from since watching started. */
  lastHeardAt: number | null;
  /** When its connection was reported lost and not restored since. */
  linkLostAt: number | null;
  /** The presence last reported through onPresence; null before the first judgement. */
  presence: Presence['state'] | null;
  /** Heard from or judged anew since presences() last listed it (and so in `presenceQueue`). */
  presenceDirty: boolean;
  policy: PresencePolicy;
  dirty: Set<AlarmCondition>;
  running: boolean;
  failed: boolean;
  chain: Promise<void>;
  /** Resolved when what the device's evaluations changed is all in the store (`written`). */
  settled: { promise: Promise<void>; resolve: () => void } | null;
  rulesVersion: RuleSet;
  recordJson: string;
  record: DeviceRecord;
}

/** device.meta.hazardSourceGrade (1..4, R-value grading of the major hazard source the device belongs to). */
export function hazardGrade(device: DeviceRecord): number | undefined {
  const g = device.meta?.hazardSourceGrade;
  return typeof g === 'number' ? g : typeof g === 'string' && /^[1-4]$/.test(g) ? Number(g) : undefined;
}

export function createEngine(options: EngineOptions) {
  const { store, devices, log } = options;
  const now = options.now ?? Date.now;
  const policy = options.timePolicy ?? DEFAULT_TIME_POLICY;
  const grade1 = options.grade1RaisesLevel ?? true;
  const correlate = options.correlate ?? true;
  const tickSliceMs = options.tickSliceMs ?? 5;
  const states = new Map<string, DeviceState>();
  // The devices whose presence is to be written, in the order they changed: presences() takes from the
  // front, without looking at the devices that did not change.
  const presenceQueue: DeviceState[] = [];
  function presenceChanged(st: DeviceState): void {
    if (st.presenceDirty) return;
    st.presenceDirty = true;
    presenceQueue.push(st);
  }
  let windows = new Map<string, MaintenanceWindow[]>();
  const startedAt = now();
  const only = options.enterprises?.length ? new Set(options.enterprises) : undefined;

  const m = {
    messages: counter(options.metrics, 'hazwatch_rules_messages_total', 'Device messages evaluated by the rules engine', ['channel']),
    rejected: counter(options.metrics, 'hazwatch_rules_rejected_total', 'Device messages or values the rules engine could not evaluate', ['reason']),
    readings: counter(options.metrics, 'hazwatch_rules_readings_total', 'Readings evaluated'),
    stale: counter(options.metrics, 'hazwatch_rules_readings_out_of_order_total', 'Readings older than one already evaluated for the device (stored by ingest, not evaluated again)'),
    changes: counter(options.metrics, 'hazwatch_rules_alarm_changes_total', 'Alarm changes written by the rules engine', ['action', 'condition', 'level']),
    storeErrors: counter(options.metrics, 'hazwatch_rules_store_errors_total', 'Failed writes to the alarm store (retried)'),
    active: gauge(options.metrics, 'hazwatch_rules_alarms_active', 'Alarm instances whose condition is active', ['level']),
    devices: gauge(options.metrics, 'hazwatch_rules_devices', 'Devices watched by the rules engine'),
    evalSeconds: histogram(options.metrics, 'hazwatch_rules_evaluation_seconds', 'Time to evaluate one device message', [], [0.00001, 0.0001, 0.001, 0.01, 0.1]),
  };

  // Hot path: counters summed in plain numbers until scraped, and one message in 64 timed.
  const telemetryMessages = hotIncrement(m.messages, { channel: 'telemetry' });
  const readingsEvaluated = hotIncrement(m.readings);
  let timed = 0;

  const byRecord = new WeakMap<DeviceRecord, DeviceState>();
  function windowKey(enterprise: string, device: string): string {
    return `${enterprise}/${device}`;
  }

  function suppressedFn(st: DeviceState): ((c: AlarmCondition) => boolean) | undefined {
    // Most of the time no device is in maintenance: no probe of the map (nor of the key's cold string).
    if (windows.size === 0) return undefined;
    const list = windows.get(st.key);
    if (!list || list.length === 0) return undefined;
    return (c) => list.some((w) => w.condition === null || w.condition === c);
  }

  function stateFor(device: DeviceRecord): DeviceState {
    const ruleSet = options.rules();
    // The directory hands out the same record object until the registry changes: found by the object
    // itself, without building the key string of every reading.
    const known = byRecord.get(device);
    if (known !== undefined && known.rulesVersion === ruleSet && known.record === device) return known;
    const st = stateForChanged(device, ruleSet);
    byRecord.set(device, st);
    return st;
  }

  function stateForChanged(device: DeviceRecord, ruleSet: ReturnType<typeof options.rules>): DeviceState {
    const key = windowKey(device.enterprise, device.id);
    let st = states.get(key);
    const recordJson = JSON.stringify([device.class, device.meta, device.intervalSeconds, device.connection]);
    if (st && st.rulesVersion === ruleSet && st.recordJson === recordJson) {
      st.policy = presencePolicy(device);
      st.record = device;
      st.runtime.device = device;
      return st;
    }
    const runtime = createDeviceRuntime(device, ruleSet.forDevice(device), { correlate });
    if (st) {
      // Rules or the device's limits changed: new thresholds, but the bound instances stay; seeding keeps them
      // from being raised again, and the next reading de-escalates or clears them under the new rules.
      for (const [condition, b] of st.bound) seedActive(runtime, condition, baseLevel(device, b.level), now());
      runtime.lastTs = st.runtime.lastTs;
      // The new rules start counting afresh: the saved stages of the old ones go.
      runtime.pendingChanged = pendingStages(st.runtime).length > 0;
      st.runtime = runtime;
      st.rulesVersion = ruleSet;
      st.recordJson = recordJson;
      st.record = device;
      st.policy = presencePolicy(device);
      presenceChanged(st);
      for (const condition of st.bound.keys()) st.dirty.add(condition);
      schedule(st);
      return st;
    }
    st = {
      key,
      runtime,
      bound: new Map(),
      // Silence is measured from when watching began, or from the registration of a newer device.
      heardAt: Math.max(startedAt, device.createdAt),
      lastHeardAt: null,
      linkLostAt: null,
      presence: null,
      presenceDirty: false,
      policy: presencePolicy(device),
      dirty: new Set(),
      running: false,
      failed: false,
      chain: Promise.resolve(),
      settled: null,
      rulesVersion: ruleSet,
      recordJson,
      record: device,
    };
    states.set(key, st);
    presenceChanged(st);
    m.devices.set(states.size);
    return st;
  }

  function baseLevel(device: DeviceRecord, level: AlarmLevel): AlarmLevel {
    return grade1 && hazardGrade(device) === 1 && level < 4 ? ((level + 1) as AlarmLevel) : level;
  }

  function finalLevel(device: DeviceRecord, level: AlarmLevel): AlarmLevel {
    return grade1 && hazardGrade(device) === 1 ? raiseLevel(level) : level;
  }

  function mark(st: DeviceState, changed: Set<AlarmCondition>): void {
    // Most readings change nothing: no iterator made for an empty set.
    if (changed.size > 0) for (const c of changed) st.dirty.add(c);
    schedule(st);
  }

  /** Alarm changes or stages on their way up not yet in the store. */
  function wants(st: DeviceState): boolean {
    return st.dirty.size > 0 || st.runtime.pendingChanged;
  }

  // Devices with something not yet in the store (being written, or waiting for a retry): what a message
  // evaluated now must wait for before it is acknowledged (`written`).
  const unwritten = new Set<DeviceState>();
  // What `written` answered for the devices unwritten now: the same promise for every message until
  // another device joins them, instead of one Promise.all over all of them per message.
  let allWritten: Promise<void> | undefined;

  function schedule(st: DeviceState): void {
    if (!wants(st)) return;
    if (!unwritten.has(st)) {
      unwritten.add(st);
      allWritten = undefined;
    }
    if (st.running) return;
    st.running = true;
    st.chain = st.chain.then(() => reconcile(st)).finally(() => {
      st.running = false;
      if (!wants(st)) {
        unwritten.delete(st);
        st.settled?.resolve();
        st.settled = null;
      } else if (!st.failed) schedule(st);
    });
  }

  function count(p: AlarmEventPayload | undefined): void {
    if (!p) return;
    m.changes.inc({ action: p.change.action, condition: p.alarm.condition, level: String(p.alarm.level) });
  }

  async function reconcile(st: DeviceState): Promise<void> {
    let wrote = false;
    try {
      while (st.dirty.size > 0) {
        const [condition] = st.dirty;
        st.dirty.delete(condition);
        const device = st.runtime.device;
        const suppressed = suppressedFn(st)?.(condition) ?? false;
        const signal: Signal | null = suppressed ? null : conditionSignal(st.runtime, condition);
        const bound = st.bound.get(condition);
        try {
          if (signal && !bound) {
            const level = finalLevel(device, signal.level);
            const parentId = correlate ? causeOf(st, condition) : null;
            const p = await store.raise({
              enterprise: device.enterprise,
              device: device.id,
              deviceClass: device.class,
              site: device.site,
              hazardSource: device.hazardSource,
              condition,
              level,
              metric: signal.metric,
              value: signal.value,
              threshold: signal.threshold,
              message: signal.message,
              messageZh: signal.messageZh,
              at: st.runtime.inputTs || now(),
              rule: signal.rule,
              parentId,
              snapshot: signal.snapshot,
            });
            if (p) {
              st.bound.set(condition, boundTo(p.alarm.id, p.alarm.level, p.alarm.parentId));
              count(p);
              wrote = true;
              if (correlate) await adoptConsequences(st, condition);
            } else {
              // Already active at this level (raised before a restart, or by another rules process): continue it.
              const a = await store.activeFor(device.enterprise, device.id, condition);
              if (a) st.bound.set(condition, boundTo(a.id, a.level, a.parentId));
            }
          } else if (signal && bound) {
            const level = finalLevel(device, signal.level);
            if (level !== bound.level) {
              const p = await store.changeLevel(bound.id, { level, value: signal.value, threshold: signal.threshold, message: signal.message, messageZh: signal.messageZh, at: st.runtime.inputTs || now(), rule: signal.rule, snapshot: signal.snapshot });
              if (p) {
                bound.level = p.alarm.level;
                count(p);
                wrote = true;
              } else {
                const a = await store.activeFor(device.enterprise, device.id, condition);
                if (a) st.bound.set(condition, boundTo(a.id, a.level, a.parentId));
                else {
                  // Cleared meanwhile by someone else: the condition persists, so it is a new instance.
                  st.bound.delete(condition);
                  st.dirty.add(condition);
                }
              }
            }
          }
          const b = st.bound.get(condition);
          if (signal && b && correlate) wrote = (await recordCorroborations(st, condition, b)) || wrote;
          if (!signal && bound && !suppressed) {
            const last = st.runtime.byCondition.get(condition)?.flatMap((r) => r.rule.type === 'threshold' || r.rule.type === 'rate' ? [r] : []);
            const value = last?.length ? st.runtime.latest.get((last[0].rule as { metric: string }).metric)?.value ?? null : null;
            const p = await store.clearAuto(bound.id, value, st.runtime.inputTs || now());
            st.bound.delete(condition);
            count(p);
            if (p) wrote = true;
          }
        } catch (err) {
          // Keep the wish: the next tick tries again (SQLite busy, disk full, ...).
          st.dirty.add(condition);
          st.failed = true;
          m.storeErrors.inc();
          log.error({ err, device: st.key, condition }, 'alarm store write failed; will retry');
          return;
        }
      }
      // The stages on their way up, after the alarms: a stage raised meanwhile is no longer saved.
      while (st.runtime.pendingChanged) {
        const runtime = st.runtime;
        runtime.pendingChanged = false;
        try {
          await store.savePending({ enterprise: runtime.device.enterprise, device: runtime.device.id, stages: pendingStages(runtime), lastTs: runtime.lastTs });
        } catch (err) {
          runtime.pendingChanged = true;
          st.failed = true;
          m.storeErrors.inc();
          log.error({ err, device: st.key }, 'saving the stages on their way up failed; will retry');
          return;
        }
      }
      st.failed = false;
    } finally {
      if (wrote) options.onWrite?.();
    }
  }

  /** The active alarm of this device that the condition's rules name as its cause (`groupUnder`), if any. */
  function causeOf(st: DeviceState, condition: AlarmCondition): string | null {
    for (const c of causesOf(st.runtime, condition)) {
      const b = st.bound.get(c);
      if (b) return b.parentId ?? b.id;
    }
    return null;
  }

  /** A cause raised after its consequences (the interlock's event came before the level reading): take them under it. */
  async function adoptConsequences(st: DeviceState, cause: AlarmCondition): Promise<void> {
    const parent = st.bound.get(cause)!;
    for (const [condition, b] of st.bound) {
      if (b.parentId || condition === cause || !causesOf(st.runtime, condition).includes(cause)) continue;
      const p = await store.group(b.id, parent.parentId ?? parent.id, st.runtime.inputTs || now());
      if (p) {
        b.parentId = p.alarm.parentId;
        count(p);
      }
    }
  }

  /** The device's own events on a measured condition, recorded once on its alarm while they last. */
  async function recordCorroborations(st: DeviceState, condition: AlarmCondition, b: Bound): Promise<boolean> {
    const active = corroborations(st.runtime, condition);
    const keys = new Set(active.map((c) => `${c.rule}:${c.event}:${c.level}`));
    for (const k of b.corroborated) if (!keys.has(k)) b.corroborated.delete(k);
    let wrote = false;
    for (const c of active) {
      const key = `${c.rule}:${c.event}:${c.level}`;
      if (b.corroborated.has(key)) continue;
      const p = await store.corroborate(b.id, { rule: c.rule, condition: c.condition, event: c.event, level: finalLevel(st.runtime.device, c.level), at: c.ts });
      b.corroborated.add(key);
      if (p) {
        count(p);
        wrote = true;
      }
    }
    return wrote;
  }

  let refreshedAt = 0;
  function lookup(enterprise: string, id: string): DeviceState | undefined {
    if (only && !only.has(enterprise)) return undefined;
    let device = devices.get(enterprise, id);
    if (!device && devices.refresh && now() - refreshedAt >= 100) {
      refreshedAt = now();
      devices.refresh();
      device = devices.get(enterprise, id);
    }
    if (!device) {
      m.rejected.inc({ reason: 'HW_ERR_UNKNOWN_DEVICE' });
      return undefined;
    }
    return stateFor(device);
  }

  function heard(st: DeviceState, receivedAt: number): void {
    st.heardAt = receivedAt;
    st.lastHeardAt = receivedAt;
    st.linkLostAt = null;
    presenceChanged(st);
    if (st.presence === 'offline') report(st, receivedAt);
    const skip = suppressedFn(st);
    const changed = markHeard(st.runtime, receivedAt, scratch());
    if (skip) for (const c of changed) if (skip(c)) changed.delete(c);
    mark(st, changed);
  }

  /** One set of changed conditions reused by every synchronous evaluation: mark() copies what it keeps. */
  const reused = new Set<AlarmCondition>();
  function scratch(): Set<AlarmCondition> {
    // V8's clear() allocates a fresh table even for an empty set: most readings change nothing.
    if (reused.size > 0) reused.clear();
    return reused;
  }

  const engine = {
    /** Loads the instances active before a restart so that re-evaluation continues them. */
    async start(): Promise<void> {
      await refreshMaintenance();
      const active = await store.activeInstances();
      for (const alarm of active) {
        if (only && !only.has(alarm.enterprise)) continue;
        const device = devices.get(alarm.enterprise, alarm.device);
        if (!device) continue;
        const st = stateFor(device);
        st.bound.set(alarm.condition, boundTo(alarm.id, alarm.level, alarm.parentId));
        seedActive(st.runtime, alarm.condition, baseLevel(device, alarm.level), alarm.updatedAt);
      }
      // After the active instances, so that a stage raised before the restart does not count again.
      const pending = await store.pendingStates();
      let restored = 0;
      let pruned = 0;
      for (const p of pending) {
        if (only && !only.has(p.enterprise)) continue;
        const device = devices.get(p.enterprise, p.device);
        if (!device) {
          // Deleted or revoked since: nothing will read its count again (the row would stay for good).
          await store.savePending({ enterprise: p.enterprise, device: p.device, stages: [], lastTs: p.lastTs });
          pruned++;
          continue;
        }
        const st = stateFor(device);
        restorePending(st.runtime, p.stages);
        // A reading saved but not acknowledged before the restart comes again: it counted already.
        st.runtime.lastTs = Math.max(st.runtime.lastTs, p.lastTs + 1);
        restored++;
      }
      m.active.reset();
      for (const a of active) m.active.inc({ level: String(a.level) });
      log.info({ active: active.length, pending: restored, pendingPruned: pruned }, 'alarm instances and stages on their way up loaded');
    },

    telemetry(enterprise: string, id: string, payload: Buffer | string, receivedAt = now()): void {
      telemetryMessages();
      const st = lookup(enterprise, id);
      if (!st) return;
      const end = (timed++ & 63) === 0 ? m.evalSeconds.startTimer() : () => 0;
      const result = interpretTelemetry(st.runtime.device.class, payload, receivedAt, policy);
      for (const r of result.rejections) if (r.code !== 'HW_WARN_CLOCK_SKEW') m.rejected.inc({ reason: r.code });
      if (result.readings.length === 0) { end(); return; }
      heard(st, receivedAt);
      const skip = suppressedFn(st);
      // '*' matches no condition code: true only when the whole device is in maintenance.
      if (skip && skip('*' as AlarmCondition)) { end(); return; }
      const changed = scratch();
      readingsEvaluated(result.readings.length);
      for (const reading of result.readings) {
        if (reading.ts < st.runtime.lastTs) {
          m.stale.inc();
          continue;
        }
        evaluateReading(st.runtime, reading, skip, changed);
      }
      mark(st, changed);
      end();
    },

    event(enterprise: string, id: string, payload: Buffer | string, receivedAt = now()): void {
      m.messages.inc({ channel: 'event' });
      const st = lookup(enterprise, id);
      if (!st) return;
      const result = interpretEvent(st.runtime.device.class, payload, receivedAt, policy);
      for (const r of result.rejections) if (r.code !== 'HW_WARN_CLOCK_SKEW') m.rejected.inc({ reason: r.code });
      if (!result.event) return;
      heard(st, receivedAt);
      const skip = suppressedFn(st);
      const ev = result.event;
      mark(st, evaluateEvent(st.runtime, ev, MOMENTARY_EVENTS.includes(ev.type), skip));
    },

    status(enterprise: string, id: string, payload: Buffer | string, receivedAt = now()): void {
      m.messages.inc({ channel: 'status' });
      const st = lookup(enterprise, id);
      if (!st) return;
      const parsed = parseJson(payload);
      const status = 'json' in parsed ? StatusPayload.safeParse(parsed.json) : undefined;
      if (!status?.success) {
        m.rejected.inc({ reason: 'HW_ERR_SCHEMA' });
        return;
      }
      if (status.data.state === 'online') heard(st, receivedAt);
      else {
        // The first report of a lost connection counts; a repeated will does not move it.
        st.linkLostAt ??= receivedAt;
        tickDevice(st, now());
      }
    },

    /** Time-driven work: silence, momentary events, expiry of shelving and maintenance. Run every second or so. */
    async tick(): Promise<void> {
      const t = now();
      if (options.expire?.() ?? true) {
        try {
          const expired = await store.expire(t);
          if (expired.length) options.onWrite?.();
        } catch (err) {
          log.error({ err }, 'expiring shelved alarms and maintenance failed');
        }
      }
      await refreshMaintenance();
      // Devices registered or revoked meanwhile are watched for silence even when nothing else is heard.
      devices.refresh?.();
      // A turn of the event loop every few milliseconds: the first tick after a start or a reload of the
      // rules makes every device's state anew (265 ms for 5,000 devices), and readings that raise alarms
      // would wait behind it.
      let at = now();
      const slice = loopSlice(tickSliceMs);
      for (const device of devices.all()) {
        if (device.revokedAt !== null || (only && !only.has(device.enterprise))) continue;
        if (slice.due()) {
          await new Promise((resolve) => setImmediate(resolve));
          slice.yielded();
          at = now();
        }
        const st = stateFor(device);
        tickDevice(st, at);
        if (st.failed) {
          st.failed = false;
          schedule(st);
        }
      }
    },

    /** Reacts to changes made by others (API): a manual clear or maintenance unbinds the instance. */
    async applyChanges(changes: AlarmEventPayload[]): Promise<void> {
      let refresh = false;
      for (const { alarm, change } of changes) {
        if (change.action === 'out_of_service' || change.action === 'returned_to_service') refresh = true;
        if (change.action !== 'cleared_manually' && change.action !== 'out_of_service' && change.action !== 'closed') continue;
        const st = states.get(windowKey(alarm.enterprise, alarm.device));
        const b = st?.bound.get(alarm.condition);
        if (!st || !b || b.id !== alarm.id) continue;
        st.bound.delete(alarm.condition);
        resetCondition(st.runtime, alarm.condition);
        schedule(st);
      }
      if (refresh) await refreshMaintenance();
    },

    /**
     * Undefined when everything evaluated so far is in the store; else resolves once what is outstanding
     * now has been written (after any retries): rules acknowledges a message only then (rules/ack-gate.ts).
     */
    written(): Promise<void> | undefined {
      if (unwritten.size === 0) return undefined;
      if (allWritten) return allWritten;
      const waits: Promise<void>[] = [];
      for (const st of unwritten) {
        if (!st.settled) {
          let resolve!: () => void;
          const promise = new Promise<void>((r) => (resolve = r));
          st.settled = { promise, resolve };
        }
        waits.push(st.settled.promise);
      }
      allWritten = waits.length === 1 ? waits[0] : Promise.all(waits).then(() => undefined);
      return allWritten;
    },

    /** Resolves when every queued store write has run (tests, benchmarks, shutdown). */
    async idle(): Promise<void> {
      for (;;) {
        const pending = [...states.values()].filter((s) => s.running || wants(s));
        if (pending.length === 0) return;
        await Promise.all(pending.map((s) => s.chain));
        if (pending.every((s) => s.failed)) return;
      }
    },

    refreshMetrics(active: { level: number }[]): void {
      m.active.reset();
      for (const a of active) m.active.inc({ level: String(a.level) });
    },

    /** Up to `max` devices heard from or judged anew since last listed, and their presence now: for the registry. */
    presences(max = Infinity): { device: DeviceRecord; report: PresenceReport }[] {
      const t = now();
      return presenceQueue.splice(0, max).map((st) => {
        st.presenceDirty = false;
        return { device: st.record, report: { ...judge(st, t), mode: st.policy.mode, heardAt: st.lastHeardAt, ts: t } };
      });
    },

    /** How many devices wait to be listed by presences(). */
    presencesWaiting(): number {
      return presenceQueue.length;
    },

    /** Listed by presences() but not written: listed again next time. */
    presencesNotWritten(devices: DeviceRecord[]): void {
      for (const device of devices) {
        const st = states.get(windowKey(device.enterprise, device.id));
        if (st) presenceChanged(st);
      }
    },

    deviceCount(): number {
      return states.size;
    },
  };

  function judge(st: DeviceState, t: number): Presence {
    return judgePresence(st.policy, { heardAt: st.heardAt, linkLostAt: st.linkLostAt }, t);
  }

  function report(st: DeviceState, t: number, presence = judge(st, t)): void {
    st.presence = presence.state;
    options.onPresence?.(st.record, { ...presence, mode: st.policy.mode, heardAt: st.lastHeardAt, ts: t });
  }

  function tickDevice(st: DeviceState, t: number): void {
    const presence = judge(st, t);
    if (presence.state !== st.presence) report(st, t, presence);
    const skip = suppressedFn(st);
    mark(st, evaluateTime(st.runtime, t, presence, skip, scratch()));
  }

  async function refreshMaintenance(): Promise<void> {
    let list: MaintenanceWindow[];
    try {
      list = await store.maintenance({ activeAt: now() });
    } catch (err) {
      log.error({ err }, 'reading maintenance windows failed');
      return;
    }
    const next = new Map<string, MaintenanceWindow[]>();
    for (const w of list) {
      const key = windowKey(w.enterprise, w.device);
      const l = next.get(key);
      if (l) l.push(w);
      else next.set(key, [w]);
    }
    const before = windows;
    windows = next;
    // A device entering or leaving maintenance starts afresh: nothing from before the work counts, and its
    // silence is measured from the end of the work.
    const keys = new Set([...before.keys(), ...next.keys()]);
    for (const key of keys) {
      const a = (before.get(key) ?? []).map((w) => w.id).sort().join();
      const b = (next.get(key) ?? []).map((w) => w.id).sort().join();
      if (a === b) continue;
      const st = states.get(key);
      if (!st) continue;
      const conditions = new Set([...(before.get(key) ?? []), ...(next.get(key) ?? [])].map((w) => w.condition));
      if (conditions.has(null)) {
        resetCondition(st.runtime);
        st.heardAt = Math.max(st.heardAt, now());
        st.runtime.lastTs = -Infinity;
      } else for (const c of conditions) if (c) resetCondition(st.runtime, c);
      for (const c of [...st.bound.keys()]) if (conditions.has(null) || conditions.has(c)) st.bound.delete(c);
    }
  }

  return engine;
}

export type Engine = ReturnType<typeof createEngine>;
