// Shared subscriptions, `$share/<group>/<filter>` (MQTT 5.0 4.8.2, offered over 3.1.1 as Mosquitto and
// EMQX do). aedes has none: it would take the filter literally and deliver nothing. Here a group is one
// subscription on <filter> whose messages go to one member each, chosen by the message's topic so that
// one device's messages keep their order while the group stays the same; a QoS 1 message that a member
// did not acknowledge before it went away goes to another member (a clean session's) or stays in its
// session for its return (a persistent one's); with every member away, persistent members' sessions
// queue the messages, so a group of persistent sessions loses nothing while all of them are down.
import type { Aedes, Client } from 'aedes';

type Deliver = (packet: SharedPacket, cb: () => void) => void;

interface SharedPacket {
  topic: string;
  qos: number;
  brokerId?: string;
  brokerCounter?: number;
}

interface Member {
  deliver: Deliver;
  clientId: string | undefined;
  /** Its client has a persistent session (CleanSession 0). */
  persistent: boolean;
  /** QoS 1 messages delivered and not yet acknowledged, by `brokerId:brokerCounter`. */
  unacked: Map<string, SharedPacket>;
}

interface Group {
  filter: string;
  members: Member[];
  /** Persistent sessions of members that are away: when no member is connected, their queues take the messages. */
  away: string[];
  handler: Deliver;
}

export interface SharedFilter {
  group: string;
  filter: string;
}

/** `$share/<group>/<filter>` split, or undefined when the filter is not a shared one or is malformed. */
export function parseSharedFilter(topic: string): SharedFilter | undefined {
  if (!topic.startsWith('$share/')) return undefined;
  const rest = topic.slice('$share/'.length);
  const slash = rest.indexOf('/');
  // [MQTT-4.8.2-1] [MQTT-4.8.2-2] the share name is non-empty, without '/', '+' or '#', and a filter follows.
  if (slash <= 0) return undefined;
  const group = rest.slice(0, slash);
  const filter = rest.slice(slash + 1);
  if (/[+#]/.test(group) || filter === '') return undefined;
  return { group, filter };
}

/** FNV-1a of the topic: the same device topic goes to the same member. */
function hashTopic(topic: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < topic.length; i++) h = Math.imul(h ^ topic.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const key = (p: SharedPacket) => `${p.brokerId}:${p.brokerCounter}`;

export interface SharedSubscriptions {
  /** Members per shared filter, for stats and tests. */
  groups(): { topic: string; members: number; away: number; unacked: number }[];
  /** To be called from authorizeSubscribe when a shared filter is granted: names the member to come. */
  authorized(client: Client, topic: string): void;
  /** To be called from authorizeForward for every delivery: the order of a member's QoS 1 deliveries. */
  forwarded(client: Client, packet: SharedPacket): void;
}

/**
 * Makes `aedes.subscribe`/`unsubscribe` understand `$share/...` topics. aedes calls them once per client
 * subscription with the client's own delivery function, so every path (SUBSCRIBE, a persistent
 * session restored, UNSUBSCRIBE, a connection closing) passes here.
 */
export function installSharedSubscriptions(aedes: Aedes, onChange: () => void = () => undefined): SharedSubscriptions {
  const groups = new Map<string, Group>();
  const subscribe = aedes.subscribe.bind(aedes);
  const unsubscribe = aedes.unsubscribe.bind(aedes);
  // A clean session's PUBACK names no stored packet, but a client acknowledges QoS 1 messages in the
  // order it received them [MQTT-4.6.0-2]: per member client, the keys of its QoS 1 deliveries in order.
  const inOrder = new Map<string, string[]>();
  // Each client's memberships, so that a PUBACK does not walk every group.
  const membersOf = new Map<string, Set<Member>>();
  const persistence = () => (aedes as unknown as { persistence: { outgoingEnqueueCombi(subs: { clientId: string; topic: string; qos: number }[], packet: SharedPacket): Promise<void> } }).persistence;
  // Clients granted a shared filter and not yet joined: aedes' subscribe call names only a function.
  const granted = new Map<string, Set<Client>>();
  const clients = () => (aedes as unknown as { clients: Record<string, Client & { subscriptions: Record<string, { func: unknown }> }> }).clients;

  function pick(group: Group, topic: string): Member | undefined {
    const { members } = group;
    return members.length ? members[hashTopic(topic) % members.length] : undefined;
  }

  function deliverTo(member: Member, packet: SharedPacket, cb: () => void): void {
    if (packet.qos > 0 && packet.brokerCounter !== undefined) member.unacked.set(key(packet), packet);
    if (!member.persistent || packet.qos === 0 || member.clientId === undefined) return member.deliver(packet, cb);
    // aedes queues a message in a persistent session before delivering it, and only for the sessions its
    // own subscription lookup finds, which knows no shared filter: queued here instead.
    persistence()
      .outgoingEnqueueCombi([{ clientId: member.clientId, topic: packet.topic, qos: packet.qos }], packet)
      .then(() => member.deliver(packet, cb), (err: Error) => (aedes.emit('error' as never, err as never), cb()));
  }

  function createGroup(filter: string): Group {
    const group: Group = {
      filter,
      members: [],
      away: [],
      handler(packet, cb) {
        // [MQTT-4.7.2-1] a filter starting with a wildcard does not match topics starting with '$'.
        if ((filter[0] === '+' || filter[0] === '#') && packet.topic[0] === '$') return cb();
        const member = pick(group, packet.topic);
        if (member) return deliverTo(member, packet, cb);
        if (!group.away.length || packet.qos === 0) return cb();
        const clientId = group.away[hashTopic(packet.topic) % group.away.length];
        persistence()
          .outgoingEnqueueCombi([{ clientId, topic: packet.topic, qos: packet.qos }], packet)
          .then(() => cb(), (err: Error) => (aedes.emit('error' as never, err as never), cb()));
      },
    };
    return group;
  }

  aedes.subscribe = ((topic: string, func: Deliver, done: () => void) => {
    const shared = parseSharedFilter(topic);
    if (!shared) return subscribe(topic, func as never, done);
    // aedes has just set client.subscriptions[topic] to this function: that names the member's client.
    const candidates = granted.get(topic);
    const owns = (c: Client) => (c as unknown as { subscriptions: Record<string, { func: unknown }> }).subscriptions?.[topic]?.func === func;
    const client = [...(candidates ?? [])].find(owns) ?? Object.values(clients()).find(owns);
    if (client && candidates) {
      candidates.delete(client);
      if (!candidates.size) granted.delete(topic);
    }
    const clientId = client?.id;
    const member: Member = { deliver: func, clientId, persistent: client?.clean === false, unacked: new Map() };
    if (clientId !== undefined) {
      if (!inOrder.has(clientId)) inOrder.set(clientId, []);
      const own = membersOf.get(clientId) ?? new Set<Member>();
      own.add(member);
      membersOf.set(clientId, own);
    }
    const group = groups.get(topic);
    if (group && clientId !== undefined) group.away = group.away.filter((id) => id !== clientId);
    if (group) {
      group.members.push(member);
      onChange();
      return done();
    }
    const created = createGroup(shared.filter);
    created.members.push(member);
    groups.set(topic, created);
    onChange();
    subscribe(shared.filter, created.handler as never, done);
  }) as typeof aedes.subscribe;

  aedes.unsubscribe = ((topic: string, func: Deliver, done?: () => void) => {
    const group = parseSharedFilter(topic) ? groups.get(topic) : undefined;
    if (!group) return unsubscribe(topic, func as never, (done ?? (() => undefined)) as never);
    const index = group.members.findIndex((m) => m.deliver === func);
    const [gone] = index >= 0 ? group.members.splice(index, 1) : [];
    if (gone?.clientId !== undefined) {
      const own = membersOf.get(gone.clientId);
      own?.delete(gone);
      if (own && !own.size) membersOf.delete(gone.clientId);
    }
    const client = gone?.clientId !== undefined ? clients()[gone.clientId] : undefined;
    // A persistent session closing (not unsubscribing) keeps its membership and what it has not
    // acknowledged: aedes sends that again when it returns [MQTT-4.4.0-1].
    const keeps = gone?.persistent === true && (client === undefined || client.closed === true);
    if (gone && keeps) {
      if (!group.away.includes(gone.clientId!)) group.away.push(gone.clientId!);
    } else if (gone) {
      // What a clean member leaving had not acknowledged goes to the others.
      for (const packet of gone.unacked.values()) {
        const next = pick(group, packet.topic);
        if (next) deliverTo(next, packet, () => undefined);
      }
    }
    if (gone?.clientId !== undefined && !membersOf.has(gone.clientId)) inOrder.delete(gone.clientId);
    if (gone) onChange();
    if (group.members.length || group.away.length) return done?.();
    groups.delete(topic);
    unsubscribe(group.filter, group.handler as never, (done ?? (() => undefined)) as never);
  }) as typeof aedes.unsubscribe;

  // A persistent session given up (the client came back with a clean session) no longer waits for messages.
  aedes.on('client', (client: Client) => {
    if (!client.clean) return;
    for (const [topic, group] of groups) {
      if (!group.away.includes(client.id)) continue;
      group.away = group.away.filter((id) => id !== client.id);
      onChange();
      if (!group.members.length && !group.away.length) {
        groups.delete(topic);
        unsubscribe(group.filter, group.handler as never, (() => undefined) as never);
      }
    }
  });

  aedes.on('clientDisconnect', (client: Client) => {
    for (const [topic, set] of granted) if (set.delete(client) && !set.size) granted.delete(topic);
  });

  function acknowledged(clientId: string, k: string): void {
    for (const m of membersOf.get(clientId) ?? []) m.unacked.delete(k);
  }

  (aedes as unknown as NodeJS.EventEmitter).on('ack', (packet: SharedPacket | undefined, client: Client) => {
    const order = client && inOrder.get(client.id);
    if (!order) return;
    if (packet?.brokerCounter !== undefined) {
      // A persistent session's PUBACK names its stored packet.
      const k = key(packet);
      const at = order.indexOf(k);
      if (at >= 0) order.splice(at, 1);
      return acknowledged(client.id, k);
    }
    const k = order.shift();
    if (k !== undefined) acknowledged(client.id, k);
  });

  return {
    authorized(client, topic) {
      const set = granted.get(topic) ?? new Set<Client>();
      set.add(client);
      granted.set(topic, set);
    },
    forwarded(client, packet) {
      if (packet.qos === 0 || packet.brokerCounter === undefined) return;
      const order = inOrder.get(client.id);
      if (!order) return;
      // An overlapping subscription of QoS 0 downgrades the delivery: no PUBACK will come for it.
      const sub = (client as unknown as { subscriptions: Record<string, { qos: number }> }).subscriptions[packet.topic];
      if (sub && sub.qos === 0) return;
      order.push(key(packet));
    },
    groups: () => [...groups.entries()].map(([topic, g]) => ({ topic, members: g.members.length, away: g.away.length, unacked: g.members.reduce((n, m) => n + m.unacked.size, 0) })),
  };
}
