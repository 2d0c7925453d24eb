// The built-in access rules: the hw/v1 contract (docs/protocol.md, "Access") as data, in the same
// form as a `broker.aclFile`. `hazwatch broker --print-acl` prints them as a file to start from.
import { DEVICE_PUBLISH_CHANNELS, DEVICE_SUBSCRIBE_CHANNELS, PLATFORM_TOPIC_PREFIX, TOPIC_PREFIX, WARNING_TOPIC_PREFIX } from '../contract/topics.ts';
import type { AccessRule } from './access.ts';

/** Channels platform services publish on (towards devices, consoles and other systems). */
export const SERVICE_PUBLISH_CHANNELS = ['error', 'command', 'alarm', 'presence'] as const;

export const DEFAULT_ACCESS: readonly AccessRule[] = [
  // A device: its own topics only.
  ...DEVICE_PUBLISH_CHANNELS.map((c): AccessRule => ({ kind: 'device', access: 'write', topic: `${TOPIC_PREFIX}/%e/%d/${c}` })),
  ...DEVICE_SUBSCRIBE_CHANNELS.map((c): AccessRule => ({ kind: 'device', access: 'read', topic: `${TOPIC_PREFIX}/%e/%d/${c}` })),
  // A gateway: for every device of its own enterprise.
  ...DEVICE_PUBLISH_CHANNELS.map((c): AccessRule => ({ kind: 'gateway', access: 'write', topic: `${TOPIC_PREFIX}/%e/+/${c}` })),
  ...DEVICE_SUBSCRIBE_CHANNELS.map((c): AccessRule => ({ kind: 'gateway', access: 'read', topic: `${TOPIC_PREFIX}/%e/+/${c}` })),
  // A gateway as a Sparkplug B edge node (docs/protocol.md, "Sparkplug B"): group = its enterprise, edge
  // node id = its gateway id; it hears its own commands and the host application's state.
  { kind: 'gateway', access: 'write', topic: 'spBv1.0/%e/+/%g' },
  { kind: 'gateway', access: 'write', topic: 'spBv1.0/%e/+/%g/+' },
  { kind: 'gateway', access: 'read', topic: 'spBv1.0/%e/NCMD/%g' },
  { kind: 'gateway', access: 'read', topic: 'spBv1.0/%e/DCMD/%g/+' },
  { kind: 'gateway', access: 'read', topic: 'STATE/+' },
  // The Sparkplug host application (`hazwatch sparkplug`) speaks for the devices of the edge nodes on
  // their hw/v1 topics, asks nodes for rebirths, and keeps its own state.
  ...(['telemetry', 'status'] as const).map((c): AccessRule => ({ username: 'svc:sparkplug', access: 'write', topic: `${TOPIC_PREFIX}/+/+/${c}` })),
  { username: 'svc:sparkplug', access: 'write', topic: 'spBv1.0/+/NCMD/+' },
  { username: 'svc:sparkplug', access: 'write', topic: 'STATE/+' },
  // The vendor-map translator (`hazwatch vendor`) speaks for mapped devices on their telemetry topics.
  { username: 'svc:vendor', access: 'write', topic: `${TOPIC_PREFIX}/+/+/telemetry` },
  // Platform services (ingest, rules, api): read everything, the broker's $SYS statistics included;
  // write towards devices and consoles, and their own state on hw/platform/<service>/<instance>.
  ...SERVICE_PUBLISH_CHANNELS.map((c): AccessRule => ({ kind: 'service', access: 'write', topic: `${TOPIC_PREFIX}/+/+/${c}` })),
  { kind: 'service', access: 'write', topic: `${PLATFORM_TOPIC_PREFIX}/+/#` },
  { kind: 'service', access: 'read', topic: '#' },
  { kind: 'service', access: 'read', topic: '$SYS/#' },
  // Published warnings (core/dispatch mqtt channels): services write, field displays and PA controllers read.
  { kind: 'service', access: 'write', topic: `${WARNING_TOPIC_PREFIX}/#` },
  { kind: 'device', access: 'read', topic: `${WARNING_TOPIC_PREFIX}/#` },
  { kind: 'gateway', access: 'read', topic: `${WARNING_TOPIC_PREFIX}/#` },
  // Clients without user name, only with broker.allowAnonymous: what a plain MQTT broker grants
  // (Mosquitto's allow_anonymous without an acl_file), `$` topics being the server's own [MQTT-4.7.2-1].
  { kind: 'anonymous', access: 'readwrite', topic: '#' },
  { kind: 'anonymous', access: 'read', topic: '$SYS/#' },
];
