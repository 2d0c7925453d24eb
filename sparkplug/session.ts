// What the host application knows of each edge node: whether it is born, its birth-death sequence
// (bdSeq), its message sequence (seq) and the metric aliases of its devices. A pure state machine: each
// decoded message gives the actions the service carries out (readings and status on the hw/v1 topics,
// a device to register, a rebirth to request, a refusal to count), in that order.
import type { UMetric, UPayload } from 'sparkplug-payload/lib/sparkplugbpayload.js';
import type { ErrorCode } from '../contract/errors.ts';
import type { MappedDevice, SparkplugMaps } from './mapping.ts';
import type { SparkplugTopic } from './topics.ts';

export type Value = number | boolean;

export type Action =
  /** Make sure the device exists in the registry with this class (before its first reading). */
  | { kind: 'register'; mapped: MappedDevice }
  | { kind: 'status'; enterprise: string; device: string; state: 'online' | 'offline'; ts: number }
  /** Readings of one device, grouped by timestamp, in the contract's shape. */
  | { kind: 'readings'; enterprise: string; device: string; readings: { ts: number; values: Record<string, Value> }[] }
  /** NCMD `Node Control/Rebirth` to this edge node. */
  | { kind: 'rebirth'; group: string; node: string; code: ErrorCode }
  | { kind: 'refused'; code: ErrorCode; detail: string }
  | { kind: 'ignored'; metrics: number };

interface DeviceState {
  mapped?: MappedDevice;
  /** Alias → metric name, from the DBIRTH. */
  aliases: Map<string, string>;
  online: boolean;
}

interface NodeState {
  born: boolean;
  bdSeq?: number;
  seq: number;
  devices: Map<string, DeviceState>;
}

const REBIRTH = 'Node Control/Rebirth';
export const REBIRTH_METRIC = REBIRTH;

function num(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && typeof (v as { toNumber?: unknown }).toNumber === 'function') return (v as { toNumber(): number }).toNumber();
  return undefined;
}

function aliasKey(alias: unknown): string | undefined {
  const n = num(alias);
  return n === undefined ? undefined : String(n);
}

export interface HostSessions {
  handle(topic: SparkplugTopic, payload: UPayload, receivedAt: number): Action[];
  /** Edge nodes born now. */
  nodesOnline(): number;
}

export function hostSessions(maps: SparkplugMaps): HostSessions {
  const nodes = new Map<string, NodeState>();

  const offlineAll = (node: NodeState, ts: number): Action[] => {
    const out: Action[] = [];
    for (const d of node.devices.values()) {
      if (d.mapped && d.online) out.push({ kind: 'status', enterprise: d.mapped.enterprise, device: d.mapped.device, state: 'offline', ts });
      d.online = false;
    }
    return out;
  };

  /** The node lost track: its devices are offline until it is born again, which is asked for. */
  const lost = (t: SparkplugTopic, node: NodeState | undefined, code: ErrorCode, detail: string, ts: number): Action[] => {
    const out: Action[] = node ? offlineAll(node, ts) : [];
    if (node) node.born = false;
    out.push({ kind: 'refused', code, detail }, { kind: 'rebirth', group: t.group, node: t.node, code });
    return out;
  };

  function readings(d: DeviceState, metrics: UMetric[], fallbackTs: number): { actions: Action[] } {
    const byTs = new Map<number, Record<string, Value>>();
    let ignored = 0;
    for (const m of metrics) {
      const name = m.name ?? (aliasKey(m.alias) !== undefined ? d.aliases.get(aliasKey(m.alias)!) : undefined);
      const target = name !== undefined ? d.mapped!.metrics.get(name) : undefined;
      if (!target || m.isNull || m.value === null || m.value === undefined) {
        ignored++;
        continue;
      }
      let value: Value | undefined;
      if (typeof m.value === 'boolean') value = m.value;
      else {
        const n = num(m.value);
        // A string or bytes where a number is expected goes on as it is: ingest refuses it with the
        // contract's code (HW_ERR_TYPE), counted like a native device's.
        value = n === undefined ? (m.value as never) : n * target.scale + target.offset;
      }
      const ts = num(m.timestamp) ?? fallbackTs;
      const values = byTs.get(ts) ?? {};
      values[target.metric] = value;
      byTs.set(ts, values);
    }
    const actions: Action[] = [];
    if (byTs.size) {
      const list = [...byTs].sort((a, b) => a[0] - b[0]).map(([ts, values]) => ({ ts, values }));
      actions.push({ kind: 'readings', enterprise: d.mapped!.enterprise, device: d.mapped!.device, readings: list });
    }
    if (ignored) actions.push({ kind: 'ignored', metrics: ignored });
    return { actions };
  }

  return {
    nodesOnline: () => [...nodes.values()].filter((n) => n.born).length,
    handle(t, payload, receivedAt) {
      const key = `${t.group}/${t.node}`;
      let node = nodes.get(key);
      const ts = num(payload.timestamp) ?? receivedAt;
      const seq = num(payload.seq);
      const metrics = payload.metrics ?? [];

      if (t.type === 'NCMD' || t.type === 'DCMD') return [];

      if (t.type === 'NBIRTH') {
        // [tck-id-payloads-nbirth-seq] a birth starts the sequence at 0; its bdSeq names the session.
        const bdSeq = num(metrics.find((m) => m.name === 'bdSeq')?.value);
        const before = node ? offlineAll(node, ts) : [];
        node = { born: true, bdSeq, seq: seq ?? 0, devices: new Map() };
        nodes.set(key, node);
        return before;
      }

      if (t.type === 'NDEATH') {
        if (!node) return [];
        // [tck-id-operational-behavior-edge-node-termination-host-action-ndeath-node-offline] a death of an
        // earlier session (another bdSeq) is stale and changes nothing.
        const bdSeq = num(metrics.find((m) => m.name === 'bdSeq')?.value);
        if (node.bdSeq !== undefined && bdSeq !== undefined && bdSeq !== node.bdSeq) return [];
        node.born = false;
        return offlineAll(node, ts);
      }

      // Everything else belongs to a born node and carries the next seq (0..255, wrapping).
      if (!node?.born) return lost(t, node, 'HW_ERR_SPARKPLUG_UNBORN', `${t.type} from ${key} before its NBIRTH`, ts);
      const expected = (node.seq + 1) % 256;
      if (seq !== expected) return lost(t, node, 'HW_ERR_SPARKPLUG_SEQ', `${t.type} from ${key} with seq ${seq ?? 'none'}, expected ${expected}`, ts);
      node.seq = expected;

      if (t.type === 'NDATA') return metrics.length ? [{ kind: 'ignored', metrics: metrics.length }] : [];

      const spDevice = t.device!;
      if (t.type === 'DBIRTH') {
        const mapped = maps.find(t.group, t.node, spDevice);
        const d: DeviceState = { mapped, aliases: new Map(), online: mapped !== undefined };
        node.devices.set(spDevice, d);
        if (!mapped) return [{ kind: 'refused', code: 'HW_ERR_SPARKPLUG_UNMAPPED', detail: `device ${spDevice} of ${key} is in no Sparkplug map` }];
        for (const m of metrics) {
          const a = aliasKey(m.alias);
          if (a !== undefined && m.name) d.aliases.set(a, m.name);
        }
        return [{ kind: 'register', mapped }, { kind: 'status', enterprise: mapped.enterprise, device: mapped.device, state: 'online', ts }, ...readings(d, metrics, ts).actions];
      }

      const d = node.devices.get(spDevice);
      if (t.type === 'DDEATH') {
        if (!d?.mapped) return [];
        d.online = false;
        return [{ kind: 'status', enterprise: d.mapped.enterprise, device: d.mapped.device, state: 'offline', ts }];
      }
      // DDATA: only from a device born and not dead since (a DDEATH needs a new DBIRTH).
      if (!d || (d.mapped && !d.online)) return lost(t, node, 'HW_ERR_SPARKPLUG_UNBORN', `DDATA from ${key}/${spDevice} without a DBIRTH since ${d ? 'its DDEATH' : 'the NBIRTH'}`, ts);
      if (!d.mapped) return [{ kind: 'refused', code: 'HW_ERR_SPARKPLUG_UNMAPPED', detail: `device ${spDevice} of ${key} is in no Sparkplug map` }];
      const out: Action[] = [];
      return [...out, ...readings(d, metrics, ts).actions];
    },
  };
}
