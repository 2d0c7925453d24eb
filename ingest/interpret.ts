// From one MQTT message to the lines stored and the reasons told to the device. Pure apart from
// the device directory and the per-device receive clock: no I/O, so every rule is unit-tested.
import {
  ERRORS,
  StatusPayload,
  interpretEvent,
  interpretTelemetry,
  parseJson,
  topicParser,
  resolveTimestamp,
  topicFor,
  type ContractLimits,
  type ErrorCode,
  type Rejection,
  type TimePolicy,
} from '../contract/index.ts';
import type { DeviceRecord } from '../registry/registry.ts';
import { line, lineOf, receiveClock, series, type FieldValue } from './points.ts';

export interface DeviceLookup {
  get(enterprise: string, id: string): DeviceRecord | undefined;
  /** Whether `enterprise/id` is a gateway account, whose status topic is its own. */
  gateway?(enterprise: string, id: string): boolean;
}

export interface Interpretation {
  /** Where answers about this message go; undefined when the topic names no device at all. */
  errorTopic?: string;
  channel?: string;
  /** Line protocol of every point to store, ms precision. */
  lines: string[];
  /** True when a point is stamped with the receive time: only those need redelivery detection. */
  receiveTime: boolean;
  /** Refusals (HW_ERR_*), whole-message or per value. */
  rejections: Rejection[];
  /** Stored with a correction (HW_WARN_*). */
  warnings: Rejection[];
  /** A retained status without its own timestamp: a re-announcement of a known state, not stored. */
  retainedReplay?: boolean;
}

export interface InterpretOptions {
  devices: DeviceLookup;
  time: TimePolicy;
  limits: ContractLimits;
  maxPayloadBytes: number;
  /**
   * Set when several ingest processes share the load (ingest.shareGroup): receive times are unique per
   * device within one process only, so points stamped at the receive time carry this `receiver` tag and
   * two processes never overwrite each other's point of the same device and millisecond.
   */
  receiver?: string;
  /** The topic parser to share with the process's other look-ups (contract topicParser). */
  parseTopic?: ReturnType<typeof topicParser>;
}

function refusal(code: ErrorCode, detail?: string): Rejection {
  return { code, message: detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message };
}

/** Shared by every interpretation without refusals or warnings; nobody adds to it. */
const NONE: Rejection[] = Object.freeze([]) as unknown as Rejection[];

function deviceTags(device: DeviceRecord): Record<string, string | null> {
  return { enterprise: device.enterprise, device: device.id, site: device.site, hazard_source: device.hazardSource };
}

export function createInterpreter(options: InterpretOptions) {
  const { devices, time, limits, maxPayloadBytes, receiver } = options;
  const parseTopic = options.parseTopic ?? topicParser();
  const clock = receiveClock();
  const received = (tags: Record<string, string | null>) => (receiver ? { ...tags, receiver } : tags);

  /**
   * What is written per device record, made once: the directory hands out the same record object until
   * the registry changes it, so a changed site or hazard source gives new series. The hot path (a
   * telemetry message of a known device) then builds no tag object, key or topic string of its own.
   */
  interface DeviceStrings {
    /** The series of the device's readings, and the same with the `receiver` tag. */
    series: string;
    receivedSeries: string;
    errorTopic: string;
    /** The device's key in the receive clock. */
    key: string;
  }
  const deviceStrings = new WeakMap<DeviceRecord, DeviceStrings>();
  function stringsOf(device: DeviceRecord): DeviceStrings {
    let s = deviceStrings.get(device);
    if (!s) {
      const tags = deviceTags(device);
      s = {
        series: series(device.class, tags),
        receivedSeries: series(device.class, received(tags)),
        errorTopic: topicFor(device.enterprise, device.id, 'error'),
        key: `${device.enterprise}/${device.id}`,
      };
      deviceStrings.set(device, s);
    }
    return s;
  }

  function result(errorTopic: string, channel: string, lines: string[], receiveTime: boolean, all: Rejection[]): Interpretation {
    if (all.length === 0) return { errorTopic, channel, lines, receiveTime, rejections: NONE, warnings: NONE };
    const rejections: Rejection[] = [];
    const warnings: Rejection[] = [];
    for (const r of all) (ERRORS[r.code].scope === 'warning' ? warnings : rejections).push(r);
    return { errorTopic, channel, lines, receiveTime, rejections, warnings };
  }

  return function interpret(topic: string, payload: Buffer, receivedAt: number, retained = false): Interpretation {
    const parsed = parseTopic(topic);
    // A device's answer to a command (docs/protocol.md §12) is the API's to record, not a reading:
    // nothing to store and nothing to refuse, should a subscription ever bring one here.
    if (parsed?.channel === 'reply') return { channel: 'reply', lines: [], receiveTime: false, rejections: [], warnings: [] };
    if (!parsed || !['telemetry', 'event', 'status'].includes(parsed.channel)) {
      const levels = topic.split('/');
      // Answer on the error topic of whatever the topic names when it has the v1 shape, so a
      // device with a badly spelled id still hears why nothing of it is stored.
      const named = levels.length === 5 && levels[0] === 'hw' && levels[1] === 'v1' && levels[2] && levels[3] && !/[+#]/.test(levels[2] + levels[3]);
      return {
        errorTopic: named ? topicFor(levels[2], levels[3], 'error') : undefined,
        lines: [],
        receiveTime: false,
        rejections: [refusal('HW_ERR_TOPIC', topic)],
        warnings: [],
      };
    }
    const { enterprise, device: id, channel } = parsed;
    if (payload.length > maxPayloadBytes) {
      return result(topicFor(enterprise, id, 'error'), channel, [], false, [refusal('HW_ERR_PAYLOAD_TOO_LARGE', `${payload.length} > ${maxPayloadBytes} bytes`)]);
    }
    const device = devices.get(enterprise, id);
    if (!device) {
      const errorTopic = topicFor(enterprise, id, 'error');
      if (channel === 'status' && devices.gateway?.(enterprise, id)) {
        return { errorTopic, channel, ...status(payload, `${enterprise}/${id}|status`, 'gateway_status', { enterprise, gateway: id }, receivedAt, retained) };
      }
      return result(errorTopic, channel, [], false, [refusal('HW_ERR_UNKNOWN_DEVICE', `${enterprise}/${id}`)]);
    }
    const strings = stringsOf(device);
    const { errorTopic, key } = strings;

    if (channel === 'telemetry') {
      const interpreted = interpretTelemetry(device.class, payload, receivedAt, time, limits);
      let receiveTime = false;
      const lines: string[] = [];
      for (const reading of interpreted.readings) {
        if (reading.tsSource === 'receive') {
          receiveTime = true;
          reading.values.receive_time = true;
          lines.push(lineOf(strings.receivedSeries, reading.values, clock(key, reading.ts)));
        } else {
          lines.push(lineOf(strings.series, reading.values, reading.ts));
        }
      }
      return result(errorTopic, channel, lines, receiveTime, interpreted.rejections);
    }

    const tags = deviceTags(device);
    if (channel === 'event') {
      const interpreted = interpretEvent(device.class, payload, receivedAt, time);
      const lines: string[] = [];
      let receiveTime = false;
      if (interpreted.event) {
        const e = interpreted.event;
        const fields: Record<string, FieldValue> = { active: e.active };
        if (e.message) fields.message = e.message;
        let ts = e.ts;
        let eventTags: Record<string, string | null> = { ...tags, hazard_source: null, class: device.class, type: e.type };
        if (e.tsSource === 'receive') {
          receiveTime = true;
          fields.receive_time = true;
          ts = clock(`${key}|event`, ts);
          eventTags = received(eventTags);
        }
        lines.push(line('device_event', eventTags, fields, ts));
      }
      return result(errorTopic, channel, lines, receiveTime, interpreted.rejections);
    }

    return { errorTopic, channel, ...status(payload, `${key}|status`, 'device_status', { ...tags, hazard_source: null, class: device.class }, receivedAt, retained) };
  };

  /** Online/offline of a device, or of a gateway itself: the contract has the schema, this is all. */
  function status(
    payload: Buffer,
    clockKey: string,
    measurement: string,
    tags: Record<string, string | null>,
    receivedAt: number,
    retained: boolean,
  ): Omit<Interpretation, 'errorTopic' | 'channel'> {
    const refused = (rejection: Rejection) => ({ lines: [], receiveTime: false, rejections: [rejection], warnings: [] });
    const parsedJson = parseJson(payload);
    if ('rejection' in parsedJson) return refused(parsedJson.rejection);
    const parsed = StatusPayload.safeParse(parsedJson.json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return refused(refusal('HW_ERR_SCHEMA', issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : undefined));
    }
    if (retained && parsed.data.ts === undefined) return { lines: [], receiveTime: false, rejections: [], warnings: [], retainedReplay: true };
    const t = resolveTimestamp(parsed.data.ts, receivedAt, time);
    if ('rejection' in t) return refused(t.rejection);
    const fields: Record<string, FieldValue> = { online: parsed.data.state === 'online' };
    let ts = t.ts;
    if (t.tsSource === 'receive') {
      fields.receive_time = true;
      ts = clock(clockKey, ts);
      tags = received(tags);
    }
    return { lines: [line(measurement, tags, fields, ts)], receiveTime: t.tsSource === 'receive', rejections: [], warnings: t.warning ? [t.warning] : [] };
  }
}
