// What to publish from one poll of one platform device: report by exception (a value is sent when it
// moved beyond its deadband, and every value at least once per heartbeat), and events on each change
// of the condition a bit stands for. Pure state per device, no I/O: the poller feeds samples in.
import { DEVICE_CLASSES, MOMENTARY_EVENTS } from '../contract/catalog.ts';
export function createReporter(device) {
    const deadbands = new Map(device.metrics.map((m) => [m.metric, m.deadband]));
    const byException = device.heartbeatS !== undefined || device.metrics.some((m) => m.deadband !== undefined);
    // Without a configured heartbeat the platform still expects one message per class interval (catalog).
    const heartbeatMs = (device.heartbeatS ?? DEVICE_CLASSES[device.class].intervalSeconds) * 1000;
    const messages = new Map(device.events.map((e) => [e.event, e.message]));
    let sent = new Map();
    let lastFull = -Infinity;
    let conditions = new Map();
    return {
        reset() {
            sent = new Map();
            lastFull = -Infinity;
            conditions = new Map();
        },
        sample(ts, values, now) {
            const events = [];
            for (const [type, active] of Object.entries(now)) {
                const before = conditions.get(type);
                conditions.set(type, active);
                const message = messages.get(type);
                if (MOMENTARY_EVENTS.includes(type)) {
                    // Momentary events (calibration, hydrant draw) are sent on the rising edge only.
                    if (active && before !== true)
                        events.push({ type, ...(message ? { message } : {}) });
                }
                else if (before !== active) {
                    events.push({ type, active, ...(message && active ? { message } : {}) });
                }
            }
            if (!byException || ts - lastFull >= heartbeatMs) {
                lastFull = ts;
                for (const [k, v] of Object.entries(values))
                    sent.set(k, v);
                return { values: Object.keys(values).length ? values : undefined, events };
            }
            const changed = {};
            for (const [metric, value] of Object.entries(values)) {
                const last = sent.get(metric);
                const band = deadbands.get(metric) ?? 0;
                const moved = last === undefined || typeof value === 'boolean' || typeof last === 'boolean' ? last !== value : Math.abs(value - last) > band;
                if (moved) {
                    changed[metric] = value;
                    sent.set(metric, value);
                }
            }
            return { values: Object.keys(changed).length ? changed : undefined, events };
        },
    };
}
