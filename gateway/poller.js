import { counter, gauge } from '../core/metrics.ts';
import { decodeRegisters, scaleValue } from './codec.ts';
import { openLink, ModbusFailure } from './link.ts';
import { pointType, pointWidth } from './map.ts';
import { planReads } from './plan.ts';
import { createReporter } from './reporter.ts';
/** Builds the read plan of a Modbus device: every metric and event point, grouped into requests. */
export function planDevice(device) {
    const spans = device.devices.flatMap((d) => [
        ...d.metrics.map((point) => ({ table: point.table, address: point.address, width: pointWidth(point, 'metric'), ref: { kind: 'metric', device: d, point, type: pointType(point, 'metric') } })),
        ...d.events.map((point) => ({ table: point.table, address: point.address, width: pointWidth(point, 'event'), ref: { kind: 'event', device: d, point, type: pointType(point, 'event') } })),
    ]);
    return planReads(spans, device);
}
/** Decodes the value of one point from the answer to the request that covered it. */
export function decodePoint(req, result, ref, spanAddress) {
    const offset = spanAddress - req.address;
    if (result.bits)
        return result.bits[offset] ? 1 : 0;
    const width = ref.type === 'bit' ? 1 : pointWidth(ref.point, ref.kind);
    const bytes = result.registers.subarray(offset * 2, (offset + width) * 2);
    return decodeRegisters(bytes, ref.type, ref.point.order, ref.point.bit ?? 0);
}
export function startPoller(options) {
    const { device, publisher } = options;
    const log = options.log.child({ modbus: device.name });
    const requests = planDevice(device);
    const reporters = new Map(device.devices.map((d) => [d.id, createReporter(d)]));
    const polls = counter(options.metrics, 'hazwatch_gateway_polls_total', 'Polls of a Modbus device, by result', ['modbus', 'result']);
    const failures = counter(options.metrics, 'hazwatch_gateway_modbus_failures_total', 'Failed Modbus requests, by kind (connect, timeout, exception, disconnected, protocol)', ['modbus', 'kind']);
    const online = gauge(options.metrics, 'hazwatch_gateway_device_online', '1 while a Modbus device answers, 0 once it is reported offline', ['modbus']);
    let state = 'unknown';
    let link;
    let failedInRow = 0;
    let closed = false;
    let timer;
    let wake;
    let lastFailure = '';
    log.info({ requests: requests.map((r) => `${r.table} ${r.address}+${r.count}`), pollMs: device.pollMs }, 'polling');
    function setState(next, ts) {
        if (state === next)
            return;
        state = next;
        online.set({ modbus: device.name }, next === 'online' ? 1 : 0);
        for (const d of device.devices)
            publisher.status(d.id, next, ts);
        if (next === 'offline')
            for (const r of reporters.values())
                r.reset();
    }
    function dropLink() {
        link?.close();
        link = undefined;
    }
    async function pollOnce() {
        const ts = Date.now();
        if (!link || !link.connected) {
            dropLink();
            link = await openLink(device);
            log.info('connected');
        }
        const results = new Map();
        let lastError;
        for (const req of requests) {
            if (closed)
                return false;
            try {
                results.set(req, await link.read(req.table, req.address, req.count));
            }
            catch (err) {
                const f = err instanceof ModbusFailure ? err : new ModbusFailure('protocol', String(err));
                lastError = f;
                failures.inc({ modbus: device.name, kind: f.kind });
                const line = `${f.kind}: ${f.message}`;
                // One line per change of trouble, not one per poll, so a dead device cannot flood the log.
                if (line !== lastFailure)
                    log.warn({ kind: f.kind, exceptionCode: f.exceptionCode, table: req.table, address: req.address, count: req.count }, `read failed: ${f.message}`);
                lastFailure = line;
                // After a timeout or a broken frame the stream may hold a late answer: start a fresh connection.
                if (f.kind !== 'exception') {
                    dropLink();
                    break;
                }
            }
        }
        if (results.size === 0)
            throw lastError ?? new ModbusFailure('protocol', 'no request succeeded');
        if (!lastError && lastFailure) {
            log.info('reads succeed again');
            lastFailure = '';
        }
        publish(ts, results);
        return true;
    }
    function publish(ts, results) {
        const values = new Map();
        const conditions = new Map();
        for (const [req, result] of results) {
            for (const span of req.spans) {
                const ref = span.ref;
                let raw;
                try {
                    raw = decodePoint(req, result, ref, span.address);
                }
                catch (err) {
                    log.warn({ device: ref.device.id, err: err.message }, 'cannot decode value');
                    continue;
                }
                if (ref.kind === 'metric') {
                    const v = values.get(ref.device.id) ?? {};
                    const p = ref.point;
                    if (ref.type === 'bit')
                        v[p.metric] = p.invert ? raw === 0 : raw === 1;
                    else if (Number.isFinite(raw))
                        v[p.metric] = scaleValue(raw, p.scale, p.offset);
                    else {
                        // A NaN float is how many gas controllers flag a channel in fault; JSON cannot carry it.
                        log.debug({ device: ref.device.id, metric: p.metric }, 'value is not finite: not sent');
                        continue;
                    }
                    values.set(ref.device.id, v);
                }
                else {
                    const c = conditions.get(ref.device.id) ?? {};
                    const active = ref.point.invert ? raw === 0 : raw === 1;
                    // Several bits may stand for one event type (e.g. two fault bits): any of them set means active.
                    c[ref.point.event] = (c[ref.point.event] ?? false) || active;
                    conditions.set(ref.device.id, c);
                }
            }
        }
        for (const d of device.devices) {
            const report = reporters.get(d.id).sample(ts, values.get(d.id) ?? {}, conditions.get(d.id) ?? {});
            if (report.values)
                publisher.reading(d.id, ts, report.values);
            for (const e of report.events)
                publisher.event(d.id, ts, e);
        }
    }
    async function loop() {
        while (!closed) {
            const started = Date.now();
            let delay = device.pollMs;
            try {
                await pollOnce();
                polls.inc({ modbus: device.name, result: 'ok' });
                failedInRow = 0;
                setState('online', started);
                delay = Math.max(0, device.pollMs - (Date.now() - started));
            }
            catch (err) {
                if (closed)
                    break;
                const f = err instanceof ModbusFailure ? err : new ModbusFailure('protocol', err.message);
                polls.inc({ modbus: device.name, result: 'failed' });
                if (f.kind === 'connect') {
                    failures.inc({ modbus: device.name, kind: 'connect' });
                    const line = `connect: ${f.message}`;
                    if (line !== lastFailure)
                        log.warn({ kind: 'connect' }, f.message);
                    lastFailure = line;
                }
                failedInRow++;
                if (failedInRow >= device.offlineAfter && state !== 'offline') {
                    log.warn({ failedInRow }, 'device offline');
                    setState('offline', Date.now());
                }
                delay = Math.min(device.pollMs * 2 ** Math.min(failedInRow - 1, 16), device.maxBackoffMs);
            }
            if (closed)
                break;
            await new Promise((resolve) => {
                wake = resolve;
                timer = setTimeout(resolve, delay);
            });
        }
    }
    const running = loop().catch((err) => log.error({ err: err.message }, 'poll loop stopped'));
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
