// The poll loop of one Modbus device: its own timer, its own connection, its own failure count, so a
// dead or slow device never delays another. Failures are logged per device and kind; after
// `offlineAfter` failed polls in a row its platform devices are reported offline; retries back off
// exponentially up to maxBackoffMs and the device comes back online by itself on the first good poll.
import type { Registry as MetricsRegistry } from 'prom-client';
import type { EventType } from '../contract/catalog.ts';
import type { Logger } from '../core/log.ts';
import { counter, gauge } from '../core/metrics.ts';
import { decodeRegisters, scaleValue, type DataType } from './codec.ts';
import { openLink, ModbusFailure, type Link, type ReadResult } from './link.ts';
import { pointType, pointWidth, type EventPoint, type MetricPoint, type PlatformDevice, type ResolvedModbusDevice } from './map.ts';
import { planReads, type ReadRequest } from './plan.ts';
import { createReporter, type Reporter } from './reporter.ts';
import type { Publisher } from './publisher.ts';

type PointRef =
  | { kind: 'metric'; device: PlatformDevice; point: MetricPoint; type: DataType }
  | { kind: 'event'; device: PlatformDevice; point: EventPoint; type: DataType };

export interface Poller {
  readonly name: string;
  readonly state: 'unknown' | 'online' | 'offline';
  /** Requests one poll takes (after grouping). */
  readonly requests: ReadRequest<PointRef>[];
  close(): Promise<void>;
}

export interface PollerOptions {
  device: ResolvedModbusDevice;
  publisher: Pick<Publisher, 'reading' | 'event' | 'status'>;
  log: Logger;
  metrics: MetricsRegistry;
}

/** Builds the read plan of a Modbus device: every metric and event point, grouped into requests. */
export function planDevice(device: ResolvedModbusDevice): ReadRequest<PointRef>[] {
  const spans = device.devices.flatMap((d) => [
    ...d.metrics.map((point) => ({ table: point.table, address: point.address, width: pointWidth(point, 'metric'), ref: { kind: 'metric' as const, device: d, point, type: pointType(point, 'metric') } })),
    ...d.events.map((point) => ({ table: point.table, address: point.address, width: pointWidth(point, 'event'), ref: { kind: 'event' as const, device: d, point, type: pointType(point, 'event') } })),
  ]);
  return planReads<PointRef>(spans, device);
}

/** Decodes the value of one point from the answer to the request that covered it. */
export function decodePoint(req: ReadRequest<PointRef>, result: ReadResult, ref: PointRef, spanAddress: number): number {
  const offset = spanAddress - req.address;
  if (result.bits) return result.bits[offset] ? 1 : 0;
  const width = ref.type === 'bit' ? 1 : pointWidth(ref.point, ref.kind);
  const bytes = result.registers!.subarray(offset * 2, (offset + width) * 2);
  return decodeRegisters(bytes, ref.type, ref.point.order, ref.point.bit ?? 0);
}

export function startPoller(options: PollerOptions): Poller {
  const { device, publisher } = options;
  const log = options.log.child({ modbus: device.name });
  const requests = planDevice(device);
  const reporters = new Map<string, Reporter>(device.devices.map((d) => [d.id, createReporter(d)]));
  const polls = counter(options.metrics, 'hazwatch_gateway_polls_total', 'Polls of a Modbus device, by result', ['modbus', 'result']);
  const failures = counter(options.metrics, 'hazwatch_gateway_modbus_failures_total', 'Failed Modbus requests, by kind (connect, timeout, exception, disconnected, protocol)', ['modbus', 'kind']);
  const online = gauge(options.metrics, 'hazwatch_gateway_device_online', '1 while a Modbus device answers, 0 once it is reported offline', ['modbus']);
  let state: Poller['state'] = 'unknown';
  let link: Link | undefined;
  let failedInRow = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  let lastFailure = '';

  log.info({ requests: requests.map((r) => `${r.table} ${r.address}+${r.count}`), pollMs: device.pollMs }, 'polling');

  function setState(next: 'online' | 'offline', ts: number): void {
    if (state === next) return;
    if (next === 'online' && state === 'offline') log.info('device back online');
    state = next;
    online.set({ modbus: device.name }, next === 'online' ? 1 : 0);
    for (const d of device.devices) publisher.status(d.id, next, ts);
    if (next === 'offline') for (const r of reporters.values()) r.reset();
  }

  function dropLink(): void {
    link?.close();
    link = undefined;
  }

  async function pollOnce(): Promise<boolean> {
    const ts = Date.now();
    if (!link || !link.connected) {
      dropLink();
      const opened = await openLink(device);
      if (closed) {
        opened.close();
        return false;
      }
      link = opened;
      log.info('connected');
    }
    const results = new Map<ReadRequest<PointRef>, ReadResult>();
    let lastError: ModbusFailure | undefined;
    for (const req of requests) {
      if (closed) return false;
      try {
        results.set(req, await link.read(req.table, req.address, req.count));
      } catch (err) {
        const f = err instanceof ModbusFailure ? err : new ModbusFailure('protocol', String(err));
        lastError = f;
        failures.inc({ modbus: device.name, kind: f.kind });
        const line = `${f.kind}: ${f.message}`;
        // One line per change of trouble, not one per poll, so a dead device cannot flood the log.
        if (line !== lastFailure) log.warn({ kind: f.kind, exceptionCode: f.exceptionCode, table: req.table, address: req.address, count: req.count }, `read failed: ${f.message}`);
        lastFailure = line;
        // After a timeout or a broken frame the stream may hold a late answer: start a fresh connection.
        if (f.kind !== 'exception') {
          dropLink();
          break;
        }
      }
    }
    if (results.size === 0) throw lastError ?? new ModbusFailure('protocol', 'no request succeeded');
    if (!lastError && lastFailure) {
      log.info('reads succeed again');
      lastFailure = '';
    }
    publish(ts, results);
    return true;
  }

  function publish(ts: number, results: Map<ReadRequest<PointRef>, ReadResult>): void {
    const values = new Map<string, Record<string, number | boolean>>();
    const conditions = new Map<string, Partial<Record<EventType, boolean>>>();
    for (const [req, result] of results) {
      for (const span of req.spans) {
        const ref = span.ref;
        let raw: number;
        try {
          raw = decodePoint(req, result, ref, span.address);
        } catch (err) {
          log.warn({ device: ref.device.id, err: (err as Error).message }, 'cannot decode value');
          continue;
        }
        if (ref.kind === 'metric') {
          const v = values.get(ref.device.id) ?? {};
          const p = ref.point;
          if (ref.type === 'bit') v[p.metric] = p.invert ? raw === 0 : raw === 1;
          else if (Number.isFinite(raw)) v[p.metric] = scaleValue(raw, p.scale, p.offset);
          else {
            // A NaN float is how many gas controllers flag a channel in fault; JSON cannot carry it.
            log.debug({ device: ref.device.id, metric: p.metric }, 'value is not finite: not sent');
            continue;
          }
          values.set(ref.device.id, v);
        } else {
          const c = conditions.get(ref.device.id) ?? {};
          const active = ref.point.invert ? raw === 0 : raw === 1;
          // Several bits may stand for one event type (e.g. two fault bits): any of them set means active.
          c[ref.point.event] = (c[ref.point.event] ?? false) || active;
          conditions.set(ref.device.id, c);
        }
      }
    }
    for (const d of device.devices) {
      const report = reporters.get(d.id)!.sample(ts, values.get(d.id) ?? {}, conditions.get(d.id) ?? {});
      if (report.values) publisher.reading(d.id, ts, report.values);
      for (const e of report.events) publisher.event(d.id, ts, e);
    }
  }

  async function loop(): Promise<void> {
    while (!closed) {
      const started = Date.now();
      let delay = device.pollMs;
      try {
        await pollOnce();
        polls.inc({ modbus: device.name, result: 'ok' });
        failedInRow = 0;
        setState('online', started);
        delay = Math.max(0, device.pollMs - (Date.now() - started));
      } catch (err) {
        if (closed) break;
        const f = err instanceof ModbusFailure ? err : new ModbusFailure('protocol', (err as Error).message);
        polls.inc({ modbus: device.name, result: 'failed' });
        if (f.kind === 'connect') {
          failures.inc({ modbus: device.name, kind: 'connect' });
          const line = `connect: ${f.message}`;
          if (line !== lastFailure) log.warn({ kind: 'connect' }, f.message);
          lastFailure = line;
        }
        failedInRow++;
        if (failedInRow >= device.offlineAfter && state !== 'offline') {
          log.warn({ failedInRow }, 'device offline');
          setState('offline', Date.now());
        }
        delay = Math.min(device.pollMs * 2 ** Math.min(failedInRow - 1, 16), device.maxBackoffMs);
      }
      if (closed) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, delay);
      });
    }
  }

  const running = loop().catch((err) => log.error({ err: (err as Error).message }, 'poll loop stopped'));

  return {
    name: device.name,
    get state() {
      return state;
    },
    requests,
    async close() {
      closed = true;
      clearTimeout(timer);
      wake?.();
      dropLink();
      await running;
    },
  };
}
