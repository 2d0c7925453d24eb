// A server of one's own for tests (PostgreSQL, Redis): spawned, ready once `ready()` answers, stopped
// with `stopSignal` and waited for; never left behind by a test process that ends without its afterAll.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface ChildServer {
  pid(): number | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function childServer(options: {
  name: string;
  command: string;
  args: string[];
  spawn?: SpawnOptions;
  ready: () => Promise<boolean>;
  stopSignal?: NodeJS.Signals;
  startTimeoutMs?: number;
}): ChildServer {
  let child: ChildProcess | undefined;
  return {
    pid: () => child?.pid,
    async start() {
      let output = '';
      const c = spawn(options.command, options.args, { ...options.spawn, stdio: ['ignore', 'pipe', 'pipe'] });
      child = c;
      const reap = () => c.kill('SIGKILL');
      process.once('exit', reap);
      c.once('exit', () => process.off('exit', reap));
      const keep = (d: Buffer) => (output = (output + d).slice(-4000));
      c.stdout?.on('data', keep);
      c.stderr?.on('data', keep);
      const timeoutMs = options.startTimeoutMs ?? 30_000;
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        if (c.exitCode !== null) throw new Error(`${options.name} exited: ${output}`);
        if (await options.ready()) return;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`${options.name} did not start within ${timeoutMs} ms: ${output}`);
    },
    async stop() {
      const c = child;
      child = undefined;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill(options.stopSignal ?? 'SIGTERM');
      });
    },
  };
}
