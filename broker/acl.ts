// Access decisions from the topic alone (contract/topics.ts): no payload is read, no database is asked.
// An identity is what authentication established for a connection; every rule below is a pure function.
import { DEVICE_PUBLISH_CHANNELS, DEVICE_SUBSCRIBE_CHANNELS, PLATFORM_TOPIC_PREFIX, TOPIC_PREFIX, isValidId, parseTopic, type Channel } from '../contract/topics.ts';
import { parseSharedFilter } from './shared.ts';

export type Identity =
  | { kind: 'device'; username: string; enterprise: string; device: string }
  | { kind: 'gateway'; username: string; enterprise: string; gateway: string }
  | { kind: 'service'; username: string }
  /** Only with broker.allowAnonymous: a plain MQTT broker's rights, any topic (trials, like Mosquitto's allow_anonymous). */
  | { kind: 'anonymous'; username: undefined };

/** Channels platform services publish on (towards devices, consoles and other systems). */
export const SERVICE_PUBLISH_CHANNELS: readonly Channel[] = ['error', 'command', 'alarm', 'presence'];

/** May this identity publish on this concrete topic? */
export function mayPublish(who: Identity, topic: string): boolean {
  // aedes has already refused wildcards [MQTT-3.3.2-2]; `$` topics are the server's own [MQTT-4.7.2-1].
  if (who.kind === 'anonymous') return !topic.startsWith('$');
  // Platform services report their own state (ingest's spool, HW_ERR_SPOOL_FULL) on hw/platform/<service>/...
  if (who.kind === 'service' && topic.startsWith(`${PLATFORM_TOPIC_PREFIX}/`) && !/[+#]/.test(topic)) return true;
  const t = parseTopic(topic);
  if (!t) return false;
  switch (who.kind) {
    case 'device':
      return t.enterprise === who.enterprise && t.device === who.device && DEVICE_PUBLISH_CHANNELS.includes(t.channel);
    case 'gateway':
      return t.enterprise === who.enterprise && DEVICE_PUBLISH_CHANNELS.includes(t.channel);
    case 'service':
      return SERVICE_PUBLISH_CHANNELS.includes(t.channel);
  }
}

const PREFIX_LEVELS = TOPIC_PREFIX.split('/');

/** A shared subscription (`$share/<group>/<filter>`, MQTT 5 4.8.2; broker/shared.ts serves them). */
export function isSharedFilter(filter: string): boolean {
  return filter.startsWith('$share/');
}

/** Exactly `hw/v1/<enterprise>/<device>/<channel>` with the literal or `+` levels the caller allows. */
function deviceFilter(levels: string[]): { enterprise: string; device: string; channel: string } | undefined {
  if (levels.length !== 5 || levels[0] !== PREFIX_LEVELS[0] || levels[1] !== PREFIX_LEVELS[1]) return undefined;
  const [, , enterprise, device, channel] = levels;
  return { enterprise, device, channel };
}

/** May this identity subscribe to this filter? A shared one when it is well formed and its filter is allowed. */
export function maySubscribe(who: Identity, filter: string): boolean {
  if (isSharedFilter(filter)) {
    const shared = parseSharedFilter(filter);
    return shared !== undefined && !isSharedFilter(shared.filter) && maySubscribe(who, shared.filter);
  }
  if (who.kind === 'anonymous') return true;
  const levels = filter.split('/');
  if (who.kind === 'service') {
    // Everything under the contract's root, `#` itself, and the broker's own $SYS statistics.
    if (levels[0] === '#' || levels[0] === '+') return true;
    return levels[0] === PREFIX_LEVELS[0] || levels[0] === '$SYS';
  }
  const f = deviceFilter(levels);
  if (!f) return false;
  if (!(DEVICE_SUBSCRIBE_CHANNELS as readonly string[]).includes(f.channel)) return false;
  if (who.kind === 'device') return f.enterprise === who.enterprise && f.device === who.device;
  // A gateway: every device of its own enterprise, one by one or with `+`.
  return f.enterprise === who.enterprise && (f.device === '+' || isValidId(f.device));
}

/** The per-device topic on which the platform tells this client why something was refused. */
export function errorTopicOf(who: Identity): string | undefined {
  if (who.kind === 'device') return `${TOPIC_PREFIX}/${who.enterprise}/${who.device}/error`;
  if (who.kind === 'gateway') return `${TOPIC_PREFIX}/${who.enterprise}/${who.gateway}/error`;
  return undefined;
}

export function statusTopicOf(who: Identity): string | undefined {
  return who.kind === 'device' ? `${TOPIC_PREFIX}/${who.enterprise}/${who.device}/status` : undefined;
}
