// Limits that protect the broker: a publish token bucket per connection, and a guard that bans an
// address or a user name after repeated failed CONNECTs (password guessing), without a password check.
/** Token bucket: `rate` tokens a second, at most `burst` saved up. rate 0 = unlimited. */
export function tokenBucket(rate, burst, now = Date.now) {
    let tokens = burst;
    let last = now();
    return {
        take() {
            if (rate <= 0)
                return true;
            const t = now();
            tokens = Math.min(burst, tokens + ((t - last) / 1000) * rate);
            last = t;
            if (tokens < 1)
                return false;
            tokens -= 1;
            return true;
        },
    };
}
/** Counts events in a fixed window of `windowMs` that restarts after it has elapsed. */
export function windowCounter(windowMs, now = Date.now) {
    let start = now();
    let count = 0;
    return {
        /** Adds one; returns the count within the current window. */
        hit() {
            const t = now();
            if (t - start >= windowMs) {
                start = t;
                count = 0;
            }
            return ++count;
        },
    };
}
/**
 * Failed CONNECTs per address and per user name within a sliding window; past the limit the key is
 * banned for `durationSeconds`. Memory stays bounded: stale entries are dropped by `sweep()`.
 */
export function connectGuard(options, now = Date.now) {
    const windowMs = options.windowSeconds * 1000;
    const banMs = options.durationSeconds * 1000;
    const failures = new Map();
    const bannedUntil = new Map();
    const isBanned = (key) => {
        const until = bannedUntil.get(key);
        if (until === undefined)
            return false;
        if (until > now())
            return true;
        bannedUntil.delete(key);
        return false;
    };
    const fail = (key, limit) => {
        const t = now();
        const list = (failures.get(key) ?? []).filter((at) => t - at < windowMs);
        list.push(t);
        if (list.length >= limit) {
            failures.delete(key);
            bannedUntil.set(key, t + banMs);
            return true;
        }
        failures.set(key, list);
        return false;
    };
    return {
        /** Is this address or this user name banned right now? */
        banned(address, username) {
            return (address !== undefined && isBanned(`a:${address}`)) || (username !== undefined && isBanned(`u:${username}`));
        },
        /** Records a failed CONNECT; returns what became banned by it. */
        failure(address, username) {
            return {
                address: address !== undefined && fail(`a:${address}`, options.maxFailuresPerAddress),
                username: username !== undefined && fail(`u:${username}`, options.maxFailuresPerUsername),
            };
        },
        /** A successful CONNECT clears that user name's failures (not the address's: others share it). */
        success(username) {
            if (username !== undefined)
                failures.delete(`u:${username}`);
        },
        sweep() {
            const t = now();
            for (const [key, list] of failures)
                if (list.every((at) => t - at >= windowMs))
                    failures.delete(key);
            for (const [key, until] of bannedUntil)
                if (until <= t)
                    bannedUntil.delete(key);
        },
        bannedCount() {
            return bannedUntil.size;
        },
    };
}
