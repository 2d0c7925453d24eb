// Test data written in line protocol exactly as docs/storage.md specifies, for the measurements no
// simulator run produces by itself (alarm_event, through the rules engine's own line writer;
// platform_rules) and as a fallback for the rest. One enterprise holds every kind of device, so that each dashboard has data to show.
import type { AlarmAction, AlarmCondition, AlarmEventPayload, AlarmLevel, AlarmState } from '../../contract/alarms.ts';
import { DEVICE_CLASSES, type DeviceClass } from '../../contract/catalog.ts';
import { alarmEventLine } from '../../rules/outbox.ts';

export const ENTERPRISE = 'acme-chem';
export const OTHER_ENTERPRISE = 'delta-gas';
export const SITE = 'north';
export const HAZARD_SOURCE = 'tank-farm-1';

interface FixtureDevice {
  enterprise: string;
  id: string;
  cls: DeviceClass;
  site?: string;
  hazardSource?: string;
}

export const FIXTURE_DEVICES: FixtureDevice[] = [
  { enterprise: ENTERPRISE, id: 'T-101', cls: 'vessel', site: SITE, hazardSource: HAZARD_SOURCE },
  { enterprise: ENTERPRISE, id: 'T-102', cls: 'vessel', site: SITE, hazardSource: HAZARD_SOURCE },
  { enterprise: ENTERPRISE, id: 'R-201', cls: 'vessel', site: 'south', hazardSource: 'reactor-2' },
  { enterprise: ENTERPRISE, id: 'GC-1', cls: 'gas_combustible', site: SITE, hazardSource: HAZARD_SOURCE },
  { enterprise: ENTERPRISE, id: 'GC-2', cls: 'gas_combustible', site: 'south' },
  { enterprise: ENTERPRISE, id: 'GT-1', cls: 'gas_toxic', site: SITE },
  { enterprise: ENTERPRISE, id: 'OX-1', cls: 'oxygen', site: SITE },
  { enterprise: ENTERPRISE, id: 'FW-1', cls: 'fire_water', site: SITE },
  { enterprise: ENTERPRISE, id: 'PM-1', cls: 'power_meter', site: SITE },
  { enterprise: ENTERPRISE, id: 'SA-1', cls: 'smoke_alarm', site: SITE },
  { enterprise: ENTERPRISE, id: 'SA-2', cls: 'smoke_alarm' },
  { enterprise: OTHER_ENTERPRISE, id: 'GC-9', cls: 'gas_combustible' },
];

function escTag(v: string): string {
  return v.replace(/([,= \\])/g, '\\$1');
}

function escString(v: string): string {
  return `"${v.replace(/(["\\])/g, '\\$1')}"`;
}

export function line(measurement: string, tags: Record<string, string | undefined>, fields: Record<string, number | boolean | string | undefined>, ms: number): string {
  const t = Object.entries(tags)
    .filter(([, v]) => v !== undefined && v !== '')
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${escTag(v!)}`)
    .join(',');
  const f = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? escString(v) : typeof v === 'boolean' ? String(v) : Number.isInteger(v) ? `${v}.0` : String(v)}`)
    .join(',');
  return `${measurement}${t ? ',' + t : ''} ${f} ${ms}`;
}

function readingValue(cls: DeviceClass, metric: string, i: number): number | boolean {
  const spec = (DEVICE_CLASSES[cls].metrics as Record<string, { type: string; min?: number; max?: number }>)[metric];
  if (spec.type === 'boolean') return Math.floor(i / 20) % 2 === 0;
  const min = spec.min ?? 0;
  const max = spec.max ?? 100;
  // A slow wave within a tenth of the physical range, above its minimum.
  return Number((min + (max - min) * (0.2 + 0.05 * Math.sin(i / 10))).toFixed(3));
}

/** Readings of every fixture device over the last `spanMs`, at the class's reporting interval. */
export function readingLines(now: number, spanMs: number, devices: FixtureDevice[] = FIXTURE_DEVICES): string[] {
  const out: string[] = [];
  for (const d of devices) {
    const step = DEVICE_CLASSES[d.cls].intervalSeconds * 1000;
    let i = 0;
    for (let t = now - spanMs; t <= now; t += step, i++) {
      const fields: Record<string, number | boolean> = {};
      for (const metric of Object.keys(DEVICE_CLASSES[d.cls].metrics)) fields[metric] = readingValue(d.cls, metric, i);
      out.push(line(d.cls, { enterprise: d.enterprise, site: d.site, device: d.id, hazard_source: d.hazardSource }, fields, t));
    }
  }
  return out;
}

/** Device events, status and alarm changes. */
export function eventLines(now: number): string[] {
  return [...deviceLines(now), ...alarmLines(now)];
}

/** Device events and status, as ingest writes them. */
export function deviceLines(now: number): string[] {
  return build(now).device;
}

/** Alarm changes, as the rules engine writes them. */
export function alarmLines(now: number): string[] {
  return build(now).alarms;
}

function build(now: number): { device: string[]; alarms: string[] } {
  const ev = (d: string, cls: DeviceClass, type: string, active: boolean | undefined, message: string | undefined, ago: number, site: string | undefined = SITE) =>
    line('device_event', { enterprise: ENTERPRISE, site, device: d, class: cls, type }, { active, message }, now - ago);
  const status = (enterprise: string, d: string, cls: DeviceClass, online: boolean, ago: number, site?: string) =>
    line('device_status', { enterprise, site, device: d, class: cls }, { online }, now - ago);
  // Alarm changes through the rules engine's own line writer, so a change of its tags breaks this test.
  let seq = 0;
  const alarm = (d: string, cls: DeviceClass, condition: AlarmCondition, level: AlarmLevel, action: AlarmAction, state: AlarmState, ago: number, value?: number) => {
    const at = now - ago;
    const payload: AlarmEventPayload = {
      alarm: {
        id: `${d}-${condition}`,
        enterprise: ENTERPRISE,
        device: d,
        deviceClass: cls,
        site: SITE,
        hazardSource: null,
        condition,
        level,
        peakLevel: level,
        state,
        metric: null,
        value: value ?? null,
        threshold: null,
        message: `${condition} on ${d}`,
        messageZh: null,
        raisedAt: at,
        updatedAt: at,
        acknowledgedAt: null,
        acknowledgedBy: null,
        clearedAt: null,
        closedAt: null,
        closedBy: null,
        shelvedUntil: null,
        cause: null,
      parentId: null,
      snapshot: null,
      },
      change: { alarmId: `${d}-${condition}`, seq: ++seq, at, action, by: action === 'acknowledged' ? 'operator.li' : 'system', level, state, value: value ?? null, note: null, data: null },
    };
    return alarmEventLine(payload);
  };
  const min = 60_000;
  const device = [
    ev('GC-1', 'gas_combustible', 'alarm_stage1', true, 'first stage', 20 * min),
    ev('GC-1', 'gas_combustible', 'fault', false, undefined, 15 * min),
    ev('GT-1', 'gas_toxic', 'calibration', undefined, 'H2S span check', 40 * min),
    ev('PM-1', 'power_meter', 'arc_fault', true, 'arc detected on L2', 25 * min),
    ev('PM-1', 'power_meter', 'sensor_open', false, undefined, 24 * min),
    ev('FW-1', 'fire_water', 'pump_fault', true, 'main pump fault', 30 * min),
    ev('FW-1', 'fire_water', 'hydrant_draw', undefined, 'hydrant H-3 opened', 10 * min),
    ev('SA-1', 'smoke_alarm', 'smoke', true, undefined, 35 * min),
    ev('SA-1', 'smoke_alarm', 'smoke', false, undefined, 30 * min),
    ev('SA-1', 'smoke_alarm', 'fault', true, 'chamber dirty', 12 * min),
    ev('SA-1', 'smoke_alarm', 'low_battery', true, undefined, 8 * min),
    ev('SA-1', 'smoke_alarm', 'tamper', false, undefined, 5 * min),
    ev('SA-2', 'smoke_alarm', 'tamper', true, 'removed from ceiling', 3 * min, undefined),
    ev('SA-1', 'smoke_alarm', 'heartbeat', undefined, 'battery 87 %', 1 * min),
    ...FIXTURE_DEVICES.map((d) => status(d.enterprise, d.id, d.cls, true, 50 * min, d.site)),
    status(ENTERPRISE, 'SA-2', 'smoke_alarm', false, 2 * min),
    status(OTHER_ENTERPRISE, 'GC-9', 'gas_combustible', false, 4 * min),
  ];
  const alarms = [
    // One active alarm per level on vessels, others elsewhere, and a closed one.
    alarm('T-101', 'vessel', 'HW_ALM_LEVEL_HIGH', 3, 'raised', 'active_unacknowledged', 30 * min, 8.1),
    alarm('T-101', 'vessel', 'HW_ALM_LEVEL_HIGH', 2, 'escalated', 'active_unacknowledged', 25 * min, 9.2),
    alarm('T-101', 'vessel', 'HW_ALM_LEVEL_HIGH', 2, 'acknowledged', 'active_acknowledged', 20 * min, 9.0),
    alarm('T-101', 'vessel', 'HW_ALM_PRESSURE_HIGH', 1, 'raised', 'active_unacknowledged', 15 * min, 2.4),
    alarm('T-102', 'vessel', 'HW_ALM_TEMPERATURE_HIGH', 3, 'raised', 'active_unacknowledged', 14 * min, 88),
    alarm('T-102', 'vessel', 'HW_ALM_DEVICE_OFFLINE', 4, 'raised', 'active_unacknowledged', 13 * min),
    alarm('R-201', 'vessel', 'HW_ALM_LEVEL_LOW', 3, 'raised', 'active_unacknowledged', 40 * min, 0.4),
    alarm('R-201', 'vessel', 'HW_ALM_LEVEL_LOW', 3, 'cleared', 'cleared_unacknowledged', 35 * min, 1.2),
    alarm('R-201', 'vessel', 'HW_ALM_LEVEL_LOW', 3, 'closed', 'closed', 34 * min),
    alarm('GC-1', 'gas_combustible', 'HW_ALM_GAS_LEL_HIGH', 1, 'raised', 'active_unacknowledged', 9 * min, 52),
    alarm('SA-2', 'smoke_alarm', 'HW_ALM_TAMPER', 4, 'raised', 'active_unacknowledged', 3 * min),
    alarm('PM-1', 'power_meter', 'HW_ALM_RESIDUAL_CURRENT_HIGH', 2, 'raised', 'active_unacknowledged', 22 * min, 420),
    alarm('FW-1', 'fire_water', 'HW_ALM_FIRE_WATER_PRESSURE_LOW', 2, 'raised', 'active_acknowledged', 28 * min, 0.07),
    alarm('SA-1', 'smoke_alarm', 'HW_ALM_SMOKE', 1, 'raised', 'active_unacknowledged', 35 * min),
    alarm('SA-1', 'smoke_alarm', 'HW_ALM_SMOKE', 1, 'cleared', 'cleared_unacknowledged', 30 * min),
  ];
  return { device, alarms };
}

/** Platform health points every 10 s (docs/storage.md) over the last `spanMs`; `only: 'rules'` for platform_rules alone. */
export function platformLines(now: number, spanMs: number, only?: 'rules'): string[] {
  const out: string[] = [];
  let i = 0;
  for (let t = now - spanMs; t <= now; t += 10_000, i++) {
    if (only === 'rules') {
      out.push(line('platform_rules', { instance: 'rules-1' }, { evaluated: 480 * i, alarms_active: 7, alarm_changes: Math.floor(i / 10) }, t));
      continue;
    }
    out.push(
      line(
        'platform_ingest',
        { instance: 'ingest-1' },
        { received: 500 * i, stored: 495 * i, rejected: 5 * i, duplicates: i, spool_depth: i % 30 === 0 ? 120 : 0, spool_age_s: i % 30 === 0 ? 4 : 0, write_latency_ms: 12 + (i % 7) },
        t,
      ),
      line('platform_rejection', { instance: 'ingest-1', reason: 'HW_ERR_RANGE' }, { count: 3 * i }, t),
      line('platform_rejection', { instance: 'ingest-1', reason: 'HW_ERR_SCHEMA' }, { count: 2 * i }, t),
      line('platform_rules', { instance: 'rules-1' }, { evaluated: 480 * i, alarms_active: 7, alarm_changes: Math.floor(i / 10) }, t),
    );
  }
  return out;
}

/** Writes line protocol to an InfluxDB 1.x database (ms precision). */
/** Writes line protocol (ms precision) into the database's default retention policy, or into `rp`. */
export async function writeLines(url: string, db: string, lines: string[], rp?: string): Promise<void> {
  const into = rp ? `&rp=${encodeURIComponent(rp)}` : '';
  for (let i = 0; i < lines.length; i += 5000) {
    const res = await fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=ms${into}`, { method: 'POST', body: lines.slice(i, i + 5000).join('\n') });
    if (res.status !== 204) throw new Error(`influx write failed ${res.status}: ${await res.text()}`);
  }
}
