// Request and response schemas of the API, built on the shared contract types. The same zod schemas
// validate requests (fastify-type-provider-zod) and produce the OpenAPI description at /docs.
import { z } from 'zod';
import { Alarm, AlarmConditionCode, AlarmHistoryEntry, ALARM_CAUSES, ALARM_STATES, MaintenanceWindow } from '../contract/alarms.ts';
import { DEVICE_CLASS_IDS, type DeviceClass } from '../contract/catalog.ts';
import { ID_PATTERN } from '../contract/topics.ts';
import { CONNECTION_MODES, ConnectionSettings } from '../contract/presence.ts';
import { ERRORS, type ErrorCode } from '../contract/errors.ts';
import { RISK_COLOURS } from '../registry/hazard-sources.ts';
import { ROLES } from './accounts.ts';

export const Id = z.string().regex(ID_PATTERN, 'letters, digits, _ . -; at most 64; starting with a letter or digit');
export const EpochMs = z.number().int().describe('Epoch milliseconds (UTC)');

export const ApiError = z
  .object({
    code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    field: z.string().optional().describe('The first field at fault, as a dotted path (body.level, query.from)'),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .describe('Every refusal: a stable HW_ERR_* code, what went wrong, and which field');

export const errorResponses = {
  400: ApiError,
  401: ApiError,
  403: ApiError,
  404: ApiError,
  409: ApiError,
};

export const Ok = z.object({ ok: z.literal(true) });

// ---- accounts and sessions ----
export const User = z.object({
  username: z.string(),
  role: z.enum(ROLES),
  enterprise: z.string().nullable(),
  jurisdiction: z.string().nullable().describe('Regulator roles: the jurisdiction node whose enterprises the account sees (docs/jurisdictions.md); null: the whole platform'),
  displayName: z.string(),
  createdAt: EpochMs,
  disabledAt: EpochMs.nullable(),
});

export const Login = z.object({ username: z.string().min(1).max(64), password: z.string().min(1).max(256) }).strict();
export const SessionInfo = z.object({
  user: User,
  token: z.string().optional().describe('Bearer token, for API clients'),
  expiresAt: EpochMs,
  demo: z.boolean().describe('The platform runs simulated devices (api.demo): what it shows is not a real plant'),
});
export const Password = z.string().min(10, 'at least 10 characters').max(256);
export const NewUser = z
  .object({ username: Id, password: Password, role: z.enum(ROLES), enterprise: Id.nullable().optional(), jurisdiction: Id.nullable().optional(), displayName: z.string().max(100).optional() })
  .strict();
export const UserChange = z
  .object({ role: z.enum(ROLES).optional(), enterprise: Id.nullable().optional(), jurisdiction: Id.nullable().optional(), displayName: z.string().max(100).optional(), password: Password.optional(), disabled: z.boolean().optional() })
  .strict();
export const PasswordChange = z.object({ currentPassword: z.string().min(1), newPassword: Password }).strict();

// ---- enterprises and hazard sources ----
const PlanX = z.number().min(0).max(1000).describe('Site-plan x, 0..1000');
const PlanY = z.number().min(0).max(600).describe('Site-plan y, 0..600');
export const Place = z.object({ x: PlanX, y: PlanY, width: z.number().min(10).max(1000), height: z.number().min(10).max(600), address: z.string().max(200) });
// A geographic position (WGS-84, decimal degrees): both or neither (registry/geo.ts checks the pair).
export const Lat = z.number().min(-90).max(90).describe('WGS-84 latitude, decimal degrees (north positive)');
export const Lon = z.number().min(-180).max(180).describe('WGS-84 longitude, decimal degrees (east positive)');
const Position = { lat: Lat.nullable().describe('WGS-84 latitude; null: not known'), lon: Lon.nullable().describe('WGS-84 longitude; null: not known') };
const PositionInput = { lat: Lat.nullable().optional().describe('WGS-84 latitude, with lon; null clears the position'), lon: Lon.nullable().optional().describe('WGS-84 longitude, with lat') };
export const Enterprise = z.object({ id: z.string(), name: z.string(), createdAt: EpochMs, place: Place.nullable(), ...Position, jurisdiction: z.string().nullable().optional().describe('The jurisdiction node (town or park) it belongs to; null: directly under the platform') });
export const EnterpriseInput = z.object({ id: Id, name: z.string().min(1).max(200), place: Place.partial({ address: true }).optional(), ...PositionInput, jurisdiction: Id.nullable().optional().describe('The jurisdiction node it belongs to (an administrator with a jurisdiction: at or below its own)') }).strict();
export const EnterpriseChange = z.object({ name: z.string().min(1).max(200).optional(), place: Place.partial({ address: true }).optional(), ...PositionInput }).strict();

export const Grade = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]).describe('R-value grade of the major hazard source: 1 most dangerous');
export const HazardSource = z.object({
  enterprise: z.string(),
  id: z.string(),
  name: z.string(),
  grade: Grade,
  riskColour: z.enum(RISK_COLOURS).describe('Assessed risk colour of the four-colour risk map'),
  x: z.number(),
  y: z.number(),
  ...Position,
  createdAt: EpochMs,
  updatedAt: EpochMs,
});
export const HazardSourceInput = z
  .object({ id: Id, name: z.string().min(1).max(200), grade: Grade, riskColour: z.enum(RISK_COLOURS).optional(), x: PlanX, y: PlanY, ...PositionInput })
  .strict();
export const HazardSourceChange = HazardSourceInput.omit({ id: true }).partial().strict();

// ---- devices ----
export const DevicePresence = z
  .object({
    state: z.enum(['online', 'offline']),
    reason: z.enum(['silent', 'connection_lost']).nullable(),
    mode: z.enum(CONNECTION_MODES),
    lastHeardAt: EpochMs.nullable().describe('Receive time of its newest message; null: not heard from since the platform started watching'),
    nextExpectedAt: EpochMs.describe('When its next message is due'),
    offlineAt: EpochMs.describe('When it is (or was) offline if nothing is heard'),
  })
  .describe('Online or offline as docs/protocol.md defines it: not heard from within what the device promised');
export const Device = z.object({
  enterprise: z.string(),
  id: z.string(),
  class: z.enum(DEVICE_CLASS_IDS as [DeviceClass, ...DeviceClass[]]),
  name: z.string(),
  site: z.string(),
  hazardSource: z.string().nullable(),
  intervalSeconds: z.number().nullable(),
  meta: z.record(z.string(), z.unknown()),
  connection: ConnectionSettings.nullable().describe('How it connects; null or a field left out: its class default'),
  createdAt: EpochMs,
  revokedAt: EpochMs.nullable(),
  online: z.boolean().describe('presence.state is online and the device is not revoked'),
  presence: DevicePresence,
  maintenance: z.boolean().describe('A maintenance window covers the whole device now'),
});
export const DeviceInput = z
  .object({
    id: Id,
    class: z.enum(DEVICE_CLASS_IDS as [DeviceClass, ...DeviceClass[]]),
    name: z.string().max(200).optional(),
    site: z.string().max(100).optional(),
    hazardSource: Id.nullable().optional(),
    intervalSeconds: z.number().int().min(1).max(604_800).nullable().optional(),
    meta: z.record(z.string(), z.unknown()).optional(),
    connection: ConnectionSettings.nullable().optional(),
  })
  .strict();
export const DeviceChange = DeviceInput.omit({ id: true, class: true }).partial().strict();
export const Credentials = z
  .object({ username: z.string(), password: z.string(), clientId: z.string(), device: Device })
  .describe('MQTT credentials: shown once, never stored in clear');

export const Limits = z
  .object({ HH: z.number().optional(), H: z.number().optional(), L: z.number().optional(), LL: z.number().optional() })
  .strict()
  .describe('Process limits of one metric: HH ≥ H > L ≥ LL, in the metric\'s unit');
export const Thresholds = z.object({ limits: z.record(z.string(), Limits) });
export const EffectiveRule = z.object({
  id: z.string(),
  condition: z.string(),
  metric: z.string(),
  direction: z.enum(['high', 'low']),
  stages: z.array(z.object({ level: z.number(), raise: z.number().nullable().describe('null: the limit it refers to is not set for this device'), from: z.string().describe('the rule file\'s threshold: a number or limits.H ...') })),
});
export const ThresholdsView = Thresholds.extend({
  rules: z.array(EffectiveRule).describe('Threshold rules the rules engine applies to this device, with limits resolved (read-only here: rule files)'),
});

export const LatestValue = z.object({ value: z.union([z.number(), z.boolean()]), ts: EpochMs });
export const DeviceLatest = z.object({
  enterprise: z.string(),
  device: z.string(),
  online: z.boolean(),
  presence: DevicePresence,
  status: z.enum(['online', 'offline']).nullable().describe('Its connection as the status topic last said'),
  lastSeen: EpochMs.nullable(),
  values: z.record(z.string(), LatestValue),
  activeEvents: z.array(z.string()),
});
export const Chart = z.object({
  from: EpochMs,
  to: EpochMs,
  bucketSeconds: z.number(),
  series: z.array(z.object({ metric: z.string(), unit: z.string(), points: z.array(z.tuple([z.number(), z.number().nullable()])) })),
});

// ---- alarms and maintenance ----
const csv = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(item)).optional();
export const timeParam = z.preprocess((v) => {
  if (typeof v !== 'string') return v;
  if (/^\d+$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? v : t;
}, z.number({ error: 'epoch ms or ISO 8601' }).int());

export const AlarmQuery = z
  .object({
    state: csv(z.enum(ALARM_STATES)).describe('Comma-separated states'),
    level: csv(z.coerce.number().int().min(1).max(4)).describe('Comma-separated levels 1..4'),
    enterprise: Id.optional(),
    device: Id.optional(),
    condition: csv(AlarmConditionCode).describe('Comma-separated HW_ALM_* codes'),
    deviceClass: csv(z.enum(DEVICE_CLASS_IDS as [DeviceClass, ...DeviceClass[]])).describe('Comma-separated device classes'),
    q: z.string().trim().min(1).max(64).optional().describe('Free text: the device id contains it (case-insensitive)'),
    open: z.enum(['true', 'false']).optional().describe('true: everything not closed'),
    parent: z.string().min(1).max(100).optional().describe('Only the consequences grouped under this alarm'),
    topLevel: z.enum(['true', 'false']).optional().describe('true: only alarms of their own, not grouped under a cause (what an operator acts on)'),
    from: timeParam.optional().describe('raisedAt ≥ from (epoch ms or ISO 8601)'),
    to: timeParam.optional().describe('raisedAt < to'),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
    offset: z.coerce.number().int().min(0).default(0),
  })
  .strict();
export const AlarmList = z.object({ total: z.number().int(), alarms: z.array(Alarm) });
export const AlarmDetail = z.object({ alarm: Alarm, history: z.array(AlarmHistoryEntry) });
export const AlarmChange = z.object({ alarm: Alarm, change: AlarmHistoryEntry });

export const AckInput = z.object({ note: z.string().max(2000).optional() }).strict();
export const FeedbackInput = z
  .object({ cause: z.enum(ALARM_CAUSES), measures: z.string().trim().min(1, 'say what was done').max(2000), note: z.string().max(2000).optional() })
  .strict();
export const ShelveInput = z
  .object({
    minutes: z.number().int().min(1).max(24 * 60).optional().describe('Shelve for this long'),
    until: EpochMs.optional().describe('or until this time'),
    reason: z.string().trim().min(1, 'a reason is required').max(2000),
  })
  .strict()
  .refine((v) => (v.minutes === undefined) !== (v.until === undefined), { message: 'give either minutes or until', path: ['minutes'] });
export const ReasonInput = z.object({ reason: z.string().trim().min(1, 'a reason is required').max(2000) }).strict();

export { MaintenanceWindow };
export const MaintenanceInput = z
  .object({
    enterprise: Id,
    device: Id,
    condition: AlarmConditionCode.nullable().optional().describe('One condition only; absent = the whole device'),
    reason: z.string().trim().min(1, 'a reason is required').max(2000),
    until: EpochMs.optional(),
    minutes: z.number().int().min(1).max(30 * 24 * 60).optional().describe('How long, from `from` (or now)'),
    from: EpochMs.optional().describe('When it starts: absent or past, now; later, a window planned ahead (its alarms are taken out of service when it starts)'),
  })
  .strict()
  .refine((v) => (v.minutes === undefined) !== (v.until === undefined), { message: 'give either minutes or until', path: ['minutes'] });
export const MaintenanceQuery = z
  .object({
    enterprise: Id.optional(),
    device: Id.optional(),
    active: z.enum(['true', 'false']).optional().describe('true: only windows in force now'),
    current: z.enum(['true', 'false']).optional().describe('true: windows in force now or planned to start later'),
  })
  .strict();

// ---- overview (the one map) ----
export const LevelCounts = z.object({ 1: z.number(), 2: z.number(), 3: z.number(), 4: z.number() });
export const Overview = z.object({
  at: EpochMs,
  plan: z.object({ width: z.number(), height: z.number() }),
  counts: LevelCounts.describe('Open alarms in scope, per level'),
  unacknowledged: z.number(),
  enterprises: z.array(
    z.object({
      id: z.string(),
      name: z.string(),
      place: Place.nullable(),
      ...Position,
      worstLevel: z.number().nullable(),
      counts: LevelCounts,
      devices: z.number(),
      devicesOnline: z.number(),
    }),
  ),
  sources: z.array(
    HazardSource.extend({
      worstLevel: z.number().nullable().describe('Most severe open, active alarm of its devices'),
      counts: LevelCounts,
      devices: z.number(),
      devicesOnline: z.number(),
      offline: z.boolean().describe('It has devices and none is online'),
    }),
  ),
});

export const AuditEntry = z.object({
  seq: z.number(),
  at: EpochMs,
  username: z.string(),
  role: z.string(),
  enterprise: z.string().nullable(),
  action: z.string(),
  method: z.string(),
  path: z.string(),
  status: z.number(),
  target: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()).nullable(),
  ip: z.string().nullable(),
});
export const AuditQuery = z
  .object({
    from: timeParam.optional(),
    to: timeParam.optional(),
    username: z.string().optional(),
    enterprise: Id.optional(),
    action: z.string().optional(),
    beforeSeq: z.coerce.number().int().optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(200),
  })
  .strict();

export const EnterpriseParams = z.object({ enterprise: Id });
export const DeviceParams = z.object({ enterprise: Id, device: Id });
export const SourceParams = z.object({ enterprise: Id, source: Id });
export const AlarmParams = z.object({ id: z.string().min(1).max(100) });
