// bench:codec — what the broker and the platform's MQTT clients pay per packet in the MQTT codec
// (mqtt-packet, used by aedes and mqtt.js): as the libraries come ("plain"), with each of the platform's
// three layers alone, and with all ("hazwatch"). The layers: disabled `debug` loggers made free
// (core/quiet-debug.ts), the bytes of one loop turn gathered into one socket write (core/coalesce.ts),
// and the parser's header reads done in place in its buffer list (core/buffer-list-reads.ts).
// Each variant runs in a process of its own (`debug` must be quieted before mqtt-packet loads), five
// rounds, median:
//   parse  — QoS 1 PUBLISH packets of a fleet reading, fed in 64 kB chunks as a busy socket delivers them
//   write  — a PUBLISH and a PUBACK per message written to a real TCP socket, 200 messages per loop turn
//            (aedes delivers a batch of messages in one turn)
// Figures: CPU µs per packet (parse) or per message (write), and scavenges per 10,000 of them.
//
//   npm run bench:codec
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { PerformanceObserver } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { readBufferListsInPlace } from '../core/buffer-list-reads.ts';
import { coalesceWrites } from '../core/coalesce.ts';
import { machine } from './lib/procs.ts';

// Each layer alone too, to tell what each one buys.
const VARIANTS = ['plain', 'quiet-debug', 'gathered', 'in-place', 'hazwatch'] as const;
type Variant = (typeof VARIANTS)[number];
interface Figures {
  parseUs: number;
  parseScavenges: number;
  writeUs: number;
  writeScavenges: number;
}
const PARSE_PACKETS = 1_000_000;
const WRITE_MESSAGES = 400_000;
const ROUNDS = 5;

if (process.argv[2] === 'variant') {
  process.send!(await measure(process.argv[3] as Variant));
  process.exit(0);
} else {
  await main();
}

async function main(): Promise<void> {
  console.log(`bench:codec ${new Date().toISOString()} on ${machine()}`);
  const results = new Map<Variant, Figures[]>(VARIANTS.map((v) => [v, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of VARIANTS) {
      const child = fork(fileURLToPath(import.meta.url), ['variant', variant], { execArgv: ['--import', 'tsx', '--max-semi-space-size=32'] });
      const [figures] = (await once(child, 'message')) as [Figures];
      results.get(variant)!.push(figures);
    }
  }
  const median = (v: Variant, k: keyof Figures) => results.get(v)!.map((f) => f[k]).sort((a, b) => a - b)[Math.floor(ROUNDS / 2)];
  console.log('\nvariant       parse µs/packet  scavenges/10k   write µs/message  scavenges/10k');
  for (const v of VARIANTS) {
    console.log(
      `${v.padEnd(13)} ${median(v, 'parseUs').toFixed(2).padStart(15)} ${median(v, 'parseScavenges').toFixed(1).padStart(14)} ${median(v, 'writeUs').toFixed(2).padStart(18)} ${median(v, 'writeScavenges').toFixed(1).padStart(14)}`,
    );
  }
  const ratio = (k: keyof Figures) => (median('plain', k) / median('hazwatch', k)).toFixed(2);
  console.log(`\nratios plain / hazwatch (higher: hazwatch cheaper): parse CPU ${ratio('parseUs')}x, parse scavenges ${ratio('parseScavenges')}x, write CPU ${ratio('writeUs')}x, write scavenges ${ratio('writeScavenges')}x`);
}

async function measure(variant: Variant): Promise<Figures> {
  const quiet = variant === 'quiet-debug' || variant === 'hazwatch';
  const gathered = variant === 'gathered' || variant === 'hazwatch';
  const inPlace = variant === 'in-place' || variant === 'hazwatch';
  if (quiet) (await import('../core/quiet-debug.ts')).quietDisabledDebug();
  if (inPlace) readBufferListsInPlace();
  const { default: mqttPacket } = await import('mqtt-packet');
  let scavenges = 0;
  new PerformanceObserver((list) => (scavenges += list.getEntries().length)).observe({ entryTypes: ['gc'] });
  const topic = 'hw/v1/bench/lel-1234/telemetry';
  const payload = Buffer.from(`{"ts":${Date.now()},"values":{"lel":4.27}}`);

  // parse
  const packet = mqttPacket.generate({ cmd: 'publish', topic, payload, qos: 1, messageId: 42, retain: false, dup: false });
  const perChunk = Math.floor(65536 / packet.length);
  const chunk = Buffer.concat(Array(perChunk).fill(packet));
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let parsed = 0;
  parser.on('packet', () => parsed++);
  const parseOnce = async (n: number) => {
    parsed = 0;
    await new Promise((r) => setImmediate(r));
    scavenges = 0;
    const c0 = process.cpuUsage();
    for (let i = 0; i < n / perChunk; i++) parser.parse(chunk);
    const c = process.cpuUsage(c0);
    await new Promise((r) => setTimeout(r, 100)); // gc entries are delivered asynchronously
    return { us: (c.user + c.system) / parsed, scavenges: (scavenges * 10_000) / parsed };
  };
  await parseOnce(PARSE_PACKETS / 4); // warm-up
  const parse = await parseOnce(PARSE_PACKETS);

  // write
  const server = createServer((s) => s.resume());
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
  await once(socket, 'connect');
  socket.setNoDelay(true);
  if (gathered) coalesceWrites(socket);
  const writeOnce = async (n: number) => {
    await new Promise((r) => setImmediate(r));
    scavenges = 0;
    const c0 = process.cpuUsage();
    for (let sent = 0; sent < n; ) {
      for (let i = 0; i < 200; i++, sent++) {
        const messageId = (sent % 65535) + 1;
        mqttPacket.writeToStream({ cmd: 'publish', topic, payload, qos: 1, messageId, retain: false, dup: false }, socket as Socket);
        mqttPacket.writeToStream({ cmd: 'puback', messageId }, socket as Socket);
      }
      await new Promise((r) => setImmediate(r));
      if (socket.writableNeedDrain) await once(socket, 'drain');
    }
    const c = process.cpuUsage(c0);
    await new Promise((r) => setTimeout(r, 100));
    return { us: (c.user + c.system) / n, scavenges: (scavenges * 10_000) / n };
  };
  await writeOnce(WRITE_MESSAGES / 4);
  const write = await writeOnce(WRITE_MESSAGES);
  socket.destroy();
  server.close();
  return { parseUs: parse.us, parseScavenges: parse.scavenges, writeUs: write.us, writeScavenges: write.scavenges };
}
