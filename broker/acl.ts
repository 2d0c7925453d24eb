// Who a connection is, and what it may do: the access rules (broker/access.ts, built-in set in
// broker/access-default.ts, more in `broker.aclFile`) compiled for its account at CONNECT. Decisions come
// from the topic alone: no payload is read, no database is asked.
import { CHANNELS, TOPIC_PREFIX, isValidId, parseTopic } from '../contract/topics.ts';
import { compileAccess, type AccessRule } from './access.ts';
import { parseSharedFilter } from './shared.ts';

export type Identity =
  | { kind: 'device'; username: string; enterprise: string; device: string }
  | { kind: 'gateway'; username: string; enterprise: string; gateway: string }
  | { kind: 'service'; username: string }
  /** Only with broker.allowAnonymous: a plain MQTT broker's rights by default (Mosquitto's allow_anonymous). */
  | { kind: 'anonymous'; username: undefined };

export interface ClientAccess {
  /** May this client publish on this concrete topic (aedes has refused wildcards [MQTT-3.3.2-2])? */
  mayPublish(topic: string): boolean;
  /** May it subscribe to this filter? A shared one when it is well formed and its filter is allowed. */
  maySubscribe(filter: string): boolean;
  /** Must the messages of this granted filter be checked one by one with mayRead (a deny rule overlaps it)? */
  needsDeliveryCheck(filter: string): boolean;
  mayRead(topic: string): boolean;
}

/** A shared subscription (`$share/<group>/<filter>`, MQTT 5 4.8.2; broker/shared.ts serves them). */
export function isSharedFilter(filter: string): boolean {
  return filter.startsWith('$share/');
}

/** Allowed topics remembered per connection: a gateway publishes for every device of its enterprise (thousands). */
const ALLOWED_TOPICS_REMEMBERED = { gateway: 8192, other: 256 } as const;

/** The rules of `rules` for this account and client id. */
export function accessOf(rules: readonly AccessRule[], who: Identity, clientId: string): ClientAccess {
  const access = compileAccess(rules, who, clientId);
  // Devices publish on the same few topics again and again, a gateway on those of its devices: allowed
  // topics are remembered (a bounded set, started afresh when full) so that most PUBLISHes cost a lookup.
  let allowed: Set<string> | undefined;
  const remembered = who.kind === 'gateway' ? ALLOWED_TOPICS_REMEMBERED.gateway : ALLOWED_TOPICS_REMEMBERED.other;
  const self: ClientAccess = {
    mayPublish(topic) {
      if (allowed?.has(topic)) return true;
      // [MQTT-3.3.2-2] no wildcards in a topic name (aedes refuses such a PUBLISH before this check too).
      if (topic.includes('+') || topic.includes('#')) return false;
      // The hw/v1 namespace is the contract's whoever publishes: a topic there that does not parse
      // would reach ingest and rules only to be refused by them, unanswered.
      if ((topic === TOPIC_PREFIX || topic.startsWith(`${TOPIC_PREFIX}/`)) && !parseTopic(topic)) return false;
      if (!access.mayPublish(topic)) return false;
      if (!allowed || allowed.size >= remembered) allowed = new Set();
      allowed.add(topic);
      return true;
    },
    maySubscribe(filter) {
      if (isSharedFilter(filter)) {
        const shared = parseSharedFilter(filter);
        return shared !== undefined && !isSharedFilter(shared.filter) && self.maySubscribe(shared.filter);
      }
      if (!contractShaped(filter)) return false;
      return access.maySubscribe(filter);
    },
    needsDeliveryCheck(filter) {
      return access.needsDeliveryCheck(parseSharedFilter(filter)?.filter ?? filter);
    },
    mayRead: access.mayRead,
  };
  return self;
}

const CONTRACT_LEVELS = TOPIC_PREFIX.split('/').length;

/**
 * A filter under hw/v1/ names contract topics only: `<enterprise>/<device>/<channel>` with valid ids and
 * a known channel where a level is literal (a filter that could match nothing is refused, not granted).
 */
function contractShaped(filter: string): boolean {
  if (filter !== TOPIC_PREFIX && !filter.startsWith(`${TOPIC_PREFIX}/`)) return true;
  const levels = filter.split('/');
  for (let i = CONTRACT_LEVELS; i < levels.length; i++) {
    const l = levels[i];
    if (l === '#') return true;
    if (l === '+') continue;
    const ok = i === CONTRACT_LEVELS + 2 ? (CHANNELS as readonly string[]).includes(l) : i < CONTRACT_LEVELS + 2 && isValidId(l);
    if (!ok) return false;
  }
  return levels.length === CONTRACT_LEVELS + 3;
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
