// Payload schemas of every channel, and the interpretation of a device message into readings.
// The schemas check the envelope (shape, field names, types of the envelope fields); each value is
// then checked against the catalog on its own, so that one bad value never drops a good sibling.
import { isUtf8 } from 'node:buffer';
import { z } from 'zod';
import { DEVICE_CLASSES, EVENT_TYPES, MOMENTARY_EVENTS, metricSpec, type DeviceClass, type EventType } from './catalog.ts';
import { ERRORS, type ErrorCode } from './errors.ts';

/** Device timestamp: epoch milliseconds, or ISO 8601 with a time zone. */
export const Timestamp = z
  .union([z.number(), z.string()])
  .describe('Time of the reading: epoch milliseconds (UTC), or ISO 8601 with a time zone (e.g. 2026-11-23T08:00:00+08:00). Optional: the receive time is used when absent.');

export const MetricValue = z.union([z.number(), z.boolean()]);

export const Reading = z
  .object({
    ts: Timestamp.optional(),
    values: z.record(z.string(), z.unknown()).describe('Values keyed by metric name of the device class; units are fixed per metric.'),
  })
  .strict();

export const Batch = z
  .object({
    readings: z.array(Reading).min(1).describe('Several readings in one message, e.g. buffered while offline.'),
  })
  .strict();

/** hw/v1/<enterprise>/<device>/telemetry */
export const TelemetryPayload = z.union([Reading, Batch]);
export type TelemetryPayload = z.infer<typeof TelemetryPayload>;

/** hw/v1/<enterprise>/<device>/event */
export const EventPayload = z
  .object({
    ts: Timestamp.optional(),
    type: z.enum(EVENT_TYPES),
    active: z.boolean().optional().describe('true when a condition starts (default), false when it ends; not used by momentary events'),
    message: z.string().max(500).optional(),
    data: z.record(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
  })
  .strict();
export type EventPayload = z.infer<typeof EventPayload>;

/** hw/v1/<enterprise>/<device>/status, retained; `offline` is the device's last will. */
export const StatusPayload = z
  .object({
    state: z.enum(['online', 'offline']),
    ts: Timestamp.optional(),
  })
  .strict();
export type StatusPayload = z.infer<typeof StatusPayload>;

/** hw/v1/<enterprise>/<device>/error: the platform tells the device what it refused and why. */
export const ErrorPayload = z
  .object({
    code: z.enum(Object.keys(ERRORS) as [ErrorCode, ...ErrorCode[]]),
    message: z.string(),
    topic: z.string(),
    receivedAt: z.number().describe('Platform receive time, epoch ms'),
    metric: z.string().optional(),
    index: z.number().int().optional().describe('Index of the reading in a batch'),
  })
  .strict();
export type ErrorPayload = z.infer<typeof ErrorPayload>;

export interface TimePolicy {
  /** A device clock further ahead than this is not trusted: the receive time is used (HW_WARN_CLOCK_SKEW). */
  skewToleranceMs: number;
  /** Further ahead than this, the reading is refused (HW_ERR_TS_FUTURE). */
  maxFutureMs: number;
  /** Older than this, the reading is refused (HW_ERR_TS_PAST); gateways replay buffers within it. */
  maxPastMs: number;
}

export const DEFAULT_TIME_POLICY: TimePolicy = {
  skewToleranceMs: 30_000,
  maxFutureMs: 3_600_000,
  maxPastMs: 7 * 24 * 3_600_000,
};

export interface ContractLimits {
  maxBatch: number;
}

export const DEFAULT_LIMITS: ContractLimits = { maxBatch: 1000 };

export type TimestampSource = 'device' | 'receive';

export interface InterpretedReading {
  ts: number;
  tsSource: TimestampSource;
  values: Record<string, number | boolean>;
}

export interface Rejection {
  code: ErrorCode;
  message: string;
  metric?: string;
  index?: number;
}

export interface InterpretedTelemetry {
  readings: InterpretedReading[];
  /** Refusals and warnings, in the order met. Empty readings with rejections = message refused. */
  rejections: Rejection[];
}

export interface InterpretedEvent {
  event?: { ts: number; tsSource: TimestampSource; type: EventType; active: boolean; message?: string; data?: Record<string, number | string | boolean> };
  rejections: Rejection[];
}

function reject(code: ErrorCode, extra: Omit<Rejection, 'code' | 'message'> = {}, detail?: string): Rejection {
  return { code, message: detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message, ...extra };
}

const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;

type TimeResult = { ts: number; tsSource: TimestampSource; warning?: Rejection } | { rejection: Rejection };

/** Decides which time a reading is stored at. */
export function resolveTimestamp(raw: unknown, receivedAt: number, policy: TimePolicy, index?: number): TimeResult {
  const at = index === undefined ? {} : { index };
  if (raw === undefined) return { ts: receivedAt, tsSource: 'receive' };
  let ts: number;
  if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return { rejection: reject('HW_ERR_TS_INVALID', at) };
    ts = Math.round(raw);
  } else if (typeof raw === 'string' && ISO_8601.test(raw)) {
    ts = Date.parse(raw);
    if (Number.isNaN(ts)) return { rejection: reject('HW_ERR_TS_INVALID', at, raw) };
  } else {
    return { rejection: reject('HW_ERR_TS_INVALID', at, String(raw)) };
  }
  const ahead = ts - receivedAt;
  if (ahead > policy.maxFutureMs) return { rejection: reject('HW_ERR_TS_FUTURE', at, `${Math.round(ahead / 1000)} s ahead`) };
  if (-ahead > policy.maxPastMs) return { rejection: reject('HW_ERR_TS_PAST', at, `${Math.round(-ahead / 1000)} s old`) };
  if (ahead > policy.skewToleranceMs) {
    return { ts: receivedAt, tsSource: 'receive', warning: reject('HW_WARN_CLOCK_SKEW', at, `${Math.round(ahead / 1000)} s ahead`) };
  }
  return { ts, tsSource: 'device' };
}

/** Checks one value against the catalog; returns the value to store or the reason it is refused. */
export function checkValue(cls: DeviceClass, metric: string, value: unknown, index?: number): { value: number | boolean } | { rejection: Rejection } {
  const at = index === undefined ? { metric } : { metric, index };
  const spec = metricSpec(cls, metric);
  if (!spec) return { rejection: reject('HW_ERR_UNKNOWN_METRIC', at, metric) };
  if (spec.type === 'boolean') {
    if (typeof value === 'boolean') return { value };
    if (value === 0 || value === 1) return { value: value === 1 };
    return { rejection: reject('HW_ERR_TYPE', at, `${metric} expects true/false`) };
  }
  if (typeof value !== 'number') {
    // JSON has no NaN or Infinity: devices that print them as strings get told exactly that.
    if (typeof value === 'string' && /^[+-]?(nan|inf(inity)?)$/i.test(value.trim())) {
      return { rejection: reject('HW_ERR_NOT_FINITE', at, metric) };
    }
    return { rejection: reject('HW_ERR_TYPE', at, `${metric} expects a number in ${spec.unit}`) };
  }
  if (!Number.isFinite(value)) return { rejection: reject('HW_ERR_NOT_FINITE', at, metric) };
  if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
    return { rejection: reject('HW_ERR_RANGE', at, `${metric}=${value} ${spec.unit} outside [${spec.min}, ${spec.max}]`) };
  }
  return { value };
}

/** Parses a payload buffer as JSON; Infinity-producing literals such as 1e999 are caught later per value. */
export function parseJson(payload: Buffer | string): { json: unknown } | { rejection: Rejection } {
  // isUtf8 checks the bytes in place (no decoded copy to compare against): invalid UTF-8 is refused, not replaced.
  if (typeof payload !== 'string' && !isUtf8(payload)) return { rejection: reject('HW_ERR_BAD_JSON', {}, 'not UTF-8') };
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  try {
    return { json: JSON.parse(text) };
  } catch (err) {
    return { rejection: reject('HW_ERR_BAD_JSON', {}, (err as Error).message) };
  }
}

function schemaDetail(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid';
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

/**
 * TelemetryPayload's check written out by hand for parsed JSON: the same answer (contract/test/envelope.test.ts
 * compares the two on a large corpus) at a tenth of the cost, since every message of every device passes
 * here, in ingest and in rules. Undefined when the envelope is not valid; zod then says why.
 */
export function telemetryEnvelope(json: unknown): TelemetryPayload | undefined {
  if (!isJsonObject(json)) return undefined;
  if (isReading(json)) return json as TelemetryPayload;
  let keys = 0;
  for (const key in json) {
    if (key !== 'readings') return undefined;
    keys++;
  }
  const readings = (json as { readings?: unknown }).readings;
  if (keys !== 1 || !Array.isArray(readings) || readings.length === 0) return undefined;
  for (let i = 0; i < readings.length; i++) if (!isReading(readings[i])) return undefined;
  return json as TelemetryPayload;
}

function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isReading(v: unknown): boolean {
  if (!isJsonObject(v)) return false;
  for (const key in v) if (key !== 'ts' && key !== 'values') return false;
  if (!isJsonObject(v.values)) return false;
  const ts = v.ts;
  return ts === undefined || typeof ts === 'string' || (typeof ts === 'number' && Number.isFinite(ts));
}

/** Interprets a telemetry message of a device of class `cls`. */
export function interpretTelemetry(
  cls: DeviceClass,
  payload: Buffer | string,
  receivedAt: number,
  policy: TimePolicy = DEFAULT_TIME_POLICY,
  limits: ContractLimits = DEFAULT_LIMITS,
): InterpretedTelemetry {
  const parsed = parseJson(payload);
  if ('rejection' in parsed) return { readings: [], rejections: [parsed.rejection] };
  let data = telemetryEnvelope(parsed.json);
  if (!data) {
    // zod words the refusal (and has the last word, should the hand check ever be stricter than the schema).
    const envelope = TelemetryPayload.safeParse(parsed.json);
    if (!envelope.success) return { readings: [], rejections: [reject('HW_ERR_SCHEMA', {}, schemaDetail(envelope.error))] };
    data = envelope.data;
  }
  const batch = 'readings' in data;
  const raw = 'readings' in data ? data.readings : [data];
  if (raw.length > limits.maxBatch) {
    return { readings: [], rejections: [reject('HW_ERR_BATCH_TOO_LARGE', {}, `${raw.length} > ${limits.maxBatch}`)] };
  }
  const readings: InterpretedReading[] = [];
  const rejections: Rejection[] = [];
  raw.forEach((reading, i) => {
    const index = batch ? i : undefined;
    const time = resolveTimestamp(reading.ts, receivedAt, policy, index);
    if ('rejection' in time) {
      rejections.push(time.rejection);
      return;
    }
    if (time.warning) rejections.push(time.warning);
    const values: Record<string, number | boolean> = {};
    for (const [metric, value] of Object.entries(reading.values)) {
      const checked = checkValue(cls, metric, value, index);
      if ('rejection' in checked) rejections.push(checked.rejection);
      else values[metric] = checked.value;
    }
    if (Object.keys(values).length > 0) readings.push({ ts: time.ts, tsSource: time.tsSource, values });
    else if (Object.keys(reading.values).length === 0) rejections.push(reject('HW_ERR_EMPTY', index === undefined ? {} : { index }));
  });
  return { readings, rejections };
}

/** Interprets an event message of a device of class `cls`. */
export function interpretEvent(cls: DeviceClass, payload: Buffer | string, receivedAt: number, policy: TimePolicy = DEFAULT_TIME_POLICY): InterpretedEvent {
  const parsed = parseJson(payload);
  if ('rejection' in parsed) return { rejections: [parsed.rejection] };
  const envelope = EventPayload.safeParse(parsed.json);
  if (!envelope.success) {
    const unknownType = envelope.error.issues.some((i) => i.path[0] === 'type' && i.code === 'invalid_value');
    return { rejections: [reject(unknownType ? 'HW_ERR_UNKNOWN_EVENT' : 'HW_ERR_SCHEMA', {}, schemaDetail(envelope.error))] };
  }
  const { ts, type, active, message, data } = envelope.data;
  if (!(DEVICE_CLASSES[cls].events as readonly EventType[]).includes(type)) {
    return { rejections: [reject('HW_ERR_UNKNOWN_EVENT', {}, `${type} for ${cls}`)] };
  }
  const time = resolveTimestamp(ts, receivedAt, policy);
  if ('rejection' in time) return { rejections: [time.rejection] };
  const rejections = time.warning ? [time.warning] : [];
  const isActive = MOMENTARY_EVENTS.includes(type) ? true : active ?? true;
  return { event: { ts: time.ts, tsSource: time.tsSource, type, active: isActive, message, data }, rejections };
}

/** Builds the message sent to a device's error topic. */
export function errorMessage(rejection: Rejection, topic: string, receivedAt: number): ErrorPayload {
  return { code: rejection.code, message: rejection.message, topic, receivedAt, ...(rejection.metric ? { metric: rejection.metric } : {}), ...(rejection.index !== undefined ? { index: rejection.index } : {}) };
}
