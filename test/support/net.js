import { createServer } from 'node:net';
/** A TCP port free on loopback right now. */
export function freePort() {
    return new Promise((resolve, reject) => {
        const server = createServer();
        server.unref();
        server.on('error', reject);
        server.listen(0, '127.0.0.1', () => {
            const { port } = server.address();
            server.close(() => resolve(port));
        });
    });
}
/** Polls `check` until it returns true; rejects after `timeoutMs`. */
export async function waitFor(check, timeoutMs = 10000, everyMs = 50) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        if (await check())
            return;
        if (Date.now() > deadline)
            throw new Error(`condition not met within ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, everyMs));
    }
}
