// Child processes of the benchmarks and fault tests: each hazwatch component (and InfluxDB, Mosquitto)
// as a real process of its own, started, waited for, measured from /proc and stopped again.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { waitFor } from '../../test/support/net.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

export interface Service {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last 200 kB of stdout and stderr, merged. */
  output(): string;
  /** Resolves when the output matches `pattern` after `from` (an offset into the output). */
  waitFor(pattern: RegExp, timeoutMs?: number, from?: number): Promise<void>;
  /** Characters written so far (an offset for waitFor). */
  mark(): number;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * What each `hazwatch` process logs once it can do its job. ingest is ready once subscribed, or once it
 * finds its persistent session (then it does not subscribe again); "connected" alone is too early:
 * messages published before its SUBSCRIBE reach nobody.
 */
export const READY = {
  broker: /broker listening/,
  ingest: /"subscribed"|"sessionPresent":true/,
  rules: /rules connected and subscribed/,
  api: /API and console listening/,
} as const;

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** The process is ready when its output matches this. */
  ready: RegExp;
  command?: string;
  timeoutMs?: number;
  /** Extra arguments of node itself (e.g. --cpu-prof, which NODE_OPTIONS does not allow). */
  nodeArgs?: string[];
}

/** Spawns `node bin/hazwatch.js <args>` (or `command`), resolves once it prints `ready`. */
export async function startService(name: string, args: string[], opts: SpawnOptions): Promise<Service> {
  const child = spawn(opts.command ?? process.execPath, opts.command ? args : ['--max-semi-space-size=32', ...(opts.nodeArgs ?? []), 'bin/hazwatch.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let total = 0;
  const keep = (d: Buffer) => {
    out += d;
    total += d.length;
    if (out.length > 400_000) out = out.slice(-200_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const service: Service = {
    name,
    child,
    pid: child.pid!,
    output: () => out,
    mark: () => total,
    async waitFor(pattern, timeoutMs = 60_000, from = 0) {
      await waitFor(() => {
        const skip = Math.max(0, from - (total - out.length));
        return pattern.test(out.slice(skip)) || child.exitCode !== null;
      }, timeoutMs, 50).catch((err) => {
        throw new Error(`${name}: ${(err as Error).message} waiting for ${pattern}\n${out.slice(-3000)}`);
      });
      if (child.exitCode !== null && !pattern.test(out)) throw new Error(`${name} exited (${child.exitCode}):\n${out.slice(-3000)}`);
    },
    stop(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      return new Promise<void>((r) => {
        const t = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(t);
          r();
        });
        child.kill(signal);
      });
    },
  };
  try {
    await service.waitFor(opts.ready, opts.timeoutMs ?? 60_000);
  } catch (err) {
    // Never leave a half-started process behind.
    child.kill('SIGKILL');
    throw err;
  }
  return service;
}

const CLK_TCK = 100; // Linux USER_HZ; /proc times are in these ticks

export interface ProcSample {
  at: number;
  /** CPU seconds (user + system) since the process started. */
  cpuSeconds: number;
  rssMb: number;
  /** Peak resident set of the whole life of the process (VmHWM). */
  hwmMb: number;
}

/** One reading of /proc/<pid>/stat and status; undefined once the process is gone. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(f[11]) + Number(f[12])) / CLK_TCK;
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { at: performance.now(), cpuSeconds, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
  } catch {
    return undefined;
  }
}

/** Watches processes during a phase: CPU share (1.0 = one core) and the peak RSS seen. */
export function watchProcs(pids: Record<string, number>, everyMs = 250) {
  const first = new Map<string, ProcSample>();
  const last = new Map<string, ProcSample>();
  const peak = new Map<string, number>();
  const tick = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const s = sampleProc(pid);
      if (!s) continue;
      if (!first.has(name)) first.set(name, s);
      last.set(name, s);
      peak.set(name, Math.max(peak.get(name) ?? 0, s.rssMb));
    }
  };
  tick();
  const timer = setInterval(tick, everyMs);
  return {
    stop(): Record<string, { cpu: number; peakRssMb: number }> {
      clearInterval(timer);
      tick();
      const out: Record<string, { cpu: number; peakRssMb: number }> = {};
      for (const name of Object.keys(pids)) {
        const a = first.get(name);
        const b = last.get(name);
        out[name] = {
          cpu: a && b && b.at > a.at ? Math.round(((b.cpuSeconds - a.cpuSeconds) / ((b.at - a.at) / 1000)) * 100) / 100 : NaN,
          peakRssMb: Math.round(peak.get(name) ?? NaN),
        };
      }
      return out;
    },
  };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** The machine, for the record next to every figure. */
export function machine(): string {
  const os = process.getBuiltinModule?.('node:os') as typeof import('node:os');
  const mem = Math.round(os.totalmem() / 2 ** 30);
  return `${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${mem} GiB RAM, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`;
}
