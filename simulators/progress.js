export function formatStats(s, ratePerSecond) {
    const errors = Object.values(s.connectErrors).reduce((a, b) => a + b, 0) + s.failed;
    return [
        `connected ${s.connected}/${s.devices}`,
        `sent ${s.sent}`,
        `${ratePerSecond.toFixed(0)} msg/s`,
        `acked ${s.acked}`,
        `rejected ${s.rejectedTotal}`,
        `errors ${errors}`,
        `reconnects ${s.reconnects}`,
        s.dropped ? `dropped ${s.dropped}` : '',
    ]
        .filter(Boolean)
        .join(' | ');
}
export function createProgress(out, read, everyMs) {
    const tty = out.isTTY === true;
    const period = everyMs ?? (tty ? 1000 : 5000);
    let lastSent = 0;
    let lastAt = Date.now();
    const timer = setInterval(() => {
        const s = read();
        const now = Date.now();
        const rate = ((s.sent - lastSent) / Math.max(1, now - lastAt)) * 1000;
        lastSent = s.sent;
        lastAt = now;
        const line = formatStats(s, rate);
        out.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    }, period);
    timer.unref();
    return {
        stop() {
            clearInterval(timer);
            if (tty)
                out.write('\n');
        },
    };
}
