// HAProxy (Debian's package) in front of several broker nodes (and API nodes), as a cluster's devices
// and operators see it, run from the very file the cluster profile of docker-compose.yml ships
// (deploy/haproxy/haproxy.cfg): only the listening addresses, the container host names (replaced with
// loopback ports) and the global connection limit differ. Used by the cluster benchmark and the fault tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { waitFor } from '../../test/support/net.ts';

const SHIPPED = new URL('../../deploy/haproxy/haproxy.cfg', import.meta.url);

/**
 * The shipped configuration for loopback: MQTT on `port` to `brokers`, HTTP on `api.port` to
 * `api.nodes` (the HTTP frontend dropped without `api`).
 */
export function haproxyConfig(port: number, brokers: number[], api?: { port: number; nodes: number[] }): string {
  const lines = readFileSync(SHIPPED, 'utf8').split('\n');
  const out: string[] = [];
  let section = '';
  for (const line of lines) {
    if (/^\S/.test(line)) section = line.trim();
    if (!api && /^(frontend|backend) api$/.test(section)) continue;
    const server = /^(\s+)server (broker|api)-1 \S+ (.*)$/.exec(line);
    if (server) {
      const [, indent, kind, options] = server;
      const ports = kind === 'broker' ? brokers : api!.nodes;
      ports.forEach((p, i) => out.push(`${indent}server ${kind}-${i + 1} 127.0.0.1:${p} ${options}`));
      continue;
    }
    if (/^\s+server (broker|api)-\d+ /.test(line)) continue;
    // The shipped maxconn needs the container's raised file limit (ulimits in docker-compose.yml);
    // the loopback runs open a few thousand connections at most.
    if (/^\s+maxconn \d+$/.test(line)) {
      out.push(line.replace(/\d+$/, '4000'));
      continue;
    }
    out.push(line.replace(/^(\s+)bind :1883$/, `$1bind 127.0.0.1:${port}`).replace(/^(\s+)bind :8080$/, `$1bind 127.0.0.1:${api?.port}`));
  }
  return out.join('\n');
}

export interface Haproxy {
  child: ChildProcess;
  pid: number;
  stop(): void;
}

/** Starts HAProxy on 127.0.0.1:`port` balancing to the MQTT listeners on `backends` (and HTTP to `api`); config file in `dir`. */
export async function startHaproxy(dir: string, port: number, backends: number[], api?: { port: number; nodes: number[] }): Promise<Haproxy> {
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(cfg, haproxyConfig(port, backends, api));
  const child = spawn('haproxy', ['-f', cfg, '-db'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const passes = async () => {
    try {
      const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 500 });
      await c.endAsync();
    } catch (err) {
      // A CONNACK refusal (no credentials) means HAProxy passed the connection to a broker.
      return typeof (err as { code?: unknown }).code === 'number';
    }
    return true;
  };
  await waitFor(passes, 15_000, 200).catch(() => {
    child.kill('SIGKILL');
    throw new Error(`haproxy did not start: ${stderr}`);
  });
  return { child, pid: child.pid!, stop: () => child.kill('SIGKILL') };
}
