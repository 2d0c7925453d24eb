import { active, clamp, hourOfDay, lag, num } from './util.ts';
function isBand(v) {
    const b = v;
    return !!b && typeof b === 'object' && [b.HH, b.H, b.L, b.LL].every((x) => typeof x === 'number') && b.LL < b.L && b.L < b.H && b.H < b.HH;
}
/**
 * The process limits a vessel runs with: meta.limits where given (the registry convention the rules
 * engine reads), otherwise defaults derived from its height, nominal temperature and pressure.
 */
export function vesselLimits(meta) {
    const height = num(meta, 'height', 10);
    const t0 = num(meta, 'nominalTemperature', 25);
    const p0 = num(meta, 'nominalPressure', 0.25);
    const given = (meta.limits ?? {});
    return {
        level: isBand(given.level) ? given.level : { HH: 0.9 * height, H: 0.8 * height, L: 0.2 * height, LL: 0.1 * height },
        temperature: isBand(given.temperature) ? given.temperature : { HH: t0 + 30, H: t0 + 20, L: t0 - 20, LL: t0 - 30 },
        pressure: isBand(given.pressure) ? given.pressure : { HH: p0 * 1.6, H: p0 * 1.3, L: p0 * 0.5, LL: p0 * 0.3 },
    };
}
export const vesselPhysics = ({ rnd, meta, start }) => {
    const limits = vesselLimits(meta);
    meta.limits = limits;
    const height = num(meta, 'height', 10);
    const area = num(meta, 'area', 50); // m2: a 10 m tank of 8 m diameter
    const fillFlow = num(meta, 'fillFlow', 60); // m3/h
    const drainFlow = num(meta, 'drainFlow', 40);
    const t0 = num(meta, 'nominalTemperature', 25);
    const amplitude = num(meta, 'temperatureAmplitude', 3);
    const p0 = num(meta, 'nominalPressure', 0.25);
    // Vapour pressure of a volatile liquid rises about 2 % per °C near ambient.
    const pressureCoefficient = num(meta, 'pressureCoefficient', 0.02);
    const utcOffset = num(meta, 'utcOffsetHours', 8);
    const interlock = meta.interlock !== false;
    // The safety valve caps the pressure a fire can build (set at the design pressure).
    const reliefPressure = num(meta, 'reliefPressure', limits.pressure.HH * 1.15);
    const span = limits.level.H - limits.level.L;
    const highTarget = limits.level.H - 0.15 * span;
    const lowTarget = limits.level.L + 0.15 * span;
    let level = num(meta, 'initialLevel', rnd.range(lowTarget, highTarget));
    let mode = rnd.chance(0.5) ? 'filling' : 'draining';
    let holdLeft = 0;
    let flow = 0;
    let tripped = false;
    const events = [];
    const ambient = (t) => t0 + amplitude * Math.sin((2 * Math.PI * (hourOfDay(t, utcOffset) - 9)) / 24);
    let temperature = ambient(start);
    return {
        faults: ['overfill', 'drain', 'fire'],
        advance(t, dt, faults) {
            const overfill = active(faults, 'overfill')[0];
            const drain = active(faults, 'drain')[0];
            let inflow = 0;
            let outflow = 0;
            if (overfill || drain) {
                if (overfill && !tripped)
                    inflow = overfill.fault.flow;
                if (drain)
                    outflow = drain.fault.flow;
            }
            else {
                // The normal batch cycle: fill to the upper target, hold, drain to the lower one, hold.
                if (mode === 'filling') {
                    inflow = fillFlow;
                    if (level >= highTarget) {
                        mode = 'full';
                        holdLeft = rnd.range(600, 2400);
                    }
                }
                else if (mode === 'draining') {
                    outflow = drainFlow;
                    if (level <= lowTarget) {
                        mode = 'empty';
                        holdLeft = rnd.range(600, 2400);
                    }
                }
                else {
                    holdLeft -= dt;
                    if (holdLeft <= 0)
                        mode = mode === 'full' ? 'draining' : 'filling';
                }
                if (tripped && level < limits.level.H) {
                    tripped = false;
                    events.push({ type: 'interlock_trip', active: false, message: 'interlock reset', data: { level: Math.round(level * 1000) / 1000 } });
                }
            }
            flow = inflow + outflow;
            level = clamp(level + ((inflow - outflow) / 3600) * (dt / area), 0, height);
            if (interlock && !tripped && level >= limits.level.HH) {
                // HH trips the inlet interlock: the inlet valve closes and the level stops rising.
                tripped = true;
                events.push({ type: 'interlock_trip', active: true, message: 'level HH: inlet valve closed', data: { level: Math.round(level * 1000) / 1000 } });
            }
            const fire = active(faults, 'fire')[0];
            // A fire heats the shell at its own rate; otherwise the medium follows ambient slowly
            // (thermal mass of a full tank: about half an hour).
            if (fire)
                temperature += (fire.fault.ratePerMinute / 60) * dt;
            else
                temperature = lag(temperature, ambient(t), dt, 1800);
        },
        read() {
            const pressure = Math.min(reliefPressure, p0 * Math.exp(pressureCoefficient * (temperature - t0)));
            return {
                values: {
                    level: level + rnd.normal(0, 0.003),
                    temperature: temperature + rnd.normal(0, 0.05),
                    pressure: pressure * (1 + rnd.normal(0, 0.002)),
                    flow: flow > 0 ? flow * (1 + rnd.normal(0, 0.01)) : 0,
                },
                events: events.splice(0),
            };
        },
        ended(a) {
            // After an overfill is stopped the operators drain back to the working band.
            if (a.fault.kind === 'overfill')
                mode = 'draining';
            if (a.fault.kind === 'drain')
                mode = 'filling';
            return [];
        },
    };
};
