// Turns what a model read into the messages a device of the contract sends: telemetry with the
// device's own timestamp, one event message per event, and, for a device with broken firmware, the
// malformed message of its fault, each tagged with the rejection ingest must answer with.
import { DEVICE_CLASSES } from '../contract/catalog.ts';
import { DEFAULT_LIMITS } from '../contract/payloads.ts';
import { MALFORMED_VARIANTS } from './faults.ts';
export function telemetryPayload(ts, values) {
    return JSON.stringify({ ts, values });
}
export function eventPayload(ts, event) {
    return JSON.stringify({ ts, ...event });
}
export function statusPayload(state, ts) {
    return JSON.stringify(ts === undefined ? { state } : { state, ts });
}
function firstNumeric(cls) {
    const metrics = DEVICE_CLASSES[cls].metrics;
    const found = Object.entries(metrics).find(([, spec]) => spec.type === 'number');
    if (!found)
        throw new Error(`${cls} has no numeric metric`);
    return found;
}
/** A malformed message of the given variant from a device of class `cls`, built around a real reading. */
export function malformedMessage(cls, variant, step, maxBatch = DEFAULT_LIMITS.maxBatch) {
    const [metric, spec] = firstNumeric(cls);
    const good = JSON.stringify({ ts: step.ts, values: step.values });
    const expectRejection = MALFORMED_VARIANTS[variant];
    const msg = (payload, channel = 'telemetry') => ({ channel, payload, expectRejection, variant });
    switch (variant) {
        case 'bad_json':
            // A buffer overrun in the firmware cuts the message short.
            return msg(good.slice(0, Math.max(1, Math.floor(good.length / 2))));
        case 'unknown_metric':
            return msg(JSON.stringify({ ts: step.ts, values: { ...step.values, humidity_rh: 55.2 } }));
        case 'out_of_range':
            return msg(JSON.stringify({ ts: step.ts, values: { [metric]: (spec.max ?? 0) + Math.max(1, Math.abs(spec.max ?? 1)) } }));
        case 'nan_string':
            // Firmware that prints a failed ADC read as NaN; JSON has no NaN, so it arrives as a string.
            return msg(JSON.stringify({ ts: step.ts, values: { [metric]: 'NaN' } }));
        case 'wrong_type':
            return msg(JSON.stringify({ ts: step.ts, values: { [metric]: String(step.values[metric] ?? 1) } }));
        case 'oversize_batch': {
            // One metric per reading keeps the message small: the batch is refused for its count, not its bytes.
            const value = step.values[metric] ?? 0;
            const readings = Array.from({ length: maxBatch + 1 }, (_, i) => ({ ts: step.ts - (maxBatch - i) * 1000, values: { [metric]: value } }));
            return msg(JSON.stringify({ readings }));
        }
        case 'bad_timestamp':
            return msg(JSON.stringify({ ts: 'yesterday', values: step.values }));
        case 'schema':
            return msg(JSON.stringify({ ts: step.ts, values: step.values, unit: spec.unit }));
        case 'unknown_event':
            return msg(JSON.stringify({ ts: step.ts, type: 'explosion', active: true }), 'event');
    }
}
/** The messages a device sends for one step (none while it is silent). */
export function encodeStep(cls, step, options = {}) {
    if (step.silent)
        return [];
    const out = [];
    if (options.telemetry !== false) {
        if (step.malformed)
            out.push(malformedMessage(cls, step.malformed, step, options.maxBatch));
        if (!step.malformed || step.malformed === 'unknown_event') {
            if (Object.keys(step.values).length > 0)
                out.push({ channel: 'telemetry', payload: telemetryPayload(step.ts, step.values) });
        }
    }
    for (const event of step.events)
        out.push({ channel: 'event', payload: eventPayload(step.ts, event) });
    return out;
}
