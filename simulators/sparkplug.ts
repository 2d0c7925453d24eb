// A Sparkplug B edge node with devices, for the tests and for trying the Sparkplug way in: the same
// device models as the native simulators (simulators/models), their catalog values published under the
// vendor's metric names, as Ignition's or a PLC gateway's edge node does: NBIRTH (bdSeq, Node
// Control/Rebirth) and a DBIRTH per device with names, aliases and types, then DDATA by alias only; an
// NDEATH will; a rebirth when the host asks for one. Faults for the tests: a skipped seq, a DDEATH, a
// lost connection.
import mqtt, { type MqttClient } from 'mqtt';
import sparkplugPayload from 'sparkplug-payload';
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import { metricSpec, type DeviceClass } from '../contract/catalog.ts';
import { createModel, type DeviceModel } from './models/index.ts';
import { deviceSeed } from './random.ts';

const codec = sparkplugPayload.get('spBv1.0')!;
const REBIRTH = 'Node Control/Rebirth';

export interface EdgeDevice {
  /** Sparkplug device id. */
  id: string;
  class: DeviceClass;
  /** Catalog metric → the vendor's metric name it is published under (and the vendor's unit: catalog = vendor × scale + offset). */
  metrics: Record<string, string | { name: string; scale: number; offset: number }>;
  meta?: Record<string, unknown>;
}

/** The devices of one edge node as a Sparkplug map file describes them (sparkplug/mapping.ts). */
export function edgeDevicesFromMap(map: { devices: Record<string, { class: DeviceClass; metrics: Record<string, string | { metric: string; scale?: number; offset?: number }> }> }): EdgeDevice[] {
  return Object.entries(map.devices).map(([id, d]) => ({
    id,
    class: d.class,
    metrics: Object.fromEntries(
      Object.entries(d.metrics).map(([name, t]) => (typeof t === 'string' ? [t, name] : [t.metric, { name, scale: t.scale ?? 1, offset: t.offset ?? 0 }])),
    ),
  }));
}

const nameOf = (m: EdgeDevice['metrics'][string]) => (typeof m === 'string' ? m : m.name);
/** A catalog value in the vendor's unit. */
const vendorValue = (m: EdgeDevice['metrics'][string], v: number | boolean) => (typeof m === 'string' || typeof v === 'boolean' ? v : (v - m.offset) / m.scale);

export interface EdgeNodeOptions {
  url: string;
  /** The gateway account the node publishes with (group = its enterprise, node id = its gateway id). */
  username: string;
  password: string;
  group: string;
  node: string;
  devices: EdgeDevice[];
  seed?: number;
  /** Clock of the readings (epoch ms). */
  now?: () => number;
}

export interface EdgeNode {
  readonly bdSeq: number;
  /** NCMD and DCMD the node received, decoded. */
  readonly commands: { topic: string; metrics: UMetric[] }[];
  /** Births it published (the first one included). */
  readonly births: number;
  /** DDATA of every device from its model (or of one device, with catalog `values` forced over the model's). */
  data(device?: string, values?: Record<string, number | boolean>): Promise<void>;
  deviceDeath(device: string): Promise<void>;
  /** The next message jumps `n` sequence numbers, as when one was lost. */
  skipSeq(n?: number): void;
  model(device: string): DeviceModel;
  /** Drops the connection without DISCONNECT: the broker publishes the NDEATH will. */
  kill(): void;
  /** NDEATH, then DISCONNECT. */
  close(): Promise<void>;
}

function sparkplugType(cls: DeviceClass, metric: string): UMetric['type'] {
  return metricSpec(cls, metric)?.type === 'boolean' ? 'Boolean' : 'Double';
}

export async function startEdgeNode(opts: EdgeNodeOptions): Promise<EdgeNode> {
  const now = opts.now ?? Date.now;
  const bdSeq = Math.floor(Math.random() * 256);
  let seq = 0;
  let births = 0;
  const commands: { topic: string; metrics: UMetric[] }[] = [];
  const base = `spBv1.0/${opts.group}`;
  const models = new Map(opts.devices.map((d) => [d.id, createModel(d.class, { seed: deviceSeed(opts.seed ?? 1, opts.group, d.id), enterprise: opts.group, device: d.id, meta: d.meta })]));
  // Aliases across the node, unique (Sparkplug 3.0 6.4.6): 1.. in the order of the devices and metrics.
  const aliases = new Map<string, number>();
  for (const d of opts.devices) for (const m of Object.values(d.metrics)) aliases.set(`${d.id}\0${nameOf(m)}`, aliases.size + 1);
  const encode = (p: UPayload) => Buffer.from(codec.encodePayload(p));
  const death = encode({ timestamp: now(), metrics: [{ name: 'bdSeq', type: 'Int64', value: bdSeq }] });

  const client: MqttClient = await mqtt.connectAsync(opts.url, {
    username: opts.username,
    password: opts.password,
    clientId: opts.username,
    // [tck-id-principles-persistence-clean-session-311] an edge node connects with a clean session.
    clean: true,
    reconnectPeriod: 0,
    will: { topic: `${base}/NDEATH/${opts.node}`, payload: death, qos: 1, retain: false },
  });
  const nextSeq = () => {
    const s = seq;
    seq = (seq + 1) % 256;
    return s;
  };
  const values = (d: EdgeDevice, forced?: Record<string, number | boolean>) => {
    const step = models.get(d.id)!.step(now());
    return { ts: step.ts, values: { ...step.values, ...forced } };
  };

  async function birth(): Promise<void> {
    seq = 0;
    births++;
    await client.publishAsync(
      `${base}/NBIRTH/${opts.node}`,
      encode({ timestamp: now(), seq: nextSeq(), metrics: [{ name: 'bdSeq', type: 'Int64', value: bdSeq }, { name: REBIRTH, type: 'Boolean', value: false }] }),
      { qos: 0 },
    );
    for (const d of opts.devices) {
      const v = values(d);
      const metrics: UMetric[] = Object.entries(d.metrics)
        .filter(([metric]) => v.values[metric] !== undefined)
        .map(([metric, m]) => ({ name: nameOf(m), alias: aliases.get(`${d.id}\0${nameOf(m)}`), type: sparkplugType(d.class, metric), value: vendorValue(m, v.values[metric]), timestamp: v.ts }));
      await client.publishAsync(`${base}/DBIRTH/${opts.node}/${d.id}`, encode({ timestamp: now(), seq: nextSeq(), metrics }), { qos: 0 });
    }
  }

  client.on('message', (topic, payload) => {
    let decoded: UPayload;
    try {
      decoded = codec.decodePayload(new Uint8Array(payload));
    } catch {
      return;
    }
    commands.push({ topic, metrics: decoded.metrics ?? [] });
    if (topic === `${base}/NCMD/${opts.node}` && decoded.metrics?.some((m) => m.name === REBIRTH && m.value === true)) void birth();
  });
  await client.subscribeAsync([`${base}/NCMD/${opts.node}`, `${base}/DCMD/${opts.node}/+`], { qos: 0 });
  await birth();

  return {
    bdSeq,
    commands,
    get births() {
      return births;
    },
    async data(device, forced) {
      for (const d of opts.devices) {
        if (device !== undefined && d.id !== device) continue;
        const v = values(d, d.id === device ? forced : undefined);
        // After the birth, metrics by alias only: what most edge nodes send to save bandwidth.
        const metrics: UMetric[] = Object.entries(d.metrics)
          .filter(([metric]) => v.values[metric] !== undefined)
          .map(([metric, m]) => ({ alias: aliases.get(`${d.id}\0${nameOf(m)}`), type: sparkplugType(d.class, metric), value: vendorValue(m, v.values[metric]), timestamp: v.ts }));
        await client.publishAsync(`${base}/DDATA/${opts.node}/${d.id}`, encode({ timestamp: now(), seq: nextSeq(), metrics }), { qos: 0 });
      }
    },
    async deviceDeath(device) {
      await client.publishAsync(`${base}/DDEATH/${opts.node}/${device}`, encode({ timestamp: now(), seq: nextSeq() }), { qos: 0 });
    },
    skipSeq(n = 1) {
      seq = (seq + n) % 256;
    },
    model: (device) => models.get(device)!,
    kill() {
      client.stream.destroy();
    },
    async close() {
      if (client.connected) await client.publishAsync(`${base}/NDEATH/${opts.node}`, death, { qos: 0 });
      await client.endAsync(true);
    },
  };
}
