// The topic scheme: hw/v1/<enterprise>/<device>/<channel>.
// The enterprise and the device stand in the topic itself so that the broker can decide access from
// the topic alone, without reading a payload. The version segment lets a v2 contract run beside v1.

export const TOPIC_ROOT = 'hw';
export const CONTRACT_VERSION = 'v1';
export const TOPIC_PREFIX = `${TOPIC_ROOT}/${CONTRACT_VERSION}`;

/** Where platform processes report their own state, retained: hw/platform/<service>/<instance>. */
export const PLATFORM_TOPIC_PREFIX = `${TOPIC_ROOT}/platform`;
/**
 * Where published warnings go to field displays, PA/broadcast controllers and other followers
 * (dispatch channels of type mqtt): hw/warnings/<channel>. Warnings are public by nature: every device
 * and gateway may read them; only platform services write.
 */
export const WARNING_TOPIC_PREFIX = `${TOPIC_ROOT}/warnings`;
/** The reserved enterprise under which alarms about the platform itself are kept; no real enterprise may take it. */
export const PLATFORM_ENTERPRISE = 'platform';

/**
 * Channels, and who publishes on each:
 * - telemetry: device → platform, readings.
 * - event: device → platform, device events (alarm, fault, low battery, tamper, heartbeat).
 * - status: device → platform, retained `online`/`offline` of its connection; `offline` is the device's MQTT
 *   last will (or the broker's word for a device without one). An input to presence, not presence itself.
 * - presence: platform → consoles and other systems, retained: online/offline as contract/presence.ts
 *   judges it (a DISCONNECT of an intermittent device is not offline).
 * - error: platform → device, why a message of the device was rejected.
 * - command: platform → device, a command of the catalog (contract/commands.ts), QoS 1, never retained.
 * - reply: device → platform, the device's answer to a command (accepted, done, failed, rejected).
 * - alarm: platform → consoles and other systems, every state change of an alarm about this device.
 */
export const CHANNELS = ['telemetry', 'event', 'status', 'error', 'command', 'alarm', 'presence', 'reply'] as const;
export type Channel = (typeof CHANNELS)[number];

/** Channels a device (or its gateway) publishes on. */
export const DEVICE_PUBLISH_CHANNELS: readonly Channel[] = ['telemetry', 'event', 'status', 'reply'];
/** Channels a device (or its gateway) may subscribe to. */
export const DEVICE_SUBSCRIBE_CHANNELS: readonly Channel[] = ['error', 'command'];

/** Enterprise and device identifiers: safe in topics, URLs, file names and InfluxDB tags. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

export function isValidId(id: string): boolean {
  return ID_PATTERN.test(id);
}

export interface DeviceTopic {
  enterprise: string;
  device: string;
  channel: Channel;
}

export function topicFor(enterprise: string, device: string, channel: Channel): string {
  return `${TOPIC_PREFIX}/${enterprise}/${device}/${channel}`;
}

/** Parses a concrete topic; returns undefined for anything that is not exactly a v1 device topic. */
export function parseTopic(topic: string): DeviceTopic | undefined {
  const parts = topic.split('/');
  if (parts.length !== 5 || parts[0] !== TOPIC_ROOT || parts[1] !== CONTRACT_VERSION) return undefined;
  const [, , enterprise, device, channel] = parts;
  if (!isValidId(enterprise) || !isValidId(device)) return undefined;
  if (!(CHANNELS as readonly string[]).includes(channel)) return undefined;
  return { enterprise, device, channel: channel as Channel };
}

/**
 * parseTopic remembering its answers, for a process that parses the same few thousand device topics
 * over and over (ingest, rules: once to know the sender, once to handle the message). The answers are
 * a function of the topic alone and are shared, frozen; beyond `max` topics it starts afresh, so a
 * stream of ever-new topics costs memory no more than that. The last answer is kept aside: the second
 * parse of a message's topic compares two strings instead of hashing one and probing the map, whose
 * buckets, entries and keys are seldom in the CPU's caches any more (a probe of a cold map costs a few
 * microseconds on the benchmark machine: `npm run bench:machine`).
 */
export function topicParser(max = 20_000): (topic: string) => Readonly<DeviceTopic> | undefined {
  let known = new Map<string, Readonly<DeviceTopic> | null>();
  let lastTopic: string | undefined;
  let lastAnswer: Readonly<DeviceTopic> | undefined;
  return (topic) => {
    if (topic === lastTopic) return lastAnswer;
    lastTopic = topic;
    lastAnswer = answer(topic);
    return lastAnswer;
  };
  function answer(topic: string): Readonly<DeviceTopic> | undefined {
    const hit = known.get(topic);
    if (hit !== undefined) return hit ?? undefined;
    const parsed = parseTopic(topic);
    if (known.size >= max) known = new Map();
    known.set(topic, parsed ? Object.freeze(parsed) : null);
    return parsed;
  }
}

/** Subscription filter for one channel of every device, optionally of one enterprise. */
export function channelFilter(channel: Channel, enterprise = '+'): string {
  return `${TOPIC_PREFIX}/${enterprise}/+/${channel}`;
}

/** Splits an MQTT subscription filter into its levels for access checks; `$share/<group>/` is removed. */
export function filterLevels(filter: string): string[] {
  const levels = filter.split('/');
  if (levels[0] === '$share' && levels.length > 2) return levels.slice(2);
  return levels;
}
