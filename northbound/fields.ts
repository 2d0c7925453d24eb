// What a northbound message can say: the fields each kind of message offers to the map's templates,
// which of them are times (formatted with {field:format}), the closed sets of values some of them take
// (so that a code table is checked for completeness at start), and the contexts built from the
// registry's records, readings and alarm changes. Contexts are flat records stored in the spool as
// JSON; the map renders them when they are sent.
import { ALARM_ACTIONS, ALARM_CONDITIONS, ALARM_STATES, type AlarmEventPayload } from '../contract/alarms.ts';
import { DEVICE_CLASSES, DEVICE_CLASS_IDS, metricSpec, type DeviceClass } from '../contract/catalog.ts';
import { RISK_COLOURS, type EnterprisePlace, type HazardSource } from '../registry/hazard-sources.ts';
import type { DeviceRecord, Enterprise } from '../registry/registry.ts';
import type { Context } from './template.ts';

export const MESSAGE_KINDS = ['enterprise', 'hazardSource', 'device', 'reading', 'alarm'] as const;
export type MessageKind = (typeof MESSAGE_KINDS)[number];

/** Base data goes up before the sensing data queued after it. */
export const BASE_KINDS: readonly MessageKind[] = ['enterprise', 'hazardSource', 'device'];

const COMMON = ['kind', 'instance', 'messageId', 'now', 'enterprise', 'enterprise.name', 'enterprise.address', 'enterprise.createdAt'];
const HAZARD_SOURCE = ['hazardSource', 'hazardSource.name', 'hazardSource.grade', 'hazardSource.riskColour', 'hazardSource.createdAt', 'hazardSource.updatedAt'];
const DEVICE = ['device', 'device.name', 'device.class', 'device.classZh', 'device.site', 'device.hazardSource', 'device.status', 'device.intervalSeconds', 'device.createdAt'];
/** Fields of one reported value: at the top of a reading sent per metric, or inside `$each: values`. */
export const VALUE_FIELDS = ['metric', 'metric.zh', 'value', 'value.number', 'unit'];
const READING = ['ts', 'interval.start', 'interval.end'];
const ALARM = [
  'ts', 'alarm.id', 'alarm.seq', 'alarm.action', 'alarm.by', 'alarm.note', 'alarm.at', 'alarm.level', 'alarm.peakLevel', 'alarm.state',
  'alarm.condition', 'alarm.title', 'alarm.titleZh', 'alarm.message', 'alarm.messageZh', 'alarm.metric', 'alarm.value', 'alarm.threshold', 'alarm.raisedAt',
  'alarm.acknowledgedAt', 'alarm.acknowledgedBy', 'alarm.clearedAt', 'alarm.closedAt', 'alarm.site', 'alarm.hazardSource', 'alarm.parentId',
];

/** Fields each kind of message offers (`device.meta.<key>` besides, wherever device fields are). */
export const FIELDS: Record<MessageKind, readonly string[]> = {
  enterprise: COMMON,
  hazardSource: [...COMMON, ...HAZARD_SOURCE],
  device: [...COMMON, ...DEVICE],
  reading: [...COMMON, ...DEVICE, ...READING],
  alarm: [...COMMON, ...DEVICE, ...ALARM],
};

export const TIME_FIELDS = new Set([
  'now', 'ts', 'enterprise.createdAt', 'hazardSource.createdAt', 'hazardSource.updatedAt', 'device.createdAt', 'interval.start', 'interval.end',
  'alarm.at', 'alarm.raisedAt', 'alarm.acknowledgedAt', 'alarm.clearedAt', 'alarm.closedAt',
]);

export function hasDeviceFields(kind: MessageKind): boolean {
  return kind === 'device' || kind === 'reading' || kind === 'alarm';
}

const ALL_METRICS = [...new Set(DEVICE_CLASS_IDS.flatMap((c) => Object.keys(DEVICE_CLASSES[c].metrics)))];

/** The closed set of values a field takes, for the completeness check of a code table. */
export function fieldDomain(field: string, alarmActions: readonly string[]): readonly string[] | undefined {
  switch (field) {
    case 'alarm.level':
    case 'alarm.peakLevel':
    case 'hazardSource.grade':
      return ['1', '2', '3', '4'];
    case 'alarm.state':
      return ALARM_STATES;
    case 'alarm.action':
      return alarmActions;
    case 'alarm.condition':
      return Object.keys(ALARM_CONDITIONS);
    case 'device.class':
      return DEVICE_CLASS_IDS;
    case 'device.status':
      return ['active', 'revoked'];
    case 'hazardSource.riskColour':
      return RISK_COLOURS;
    case 'metric':
      return ALL_METRICS;
    default:
      return undefined;
  }
}

export const DEFAULT_ALARM_ACTIONS: readonly string[] = ALARM_ACTIONS;

// ---- contexts ------------------------------------------------------------------------------------

export function enterpriseContext(e: Enterprise, place: EnterprisePlace | undefined): Context {
  return { enterprise: e.id, 'enterprise.name': e.name, 'enterprise.address': place?.address ?? '', 'enterprise.createdAt': e.createdAt };
}

export function hazardSourceContext(s: HazardSource, enterprise: Context): Context {
  return {
    ...enterprise,
    hazardSource: s.id,
    'hazardSource.name': s.name,
    'hazardSource.grade': s.grade,
    'hazardSource.riskColour': s.riskColour,
    'hazardSource.createdAt': s.createdAt,
    'hazardSource.updatedAt': s.updatedAt,
  };
}

export function deviceContext(d: DeviceRecord, enterprise: Context): Context {
  const ctx: Context = {
    ...enterprise,
    device: d.id,
    'device.name': d.name,
    'device.class': d.class,
    'device.classZh': DEVICE_CLASSES[d.class]?.zh ?? d.class,
    'device.site': d.site,
    'device.hazardSource': d.hazardSource,
    'device.status': d.revokedAt === null ? 'active' : 'revoked',
    'device.intervalSeconds': d.intervalSeconds ?? DEVICE_CLASSES[d.class]?.intervalSeconds ?? null,
    'device.createdAt': d.createdAt,
  };
  for (const [k, v] of Object.entries(d.meta)) ctx[`device.meta.${k}`] = v;
  return ctx;
}

/** One reported value with its own time; the fields inside `$each: values` (`value.number`: true/false as 1/0). */
export function valueContext(cls: DeviceClass, metric: string, value: number | boolean, ts: number): Context {
  const spec = metricSpec(cls, metric);
  return { metric, 'metric.zh': spec?.zh ?? metric, value, 'value.number': typeof value === 'boolean' ? Number(value) : value, unit: spec?.unit ?? '', ts };
}

/** The message about a device's values: `ts` is the time of the latest of them. */
export function readingContext(device: Context, values: Context[], interval: { start: number; end: number }): Context {
  const ts = Math.max(...values.map((v) => v.ts as number));
  return { ...device, ts, 'interval.start': interval.start, 'interval.end': interval.end, values };
}

export function alarmContext(p: AlarmEventPayload, device: Context): Context {
  const { alarm: a, change: c } = p;
  const spec = ALARM_CONDITIONS[a.condition];
  return {
    ...device,
    ts: c.at,
    'alarm.id': a.id,
    'alarm.seq': c.seq,
    'alarm.action': c.action,
    'alarm.by': c.by,
    'alarm.note': c.note,
    'alarm.at': c.at,
    'alarm.level': c.level,
    'alarm.peakLevel': a.peakLevel,
    'alarm.state': c.state,
    'alarm.condition': a.condition,
    'alarm.title': spec?.title ?? a.condition,
    'alarm.titleZh': spec?.zh ?? a.condition,
    'alarm.message': a.message,
    'alarm.messageZh': a.messageZh,
    'alarm.metric': a.metric,
    'alarm.value': c.value ?? a.value,
    'alarm.threshold': a.threshold,
    'alarm.raisedAt': a.raisedAt,
    'alarm.acknowledgedAt': a.acknowledgedAt,
    'alarm.acknowledgedBy': a.acknowledgedBy,
    'alarm.clearedAt': a.clearedAt,
    'alarm.closedAt': a.closedAt,
    'alarm.site': a.site,
    'alarm.hazardSource': a.hazardSource,
    'alarm.parentId': a.parentId ?? null,
  };
}
