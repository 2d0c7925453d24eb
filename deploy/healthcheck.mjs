// Container health checks without curl or netcat in the image (node is there anyway):
//   node deploy/healthcheck.mjs listen <port>      something listens on <port> (broker)
//   node deploy/healthcheck.mjs connected <port>   this container holds an established TCP
//                                                  connection to remote <port> (ingest and rules: to the broker)
//   node deploy/healthcheck.mjs http <url>         GET <url> answers 2xx (API /readyz)
import { readFileSync } from 'node:fs';

const [mode, arg] = process.argv.slice(2);

/** Sockets of this network namespace from /proc/net/tcp{,6}: [localPort, remotePort, state]. */
function sockets() {
  const rows = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.trim().split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      rows.push([parseInt(f[1].split(':')[1], 16), parseInt(f[2].split(':')[1], 16), f[3]]);
    }
  }
  return rows;
}

const LISTEN = '0A';
const ESTABLISHED = '01';
let ok = false;
if (mode === 'listen') ok = sockets().some(([local, , state]) => local === Number(arg) && state === LISTEN);
else if (mode === 'connected') ok = sockets().some(([, remote, state]) => remote === Number(arg) && state === ESTABLISHED);
else if (mode === 'http') {
  const res = await fetch(arg, { signal: AbortSignal.timeout(4000) }).catch(() => undefined);
  ok = !!res && res.status >= 200 && res.status < 300;
} else {
  console.error('usage: healthcheck.mjs listen <port> | connected <port> | http <url>');
  process.exit(2);
}
process.exit(ok ? 0 : 1);
