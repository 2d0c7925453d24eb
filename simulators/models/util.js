export function num(meta, key, fallback) {
    const v = meta[key];
    return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}
export function clamp(v, min, max) {
    return v < min ? min : v > max ? max : v;
}
/** Local hour of day (0..24) at a UTC offset; plants run on local time (China: +8). */
export function hourOfDay(t, utcOffsetHours) {
    const h = (t / 3600000 + utcOffsetHours) % 24;
    return h < 0 ? h + 24 : h;
}
/** Active faults of one kind at time t, typed. */
export function active(faults, kind) {
    return faults.filter((f) => f.fault.kind === kind);
}
/** First-order lag: moves `value` toward `target` with time constant `tau` seconds over `dt` seconds. */
export function lag(value, target, dt, tau) {
    return target + (value - target) * Math.exp(-dt / tau);
}
/** Tracks a device-side latched condition with hysteresis and returns the transition, if any. */
export function latch(state, value, set, reset) {
    if (!state.on && value >= set) {
        state.on = true;
        return true;
    }
    if (state.on && value < reset) {
        state.on = false;
        return false;
    }
    return undefined;
}
