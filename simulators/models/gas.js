import { active, clamp, lag, latch, num } from './util.ts';
/** Stage setpoints of a combustible gas detector: GB/T 50493-2019 5.5.2, at or below 25 / 50 %LEL. */
export function combustibleSetpoints(meta) {
    return { stage1: num(meta, 'stage1', 25), stage2: num(meta, 'stage2', 50), range: num(meta, 'range', 100) };
}
/**
 * Stage setpoints of a toxic gas detector: at or below 100 % / 200 % of the occupational exposure limit
 * (GB/T 50493-2019 5.5.2). The default limit is H2S 10 ppm [U]: set meta.gas / meta.exposureLimit (ppm) per detector, as the rules engine reads it.
 */
export function toxicSetpoints(meta) {
    const oel = num(meta, 'exposureLimit', 10);
    return { stage1: num(meta, 'stage1', oel), stage2: num(meta, 'stage2', 2 * oel), range: num(meta, 'range', 100) };
}
/** Concentration of one plume at the detector, in the detector unit. */
export function plume(a, t) {
    const f = a.fault;
    const peak = f.peak * f.factor;
    const tau = (t - a.start) / 1000 - f.delaySeconds;
    if (tau <= 0)
        return 0;
    if (tau < f.rampSeconds)
        return (peak * tau) / f.rampSeconds;
    if (tau < f.rampSeconds + f.holdSeconds)
        return peak;
    const d = tau - f.rampSeconds - f.holdSeconds;
    return d < f.decaySeconds ? peak * (1 - d / f.decaySeconds) : 0;
}
function gasPhysics(metric, setpoints, baseline) {
    return ({ rnd, meta }) => {
        meta.stage1 = setpoints.stage1;
        meta.stage2 = setpoints.stage2;
        const tau = num(meta, 'responseSeconds', 10);
        let drift = rnd.range(0, baseline.drift / 2);
        let reading = baseline.zero + drift;
        let gust = 1;
        const stage1 = { on: false };
        const stage2 = { on: false };
        // A plume is carried by the wind, and the wind gusts: neighbours see it fluctuate.
        const plumes = (faults, t) => active(faults, 'gas_leak').reduce((sum, a) => sum + plume(a, t) * (a.fault.factor < 1 ? gust : 1), 0);
        return {
            faults: ['gas_leak'],
            advance(t, dt, faults) {
                drift = clamp(drift + rnd.normal(0, baseline.drift * 0.002 * Math.sqrt(dt)), 0, baseline.drift);
                gust = clamp(lag(gust, 1, dt, 20) + rnd.normal(0, 0.02 * Math.sqrt(dt)), 0.8, 1.2);
                reading = lag(reading, baseline.zero + drift + plumes(faults, t), dt, tau);
            },
            read(_t, _faults, override) {
                const raw = override[metric] ?? reading + rnd.normal(0, baseline.noise);
                const value = clamp(raw, 0, setpoints.range);
                const events = [];
                const data = { [metric]: Math.round(value * 10) / 10 };
                // The detector clears a stage 10 % below its setpoint, so noise at the setpoint does not flap its relay.
                const s1 = latch(stage1, value, setpoints.stage1, setpoints.stage1 * 0.9);
                if (s1 !== undefined)
                    events.push({ type: 'alarm_stage1', active: s1, data });
                const s2 = latch(stage2, value, setpoints.stage2, setpoints.stage2 * 0.9);
                if (s2 !== undefined)
                    events.push({ type: 'alarm_stage2', active: s2, data });
                return { values: { [metric]: value }, events };
            },
        };
    };
}
export const gasCombustiblePhysics = (ctx) => gasPhysics('lel', combustibleSetpoints(ctx.meta), { zero: 0.3, drift: 1.5, noise: 0.2 })(ctx);
export const gasToxicPhysics = (ctx) => {
    const sp = toxicSetpoints(ctx.meta);
    return gasPhysics('ppm', sp, { zero: 0.1, drift: sp.stage1 * 0.05, noise: sp.stage1 * 0.01 })(ctx);
};
