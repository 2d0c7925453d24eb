export function createClock(options = {}) {
    const speed = options.speed ?? 1;
    if (!(speed > 0) || !Number.isFinite(speed))
        throw new Error(`speed must be a positive number, got ${speed}`);
    const wall = options.wallClock ?? Date.now;
    const realStart = wall();
    let start = options.start;
    if (start === undefined) {
        if (speed > 1 && options.spanSeconds === undefined) {
            throw new Error('a simulated clock faster than real time needs the length of the run (duration or scenario), so that its timestamps stay in the past');
        }
        start = realStart - (speed > 1 ? options.spanSeconds * 1000 * (1 - 1 / speed) : 0);
    }
    const s = start;
    return {
        speed,
        start: s,
        realStart,
        now: () => s + (wall() - realStart) * speed,
        realDelayUntil: (t) => Math.max(0, (t - s) / speed - (wall() - realStart)),
    };
}
