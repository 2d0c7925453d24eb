// HAProxy (Debian's package) in front of several broker nodes, as a cluster's devices see it: TCP
// pass-through to the nodes, a node that stops answering out within a second, a connection that finds
// it refused sent to another node (redispatch). Used by the cluster benchmark and the fault tests.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { waitFor } from '../../test/support/net.ts';

export interface Haproxy {
  child: ChildProcess;
  pid: number;
  stop(): void;
}

/** Starts HAProxy on 127.0.0.1:`port` balancing to the MQTT listeners on `backends`; config file in `dir`. */
export async function startHaproxy(dir: string, port: number, backends: number[]): Promise<Haproxy> {
  const cfg = join(dir, 'haproxy.cfg');
  writeFileSync(
    cfg,
    `global\n  maxconn 8000\ndefaults\n  mode tcp\n  timeout connect 1s\n  timeout client 300s\n  timeout server 300s\n  retries 3\n  option redispatch\n` +
      `frontend mqtt\n  bind 127.0.0.1:${port}\n  default_backend brokers\n` +
      `backend brokers\n  balance roundrobin\n` +
      backends.map((p, i) => `  server node${i} 127.0.0.1:${p} check inter 300 fall 2 rise 2 on-marked-down shutdown-sessions\n`).join(''),
  );
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
