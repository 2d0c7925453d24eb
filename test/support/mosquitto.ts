// A Mosquitto of one's own (Debian's package), the peer beside which the broker's behaviour is
// checked: a free loopback port, its configuration (and access file, when given) in a temporary
// directory, nothing persisted.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';
import { childServer } from './server.ts';

export interface OwnMosquitto {
  url: string;
  port: number;
  start(): Promise<void>;
  remove(): Promise<void>;
}

export function findMosquitto(): string | undefined {
  return ['/usr/sbin/mosquitto', '/usr/bin/mosquitto', '/usr/local/sbin/mosquitto'].find((p) => existsSync(p));
}

/** Anonymous clients allowed; `acl` is the text of an acl_file (Mosquitto's syntax) when given. */
export async function ownMosquitto(options: { acl?: string } = {}): Promise<OwnMosquitto> {
  const bin = findMosquitto();
  if (!bin) throw new Error("mosquitto not found: install Debian's mosquitto package (bash .ci/run does)");
  const dir = mkdtempSync(join(tmpdir(), 'hazwatch-mosquitto-'));
  // Run as root, Mosquitto drops to its own user before it reads the access file.
  chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false', 'log_dest none'];
  if (options.acl !== undefined) {
    writeFileSync(join(dir, 'acl'), options.acl, { mode: 0o644 });
    conf.push(`acl_file ${join(dir, 'acl')}`);
  }
  writeFileSync(join(dir, 'mosquitto.conf'), `${conf.join('\n')}\n`);
  const server = childServer({
    name: 'mosquitto',
    command: bin,
    args: ['-c', join(dir, 'mosquitto.conf')],
    ready: () =>
      new Promise((resolve) => {
        const s = createConnection({ host: '127.0.0.1', port });
        s.once('connect', () => (s.destroy(), resolve(true)));
        s.once('error', () => resolve(false));
      }),
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    port,
    start: server.start,
    async remove() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Runs Mosquitto's own client (`mosquitto_pub` / `mosquitto_sub`, MQTT 3.1.1) against the broker on
 * loopback `port`, and gives its exit code and output (stdout and stderr together).
 */
export function mosquittoClient(cmd: 'mosquitto_pub' | 'mosquitto_sub', port: number, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, ['-h', '127.0.0.1', '-p', String(port), '-V', 'mqttv311', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out }));
  });
}
