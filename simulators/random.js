// Seeded pseudo-random numbers for the device models: the same seed gives the same readings on every
// machine and Node version, which Math.random() cannot promise. mulberry32 is tiny, fast and good enough
// for sensor noise (it is not for secrets); string labels are hashed (cyrb53) into per-device seeds so
// that adding a device to a fleet does not change the readings of the others.
/** 53-bit string hash (cyrb53, public domain): stable seeds from labels such as `42:acme/gas-101`. */
export function hashSeed(label, seed = 0) {
    let h1 = 0xdeadbeef ^ seed;
    let h2 = 0x41c6ce57 ^ seed;
    for (let i = 0; i < label.length; i++) {
        const ch = label.charCodeAt(i);
        h1 = Math.imul(h1 ^ ch, 2654435761);
        h2 = Math.imul(h2 ^ ch, 1597334677);
    }
    h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
    h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
    return (h2 >>> 0) * 4294967296 + (h1 >>> 0);
}
/** A seed for one device of a run: independent of the other devices of the run. */
export function deviceSeed(seed, enterprise, device) {
    return hashSeed(`${enterprise}/${device}`, seed >>> 0) >>> 0;
}
export function createRandom(seed) {
    let a = seed >>> 0;
    let spare;
    const next = () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
    const gauss = () => {
        if (spare !== undefined) {
            const s = spare;
            spare = undefined;
            return s;
        }
        let u = 0;
        while (u === 0)
            u = next();
        const v = next();
        const r = Math.sqrt(-2 * Math.log(u));
        spare = r * Math.sin(2 * Math.PI * v);
        return r * Math.cos(2 * Math.PI * v);
    };
    return {
        next,
        range: (min, max) => min + (max - min) * next(),
        int: (min, max) => min + Math.floor(next() * (max - min + 1)),
        normal: (mean = 0, sd = 1) => mean + sd * gauss(),
        chance: (p) => next() < p,
        pick: (items) => items[Math.floor(next() * items.length)],
    };
}
