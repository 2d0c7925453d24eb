// The load generator of bench:fleet, in a process of its own (forked by bench/fleet.ts) so that its CPU
// and memory are measured apart from the system under test. It publishes the readings of DEVICES
// combustible gas detectors through a few gateway connections, QoS1, paced in 5 ms ticks to the rate
// asked for, each connection with at most WINDOW unacknowledged messages (beyond that the generator
// waits: the figure it reports is what it really got through, not what it was asked for).
//
// Parent → child: { cmd: 'run', rate, seconds } | { cmd: 'exit' }
// Child → parent: { ready } | { progress: { at, sent, acked } } | { done: { sent, acked, messages, firstTs, lastTs, seconds, publishedAt, waitedTicks } }
import { rawConnect, type RawClient } from './raw-mqtt.ts';

interface Init {
  host: string;
  port: number;
  enterprise: string;
  devices: string[];
  /** Each gateway publishes for its own enterprise when it names one (a cluster's partitions), else for `enterprise`. */
  gateways: { username: string; password: string; clientId: string; enterprise?: string }[];
  /** Readings per message (1 = one reading per MQTT message, like most devices). */
  batch: number;
  window: number;
  /** Keep every reading's topic and time, for a fault test to name the ones it cannot find (done.ledger). */
  ledger?: boolean;
}

const init = JSON.parse(process.env.HAZWATCH_BENCH_LOAD!) as Init;
const send = (m: unknown) => process.send!(m);

async function main(): Promise<void> {
  const clients: RawClient[] = [];
  for (const [i, g] of init.gateways.entries()) {
    clients.push(await rawConnect({ host: init.host, port: init.port, clientId: `${g.clientId}:load${i}`, username: g.username, password: g.password, keepalive: 60 }));
  }
  const lastTs = new Float64Array(init.devices.length);
  const topicsOf = init.gateways.map((g) => init.devices.map((d) => `hw/v1/${g.enterprise ?? init.enterprise}/${d}/telemetry`));
  let sent = 0;
  let messages = 0;
  const next = init.gateways.map((_, i) => Math.floor((i * init.devices.length) / init.gateways.length));
  const ackedTotal = () => clients.reduce((n, c) => n + c.acked(), 0) * init.batch;
  const ledger: Record<string, number[]> | undefined = init.ledger ? {} : undefined;
  const note = (topic: string, ts: number) => (ledger![topic] ??= []).push(ts);

  function publishOne(c: number, now: number): void {
    const client = clients[c];
    const topics = topicsOf[c];
    // Each connection walks the whole device list: with one enterprise per connection, every device of
    // every enterprise is published, not only those whose index falls on that connection's turn.
    const d = next[c];
    next[c] = (d + 1) % topics.length;
    let body: string;
    if (init.batch === 1) {
      const ts = Math.max(now, lastTs[d] + 1);
      lastTs[d] = ts;
      if (ledger) note(topics[d], ts);
      body = `{"ts":${ts},"values":{"lel":${(Math.random() * 10).toFixed(2)}}}`;
    } else {
      const readings: string[] = [];
      for (let k = 0; k < init.batch; k++) {
        const ts = Math.max(now, lastTs[d] + 1);
        lastTs[d] = ts;
        if (ledger) note(topics[d], ts);
        readings.push(`{"ts":${ts},"values":{"lel":${(Math.random() * 10).toFixed(2)}}}`);
      }
      body = `{"readings":[${readings.join(',')}]}`;
    }
    client.publish(topics[d], body, 1);
    sent += init.batch;
    messages++;
  }

  async function run(rate: number, seconds: number): Promise<void> {
    const sent0 = sent;
    const acked0 = ackedTotal();
    const messages0 = messages;
    const t0 = Date.now();
    const firstTs = t0;
    let waitedTicks = 0;
    let c = 0;
    const progress = setInterval(() => send({ progress: { at: Date.now(), sent: sent - sent0, acked: ackedTotal() - acked0 } }), 250);
    await new Promise<void>((resolve) => {
      const tick = () => {
        const now = Date.now();
        const elapsed = now - t0;
        if (elapsed >= seconds * 1000) return resolve();
        let due = Math.floor((elapsed * rate) / 1000) - (sent - sent0);
        let full = 0;
        while (due > 0 && full < clients.length) {
          const at = c;
          c = (c + 1) % clients.length;
          if (clients[at].inflight() >= init.window) {
            full++;
            continue;
          }
          full = 0;
          publishOne(at, now);
          due -= init.batch;
        }
        if (due > 0) waitedTicks++;
        setTimeout(tick, 5);
      };
      tick();
    });
    const publishedAt = Date.now();
    // Wait (at most 60 s) for the broker to acknowledge everything sent.
    const until = Date.now() + 60_000;
    while (clients.some((cl) => cl.inflight() > 0) && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    clearInterval(progress);
    send({
      done: {
        sent: sent - sent0,
        acked: ackedTotal() - acked0,
        messages: messages - messages0,
        firstTs,
        lastTs: Math.max(...lastTs),
        seconds: (publishedAt - t0) / 1000,
        publishedAt,
        waitedTicks,
        ...(ledger ? { ledger } : {}),
      },
    });
  }

  process.on('message', (m: { cmd: string; rate?: number; seconds?: number }) => {
    if (m.cmd === 'run') void run(m.rate!, m.seconds!);
    else if (m.cmd === 'exit') {
      for (const cl of clients) cl.close();
      setTimeout(() => process.exit(0), 200);
    }
  });
  send({ ready: true });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
