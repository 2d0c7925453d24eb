// A client process of bench:connections: opens COUNT idle MQTT connections (raw CONNECT, keepalive,
// one subscription to the device's own error topic, then nothing but PINGREQs), at RATE per second,
// spread over several loopback source addresses, and keeps them open until told to exit.
// Parent → child: { cmd: 'exit' }. Child → parent: { progress: { connected, failed } } | { done: { connected, failed, errors } }
import { rawConnect, type RawClient } from './raw-mqtt.ts';

const o = JSON.parse(process.env.HAZWATCH_BENCH_IDLE!) as { host: string; port: number; first: number; count: number; rate: number; keepalive: number; prefix: string };
const clients: RawClient[] = [];
let failed = 0;
const errors: Record<string, number> = {};

async function main(): Promise<void> {
  let next = 0;
  const started = Date.now();
  const report = setInterval(() => process.send!({ progress: { connected: clients.length, failed } }), 1000);
  const one = async (i: number) => {
    const id = `idle-${i}`;
    try {
      // 127.0.0.2 ... 127.0.0.9: 8 source addresses, so the ephemeral ports of one address never run out.
      const c = await rawConnect({ host: o.host, port: o.port, clientId: `${o.prefix}${id}`, keepalive: o.keepalive, localAddress: `127.0.0.${2 + (i % 8)}` });
      await c.subscribe(`hw/v1/idle/${id}/error`, 1);
      clients.push(c);
    } catch (err) {
      failed++;
      const m = (err as Error).message.replace(/\d+\.\d+\.\d+\.\d+:\d+/g, '<addr>');
      errors[m] = (errors[m] ?? 0) + 1;
    }
  };
  const inFlight = new Set<Promise<void>>();
  while (next < o.count) {
    const due = Math.min(o.count, Math.floor(((Date.now() - started) / 1000) * o.rate));
    while (next < due && inFlight.size < 200) {
      const p = one(o.first + next++).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  await Promise.all(inFlight);
  clearInterval(report);
  process.send!({ done: { connected: clients.length, failed, errors } });
}

process.on('message', (m: { cmd: string }) => {
  if (m.cmd === 'exit') {
    for (const c of clients) c.socket.destroy();
    setTimeout(() => process.exit(0), 100);
  }
});
main().catch((err) => {
  console.error(err);
  process.exit(1);
});
