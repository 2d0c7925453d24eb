// The Sparkplug B topic namespace (Sparkplug 3.0.0, 4.1): spBv1.0/<group_id>/<message_type>/<edge_node_id>[/<device_id>].
// In hazwatch a group is an enterprise and an edge node is one of its gateways: the broker lets the
// gateway's account publish only under its own group and node (broker/access-default.ts).

export const NAMESPACE = 'spBv1.0';
export const MESSAGE_TYPES = ['NBIRTH', 'NDEATH', 'DBIRTH', 'DDEATH', 'NDATA', 'DDATA', 'NCMD', 'DCMD'] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

export interface SparkplugTopic {
  group: string;
  type: MessageType;
  node: string;
  /** Absent for the edge node's own messages (N*). */
  device?: string;
}

/** A Sparkplug B topic, or undefined for anything else (the STATE topic included). */
export function parseSparkplugTopic(topic: string): SparkplugTopic | undefined {
  const parts = topic.split('/');
  if (parts[0] !== NAMESPACE || (parts.length !== 4 && parts.length !== 5)) return undefined;
  const [, group, type, node, device] = parts;
  if (!(MESSAGE_TYPES as readonly string[]).includes(type) || !group || !node) return undefined;
  // [tck-id-topic-structure] N* messages have no device id, D* messages have one.
  if (type.startsWith('D') !== (device !== undefined) || device === '') return undefined;
  return { group, type: type as MessageType, node, ...(device !== undefined ? { device } : {}) };
}

export function sparkplugTopic(t: SparkplugTopic): string {
  return [NAMESPACE, t.group, t.type, t.node, ...(t.device !== undefined ? [t.device] : [])].join('/');
}

/**
 * Where the primary host application says whether it is online, retained. Sparkplug 2.2 (7.1.1) puts it
 * on `STATE/<host_id>` with the text ONLINE or OFFLINE; what the installed edge nodes of Ignition 8.1,
 * Cirrus Link's modules and most PLC gateways of today wait for before they publish.
 */
export function stateTopic(hostId: string): string {
  return `STATE/${hostId}`;
}
