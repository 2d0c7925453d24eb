import { active, clamp, hourOfDay, lag, num } from './util.ts';
/** Fraction of the rated current drawn at each local hour of a working day. */
const PROFILE = [0.3, 0.28, 0.27, 0.27, 0.28, 0.3, 0.45, 0.65, 0.78, 0.8, 0.8, 0.78, 0.6, 0.72, 0.8, 0.8, 0.78, 0.7, 0.55, 0.5, 0.48, 0.42, 0.36, 0.32];
export function loadAt(hour) {
    const i = Math.floor(hour) % 24;
    const f = hour - Math.floor(hour);
    return PROFILE[i] * (1 - f) + PROFILE[(i + 1) % 24] * f;
}
export const powerMeterPhysics = ({ rnd, meta, start }) => {
    const nominal = num(meta, 'nominalVoltage', 220);
    const rated = num(meta, 'ratedCurrent', 100);
    const natural = num(meta, 'naturalLeakage', 120);
    const rise = num(meta, 'cableRise', 35); // °C above ambient at rated current
    const ambient0 = num(meta, 'ambient', 25);
    const powerFactor = num(meta, 'powerFactor', 0.9);
    const utcOffset = num(meta, 'utcOffsetHours', 8);
    const thermalSeconds = num(meta, 'thermalSeconds', 600);
    const ambient = (t) => ambient0 + 5 * Math.sin((2 * Math.PI * (hourOfDay(t, utcOffset) - 9)) / 24);
    let wander = 0;
    let humidity = rnd.normal(0, 10);
    let leakage = 0;
    let fireHeat = 0;
    let energy = num(meta, 'energy', Math.round(rnd.range(1e4, 1e5)));
    const loadFactor = (t, faults) => clamp(loadAt(hourOfDay(t, utcOffset)) + wander, 0.05, 1) * (active(faults, 'overload')[0]?.fault.factor ?? 1);
    let current = rated * loadFactor(start, []);
    let cable = ambient(start) + rise * (current / rated) ** 2;
    return {
        faults: ['electrical_leakage', 'overload', 'arc_fault', 'fire'],
        advance(t, dt, faults) {
            wander = clamp(wander + rnd.normal(0, 0.004 * Math.sqrt(dt)) - wander * 0.001 * dt, -0.08, 0.08);
            humidity = clamp(humidity + rnd.normal(0, 0.3 * Math.sqrt(dt)) - humidity * 0.0005 * dt, -25, 25);
            current = rated * loadFactor(t, faults);
            const leak = active(faults, 'electrical_leakage')[0];
            // Insulation failing: the residual current grows steadily until the fault is repaired.
            if (leak)
                leakage = Math.min(leakage + (leak.fault.ratePerMinute / 60) * dt, Math.max(0, leak.fault.peak - natural));
            else
                leakage = 0;
            const fire = active(faults, 'fire')[0];
            if (fire)
                fireHeat += (fire.fault.ratePerMinute / 60) * dt;
            else
                fireHeat = lag(fireHeat, 0, dt, thermalSeconds);
            cable = lag(cable, ambient(t) + rise * (current / rated) ** 2, dt, thermalSeconds);
            const voltage = nominal * (1.02 - 0.04 * (current / rated));
            energy += ((voltage * current * powerFactor) / 1000) * (dt / 3600);
        },
        read(_t, _faults, override) {
            const load = current / rated;
            const voltage = nominal * (1.02 - 0.04 * Math.min(load, 1.5)) + rnd.normal(0, 0.4);
            const i = Math.max(0, current * (1 + rnd.normal(0, 0.005)));
            return {
                values: {
                    voltage: override.voltage ?? voltage,
                    current: override.current ?? i,
                    power: override.power ?? (voltage * i * powerFactor) / 1000,
                    energy,
                    residual_current: override.residual_current ?? natural * (0.85 + 0.3 * Math.min(load, 1)) + humidity + leakage + rnd.normal(0, 2),
                    cable_temperature: override.cable_temperature ?? cable + fireHeat + rnd.normal(0, 0.1),
                },
                events: [],
            };
        },
        started(a) {
            return a.fault.kind === 'arc_fault' ? [{ type: 'arc_fault', active: true, message: 'arc fault detected' }] : [];
        },
        ended(a) {
            return a.fault.kind === 'arc_fault' ? [{ type: 'arc_fault', active: false }] : [];
        },
    };
};
export { powerMeterPhysics as physics };
