import { encodeStep } from './messages.ts';
import { createModel } from './models/index.ts';
import { createRandom, deviceSeed } from './random.ts';
/** Longest time between two looks at the sensors. */
const SAMPLE_MS = 5000;
export function createSimulation(options) {
    const phase = createRandom(options.seed ^ 0x5eed);
    const byKey = new Map();
    const states = options.devices.map((device) => {
        const model = createModel(device.class, { seed: deviceSeed(options.seed, device.enterprise, device.id), enterprise: device.enterprise, device: device.id, meta: device.meta });
        model.step(options.start);
        const intervalMs = Math.max(1, Math.round(device.intervalSeconds * 1000));
        const first = options.start + Math.floor(phase.next() * intervalMs);
        // Devices sample their sensors more often than they report, and send an event (smoke, a gas
        // stage, a pump fault) at once, as real ones do: a smoke alarm does not wait for its next heartbeat.
        const sampleMs = Math.min(intervalMs, SAMPLE_MS);
        const state = { device, model, intervalMs, sampleMs, next: Math.min(first, options.start + sampleMs), nextReport: first, faults: [] };
        byKey.set(`${device.enterprise}/${device.id}`, state);
        return state;
    });
    for (const f of options.faults ?? []) {
        const state = byKey.get(`${f.enterprise}/${f.device}`);
        if (!state)
            throw new Error(`fault for unknown device ${f.enterprise}/${f.device}`);
        state.faults.push(f);
    }
    for (const s of states)
        s.faults.sort((a, b) => a.at - b.at);
    const rejections = [];
    function report(state, at, telemetry) {
        while (state.faults.length && state.faults[0].at <= at) {
            const f = state.faults.shift();
            state.model.inject(f.fault, f.at);
        }
        const step = state.model.step(at, { report: telemetry });
        const messages = encodeStep(state.device.class, step, { maxBatch: options.maxBatch, telemetry });
        for (const m of messages) {
            if (m.expectRejection && m.variant)
                rejections.push({ enterprise: state.device.enterprise, device: state.device.id, code: m.expectRejection, variant: m.variant, at });
        }
        return { state, step, messages };
    }
    return {
        states,
        rejections,
        /** Reports of every device due at or before `now`, in time order. */
        due(now) {
            const out = [];
            for (const s of states) {
                while (s.next <= now) {
                    const at = s.next;
                    const telemetry = at >= s.nextReport;
                    if (telemetry)
                        s.nextReport += s.intervalMs;
                    const r = report(s, at, telemetry);
                    if (r.messages.length || r.step.silent)
                        out.push(r);
                    s.next = Math.min(s.nextReport, at + s.sampleMs);
                }
            }
            return out.length > 1 ? out.sort((a, b) => a.step.now - b.step.now) : out;
        },
        /** Simulated time of the next report of any device. */
        nextDue() {
            return states.reduce((m, s) => Math.min(m, s.next), Infinity);
        },
    };
}
