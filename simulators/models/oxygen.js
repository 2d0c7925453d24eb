import { active, clamp, lag, num } from './util.ts';
export const oxygenPhysics = ({ rnd, meta }) => {
    const normal = num(meta, 'normal', 20.9);
    const ventilationSeconds = num(meta, 'ventilationSeconds', 120);
    let drift = rnd.normal(0, 0.03);
    let space = normal;
    let reading = normal;
    return {
        faults: ['oxygen_shift'],
        advance(t, dt, faults) {
            drift = clamp(drift + rnd.normal(0, 0.001 * Math.sqrt(dt)), -0.1, 0.1);
            const shift = active(faults, 'oxygen_shift').at(-1);
            if (shift) {
                // Linear ramp from where the space was toward the target over the fault's ramp time.
                const rate = Math.abs(shift.fault.target - normal) / shift.fault.rampSeconds;
                const step = Math.min(Math.abs(shift.fault.target - space), rate * dt);
                space += Math.sign(shift.fault.target - space) * step;
            }
            else {
                space = lag(space, normal, dt, ventilationSeconds);
            }
            reading = lag(reading, space + drift, dt, 8);
        },
        read(_t, _faults, override) {
            return { values: { o2: override.o2 ?? reading + rnd.normal(0, 0.02) }, events: [] };
        },
    };
};
export { oxygenPhysics as physics };
