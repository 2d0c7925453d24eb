// bench:machine — what the machine charges for the things the hot path does per message, to read the
// other benchmarks by: a system call, waking a process with a socket write, and a Map lookup whose
// memory is no longer in the CPU's caches (the state of one device among thousands, touched once per
// reading). On bare metal these are about 0.1–0.3 µs, 5–10 µs and 0.1 µs; on a virtual machine with
// nested paging they can be ten times that, which is what bench:fleet's CPU per reading then shows.
//
//   npm run bench:machine
import { fork } from 'node:child_process';
import { openSync, writeSync } from 'node:fs';
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import { machine } from './lib/procs.ts';

if (process.argv[2] === 'reader') {
  // The woken side: reads whatever arrives, reports its CPU when asked.
  const socket = connect(Number(process.argv[3]), '127.0.0.1');
  let bytes = 0;
  socket.on('data', (d) => (bytes += d.length));
  process.on('message', () => {
    const u = process.cpuUsage();
    process.send!({ bytes, cpuUs: u.user + u.system });
  });
} else {
  await main();
}

async function main(): Promise<void> {
  console.log(`bench:machine ${new Date().toISOString()} on ${machine()}`);
  const rows: [string, string, string][] = [];

  // A system call: write(2) of 4 bytes to /dev/null, CPU per call.
  const fd = openSync('/dev/null', 'w');
  const four = Buffer.alloc(4);
  const calls = 200_000;
  let c0 = process.cpuUsage();
  for (let i = 0; i < calls; i++) writeSync(fd, four);
  let c = process.cpuUsage(c0);
  rows.push(['system call (write of 4 bytes to /dev/null)', ((c.user + c.system) / calls).toFixed(2), 'µs CPU per call']);

  // One turn of the event loop with nothing to do but a setImmediate (an epoll_wait with timeout 0).
  let turns = 0;
  c0 = process.cpuUsage();
  await new Promise<void>((resolve) => {
    const next = () => (++turns < 100_000 ? setImmediate(next) : resolve());
    setImmediate(next);
  });
  c = process.cpuUsage(c0);
  rows.push(['event-loop turn (setImmediate, epoll_wait 0)', ((c.user + c.system) / turns).toFixed(2), 'µs CPU per turn']);

  // Waking another Node process: one socket write per millisecond, each a wakeup of the reader.
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const accepted = new Promise<Socket>((r) => server.once('connection', r));
  const reader = fork(new URL(import.meta.url).pathname, ['reader', String(port)], { execArgv: ['--import', 'tsx'] });
  const socket = await accepted;
  const ask = () => new Promise<{ bytes: number; cpuUs: number }>((r) => {
    reader.once('message', (m) => r(m as { bytes: number; cpuUs: number }));
    reader.send('cpu');
  });
  await new Promise((r) => setTimeout(r, 500));
  for (const perTick of [1, 20]) {
    const before = await ask();
    let writes = 0;
    const start = Date.now();
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        for (let i = 0; i < perTick; i++) socket.write('x');
        writes += perTick;
        if (Date.now() - start >= 4000) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    await new Promise((r) => setTimeout(r, 200));
    const after = await ask();
    const wakeups = writes / perTick;
    rows.push([
      perTick === 1 ? 'wakeup of a Node process by a socket write' : `wakeup of a Node process by ${perTick} socket writes in a row`,
      ((after.cpuUs - before.cpuUs) / wakeups).toFixed(1),
      `µs CPU of the reader per wakeup (${((after.cpuUs - before.cpuUs) / writes).toFixed(1)} per write)`,
    ]);
  }
  reader.kill();
  socket.destroy();
  server.close();

  // Map lookups of 5,000 device topics with a fresh string each time, caches warm and cold.
  const n = 5000;
  const topics = Array.from({ length: n }, (_, i) => `hw/v1/bench/gd-${String(i).padStart(5, '0')}/telemetry`);
  const map = new Map(topics.map((t, i) => [t, { i }]));
  const raw = topics.map((t) => Buffer.from(t));
  const junk = new Float64Array(4 << 20);
  let sink = 0;
  const lookups = 20_000;
  for (const cold of [false, true]) {
    let spent = 0n;
    let spentEmpty = 0n;
    for (let k = 0; k < lookups; k++) {
      // 32 MB of scattered writes in between: what thousands of other messages do to the caches.
      if (cold) for (let j = 0; j < 40_000; j++) junk[(j * 2654435761) % junk.length] += 1;
      const b = raw[(k * 7919) % n];
      const topic = b.toString('latin1');
      const t0 = process.hrtime.bigint();
      sink += map.get(topic)!.i;
      const t1 = process.hrtime.bigint();
      sink += topic.length;
      const t2 = process.hrtime.bigint();
      spent += t1 - t0;
      spentEmpty += t2 - t1;
    }
    rows.push([`Map lookup, 5,000 topics, fresh key string, caches ${cold ? 'cold' : 'warm'}`, (Number(spent - spentEmpty) / lookups / 1000).toFixed(2), 'µs wall per lookup (timer cost subtracted)']);
  }
  if (sink < 0) console.log(sink);

  console.log('\n| what | cost | unit |\n|---|---:|---|');
  for (const [what, cost, unit] of rows) console.log(`| ${what} | ${cost} | ${unit} |`);
  process.exit(0);
}
