// Drives bench/lib/fleet-load.ts (the load generator process) from a benchmark or a fault test.
import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './procs.ts';

export interface LoadInit {
  host: string;
  port: number;
  enterprise: string;
  devices: string[];
  gateways: { username: string; password: string; clientId: string; enterprise?: string }[];
  batch?: number;
  window?: number;
  /** Return every reading's topic and time in `done.ledger` (fault tests; memory grows with the run). */
  ledger?: boolean;
}

export interface LoadDone {
  sent: number;
  acked: number;
  messages: number;
  firstTs: number;
  lastTs: number;
  seconds: number;
  /** Epoch ms of the last publish of the run (before waiting for acknowledgements). */
  publishedAt: number;
  waitedTicks: number;
  /** With `ledger`: the times of the readings published, by topic. */
  ledger?: Record<string, number[]>;
}

export interface Load {
  child: ChildProcess;
  pid: number;
  /** Publishes at `rate` readings/s for `seconds`; resolves once the broker acknowledged everything (or 60 s). */
  run(rate: number, seconds: number, onProgress?: (p: { at: number; sent: number; acked: number }) => void): Promise<LoadDone>;
  exit(): void;
}

export async function startLoad(init: LoadInit): Promise<Load> {
  const child = fork(join(ROOT, 'bench/lib/fleet-load.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, HAZWATCH_BENCH_LOAD: JSON.stringify({ batch: 1, window: 2000, ...init }) },
  });
  const listeners = new Set<(m: Record<string, unknown>) => void>();
  child.on('message', (m) => listeners.forEach((f) => f(m as Record<string, unknown>)));
  await new Promise<void>((resolve, reject) => {
    const f = (m: Record<string, unknown>) => m.ready && (listeners.delete(f), resolve());
    listeners.add(f);
    child.once('exit', (code) => reject(new Error(`load generator exited ${code}`)));
  });
  return {
    child,
    pid: child.pid!,
    run(rate, seconds, onProgress) {
      return new Promise((resolve) => {
        const f = (m: Record<string, unknown>) => {
          if (m.progress) onProgress?.(m.progress as never);
          if (m.done) {
            listeners.delete(f);
            resolve(m.done as LoadDone);
          }
        };
        listeners.add(f);
        child.send({ cmd: 'run', rate, seconds });
      });
    },
    exit() {
      if (child.connected) child.send({ cmd: 'exit' });
      setTimeout(() => child.kill(), 1000).unref();
    },
  };
}
