// Alarms as every part of the platform sees them: levels, the catalog of alarm conditions with one
// stable code each, the states of the closed loop, operator actions, and the message published on
// hw/v1/<enterprise>/<device>/alarm at every state change. The rules engine decides; the API, the
// console, Grafana and other systems read these shapes.
import { z } from 'zod';

/**
 * Warning levels: 1 red (most severe), 2 orange, 3 yellow, 4 blue.
 * Beware: a gas detector's first-stage alarm is the milder one; never map "stage 1" to "level 1".
 */
export const ALARM_LEVELS = [1, 2, 3, 4] as const;
export type AlarmLevel = (typeof ALARM_LEVELS)[number];
export const AlarmLevel = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);

export const LEVEL_COLOURS: Record<AlarmLevel, { name: 'red' | 'orange' | 'yellow' | 'blue'; hex: string; zh: string }> = {
  1: { name: 'red', hex: '#d32f2f', zh: '红色' },
  2: { name: 'orange', hex: '#f57c00', zh: '橙色' },
  3: { name: 'yellow', hex: '#fbc02d', zh: '黄色' },
  4: { name: 'blue', hex: '#1976d2', zh: '蓝色' },
};

/** How other platforms name the same severities, for integrations. */
export const LEVEL_MAPPINGS: Record<AlarmLevel, { thingsboard: string; influxdb: string }> = {
  1: { thingsboard: 'CRITICAL', influxdb: 'crit' },
  2: { thingsboard: 'MAJOR', influxdb: 'crit' },
  3: { thingsboard: 'MINOR', influxdb: 'warn' },
  4: { thingsboard: 'WARNING', influxdb: 'info' },
};

export interface AlarmConditionSpec {
  title: string;
  zh: string;
  /** Where the condition comes from: a measured value, a device event, or the device's silence. */
  source: 'threshold' | 'rate' | 'event' | 'silence' | 'combination';
}

/** Every alarm condition, one stable code each; used by rules, the alarm topic, the API, metrics and docs. */
export const ALARM_CONDITIONS = {
  HW_ALM_GAS_LEL_HIGH: { title: 'Combustible gas concentration high', zh: '可燃气体浓度超限', source: 'threshold' },
  HW_ALM_GAS_TOXIC_HIGH: { title: 'Toxic gas concentration high', zh: '有毒气体浓度超限', source: 'threshold' },
  HW_ALM_GAS_DETECTOR_ALARM: { title: 'Gas detector reports an alarm stage', zh: '气体探测器报警', source: 'event' },
  HW_ALM_O2_HIGH: { title: 'Oxygen concentration high', zh: '氧气浓度过高', source: 'threshold' },
  HW_ALM_O2_LOW: { title: 'Oxygen concentration low', zh: '氧气浓度过低', source: 'threshold' },
  HW_ALM_LEVEL_HIGH: { title: 'Vessel level high (H/HH)', zh: '液位高报', source: 'threshold' },
  HW_ALM_LEVEL_LOW: { title: 'Vessel level low (L/LL)', zh: '液位低报', source: 'threshold' },
  HW_ALM_TEMPERATURE_HIGH: { title: 'Vessel temperature high', zh: '温度高报', source: 'threshold' },
  HW_ALM_TEMPERATURE_LOW: { title: 'Vessel temperature low', zh: '温度低报', source: 'threshold' },
  HW_ALM_PRESSURE_HIGH: { title: 'Vessel pressure high', zh: '压力高报', source: 'threshold' },
  HW_ALM_PRESSURE_LOW: { title: 'Vessel pressure low', zh: '压力低报', source: 'threshold' },
  HW_ALM_RATE_OF_CHANGE: { title: 'Value changing too fast', zh: '变化速率异常', source: 'rate' },
  HW_ALM_INTERLOCK_TRIP: { title: 'Safety interlock tripped', zh: '联锁动作', source: 'event' },
  HW_ALM_RESIDUAL_CURRENT_HIGH: { title: 'Residual current high', zh: '剩余电流超限', source: 'threshold' },
  HW_ALM_CABLE_TEMPERATURE_HIGH: { title: 'Cable temperature high', zh: '线缆温度超限', source: 'threshold' },
  HW_ALM_OVER_VOLTAGE: { title: 'Over-voltage', zh: '过压', source: 'threshold' },
  HW_ALM_UNDER_VOLTAGE: { title: 'Under-voltage', zh: '欠压', source: 'threshold' },
  HW_ALM_OVER_CURRENT: { title: 'Over-current', zh: '过流', source: 'threshold' },
  HW_ALM_ARC_FAULT: { title: 'Arc fault', zh: '故障电弧', source: 'event' },
  HW_ALM_FIRE_WATER_PRESSURE_LOW: { title: 'Fire-water pressure low', zh: '消防水压力低', source: 'threshold' },
  HW_ALM_FIRE_PUMP_NO_PRESSURE: { title: 'Fire pump running without pressure', zh: '消防泵运行但压力不足', source: 'combination' },
  HW_ALM_FIRE_POOL_LEVEL_LOW: { title: 'Fire-water pool level low', zh: '消防水池液位低', source: 'threshold' },
  HW_ALM_PUMP_FAULT: { title: 'Fire pump fault', zh: '消防泵故障', source: 'event' },
  HW_ALM_HYDRANT_DRAW: { title: 'Hydrant in use or tilted', zh: '消火栓出水或倾倒', source: 'event' },
  HW_ALM_SMOKE: { title: 'Smoke alarm', zh: '烟雾报警', source: 'event' },
  HW_ALM_DEVICE_FAULT: { title: 'Device fault', zh: '设备故障', source: 'event' },
  HW_ALM_LOW_BATTERY: { title: 'Low battery', zh: '电量低', source: 'event' },
  HW_ALM_TAMPER: { title: 'Device tampered with or removed', zh: '设备被拆除', source: 'event' },
  HW_ALM_DEVICE_OFFLINE: { title: 'Device offline or silent', zh: '设备离线', source: 'silence' },
  HW_ALM_VIDEO_INTRUSION: { title: 'Intrusion into a watched area (video)', zh: '视频识别：区域入侵', source: 'event' },
  HW_ALM_VIDEO_FIRE: { title: 'Smoke or flame seen (video)', zh: '视频识别：烟火', source: 'event' },
  HW_ALM_VIDEO_NO_HELMET: { title: 'Person without a safety helmet (video)', zh: '视频识别：未戴安全帽', source: 'event' },
  HW_ALM_VIDEO_LEAK: { title: 'Leak seen (video)', zh: '视频识别：跑冒滴漏', source: 'event' },
  HW_ALM_INGEST_BACKPRESSURE: { title: 'Platform: ingest spool full, data delayed', zh: '平台：数据缓存已满', source: 'event' },
} as const satisfies Record<string, AlarmConditionSpec>;

export type AlarmCondition = keyof typeof ALARM_CONDITIONS;
export const AlarmConditionCode = z.enum(Object.keys(ALARM_CONDITIONS) as [AlarmCondition, ...AlarmCondition[]]);

/**
 * Alarm states after ISA-18.2 / IEC 62682. `shelved` and `out_of_service` suppress an alarm for a time
 * (shelving, with an expiry) or for maintenance (out of service, with who, why and until when).
 */
export const ALARM_STATES = [
  'active_unacknowledged',
  'active_acknowledged',
  'cleared_unacknowledged',
  'closed',
  'shelved',
  'out_of_service',
  // Added by rules (issue 5): signed for, returned to normal, waiting for a person to close it.
  'cleared_acknowledged',
] as const;
export type AlarmState = (typeof ALARM_STATES)[number];

/** What a person recorded as the cause when handling an alarm. */
export const ALARM_CAUSES = ['real_hazard', 'process_swing', 'instrument_fault', 'maintenance', 'false_alarm'] as const;
export type AlarmCause = (typeof ALARM_CAUSES)[number];

/** Everything that can happen to an alarm; each is one entry in its append-only history. */
export const ALARM_ACTIONS = [
  'raised',
  'escalated',
  'deescalated',
  'notified',
  'escalated_notification',
  'acknowledged',
  'feedback',
  'cleared',
  'cleared_manually',
  'shelved',
  'unshelved',
  'closed',
  // Added by rules (issue 5): planned maintenance took the alarm out of service, and gave it back.
  'out_of_service',
  'returned_to_service',
  // Added by correlation (issue 19): the device's own event on the same measurement recorded on the alarm
  // instead of a second alarm; a consequential alarm put under the alarm of its cause.
  'corroborated',
  'grouped',
] as const;
export type AlarmAction = (typeof ALARM_ACTIONS)[number];

export const Alarm = z.object({
  id: z.string(),
  enterprise: z.string(),
  device: z.string(),
  deviceClass: z.string(),
  site: z.string(),
  hazardSource: z.string().nullable(),
  condition: AlarmConditionCode,
  level: AlarmLevel,
  /** Most severe level reached by this instance. */
  peakLevel: AlarmLevel,
  state: z.enum(ALARM_STATES),
  metric: z.string().nullable(),
  value: z.union([z.number(), z.boolean()]).nullable(),
  threshold: z.number().nullable(),
  message: z.string(),
  /** The rule file's own Chinese detail line, when it gives one; else the console composes it from the code. */
  messageZh: z.string().nullable(),
  raisedAt: z.number(),
  updatedAt: z.number(),
  acknowledgedAt: z.number().nullable(),
  acknowledgedBy: z.string().nullable(),
  clearedAt: z.number().nullable(),
  closedAt: z.number().nullable(),
  closedBy: z.string().nullable(),
  shelvedUntil: z.number().nullable(),
  cause: z.enum(ALARM_CAUSES).nullable(),
  /**
   * The alarm of its cause when this one is a consequence of it (a tripped interlock under the HH level,
   * low pressure under a pump fault): shown beneath it, acknowledged with it. null: an alarm of its own.
   */
  parentId: z.string().nullable().default(null),
  /** The snapshot a camera's analytics attached to the event that raised or last changed it (event data.snapshot). */
  snapshot: z.string().nullable().default(null),
});
export type Alarm = z.infer<typeof Alarm>;

export const AlarmHistoryEntry = z.object({
  alarmId: z.string(),
  seq: z.number().int(),
  at: z.number(),
  action: z.enum(ALARM_ACTIONS),
  /** Who: an operator's user name, or `system` for the rules engine. */
  by: z.string(),
  level: AlarmLevel,
  state: z.enum(ALARM_STATES),
  value: z.union([z.number(), z.boolean()]).nullable(),
  note: z.string().nullable(),
  data: z.record(z.string(), z.unknown()).nullable(),
});
export type AlarmHistoryEntry = z.infer<typeof AlarmHistoryEntry>;

/** Published on hw/v1/<enterprise>/<device>/alarm (QoS1, not retained) at every state change. */
export const AlarmEventPayload = z.object({
  alarm: Alarm,
  change: AlarmHistoryEntry,
});
export type AlarmEventPayload = z.infer<typeof AlarmEventPayload>;

/**
 * The condition and level an alarm change shows to have been reached: a raised, escalated or
 * de-escalated alarm's own, or, for a device event recorded on an alarm as corroboration, the event's
 * own condition and level (it would have been an alarm of its own without correlation). Used to check
 * scenarios' expected alarms, which correlation must never lose.
 */
export function reachedBy(p: AlarmEventPayload): { condition: AlarmCondition; level: AlarmLevel } | undefined {
  const { action, data, level } = p.change;
  if (action === 'raised' || action === 'escalated' || action === 'deescalated') return { condition: p.alarm.condition, level };
  if (action === 'corroborated' && data && typeof data.condition === 'string' && data.condition in ALARM_CONDITIONS) {
    return { condition: data.condition as AlarmCondition, level: data.level as AlarmLevel };
  }
  return undefined;
}

/** Maps a level to the next more severe one, for grade-1 major hazard sources (domain.md, Grading). */
export function raiseLevel(level: AlarmLevel): AlarmLevel {
  return (level > 1 ? level - 1 : 1) as AlarmLevel;
}

// ---- Added by rules (issue 5): planned maintenance windows and alarm feedback ----

/** Planned maintenance: a device, or one condition of it, raises nothing until `until` (or until ended). */
export const MaintenanceWindow = z.object({
  id: z.string(),
  enterprise: z.string(),
  device: z.string(),
  /** null = every condition of the device, silence included. */
  condition: AlarmConditionCode.nullable(),
  by: z.string(),
  reason: z.string(),
  from: z.number(),
  until: z.number(),
  endedAt: z.number().nullable(),
  endedBy: z.string().nullable(),
});
export type MaintenanceWindow = z.infer<typeof MaintenanceWindow>;

/** What an operator records after verifying an alarm on site. */
export const AlarmFeedback = z.object({
  cause: z.enum(ALARM_CAUSES),
  measures: z.string().min(1).max(2000),
  note: z.string().max(2000).optional(),
});
export type AlarmFeedback = z.infer<typeof AlarmFeedback>;

/** True for the states in which the condition of the alarm is still present. */
export function isActiveState(state: AlarmState): boolean {
  return state === 'active_unacknowledged' || state === 'active_acknowledged';
}
