// The one command line: hazwatch <command> [flags]. Parses flags, loads and validates the
// configuration once, builds the logger and metrics registry, runs the command, and stops
// long-running services cleanly on SIGINT/SIGTERM.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { setPriority } from 'node:os';
import { HazwatchError } from '../contract/errors.ts';
import type { Command, Service } from '../core/command.ts';
import { loadConfig } from '../core/config.ts';
import { createLogger } from '../core/log.ts';
import { createMetricsRegistry } from '../core/metrics.ts';
import { serveOps } from '../core/ops-server.ts';
import { COMMANDS } from './commands.ts';

const COMMON_OPTIONS: NonNullable<ParseArgsConfig['options']> = {
  config: { type: 'string', short: 'c' },
  'log-level': { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: hazwatch <command> [--config <file>] [--data-dir <dir>] [--log-level <level>] [flags]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Every setting can also be given as HAZWATCH_* environment variable (hazwatch config env lists them).',
  ].join('\n');
}

function commandUsage(command: Command): string {
  const flags = Object.entries(command.options ?? {}).map(([name, o]) => `  --${name}${o.type === 'string' ? ' <value>' : ''}`);
  return [`Usage: hazwatch ${command.usage ?? command.name}`, '', command.summary, ...(flags.length ? ['', 'Flags:', ...flags] : [])].join('\n');
}

export async function main(argv: string[], io: { out?: NodeJS.WritableStream; err?: NodeJS.WritableStream } = {}): Promise<number> {
  const out = io.out ?? process.stdout;
  const err = io.err ?? process.stderr;
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    out.write(usage() + '\n');
    return name ? 0 : 1;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    err.write(`hazwatch: unknown command "${name}"\n\n${usage()}\n`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: rest, options: { ...COMMON_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (e) {
    err.write(`hazwatch ${name}: ${(e as Error).message}\n\n${commandUsage(command)}\n`);
    return 2;
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>;
  if (flags.help) {
    out.write(commandUsage(command) + '\n');
    return 0;
  }

  let config;
  try {
    const overrides = command.overrides?.(flags) ?? {};
    if (flags['log-level']) overrides.log = { level: flags['log-level'] };
    if (flags['data-dir']) overrides.dataDir = flags['data-dir'];
    config = loadConfig({ file: flags.config as string | undefined, overrides });
  } catch (e) {
    if (e instanceof HazwatchError) {
      err.write(`hazwatch ${name}: ${e.code}: ${e.message}\n`);
      return 2;
    }
    throw e;
  }

  const log = createLogger({ level: config.log.level, name: `hazwatch-${name}` });
  if (config.nice !== undefined) applyNice(config.nice, log);
  const metrics = createMetricsRegistry({ process: name, defaults: true });
  const abort = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (abort.signal.aborted) {
      log.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    log.info({ signal }, 'stopping');
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await command.run({ config, log, metrics, args: parsed.positionals, flags, signal: abort.signal, out });
    const services: Service[] = !result ? [] : Array.isArray(result) ? result : [result];
    if (services.length === 0) return 0;
    // The API serves /healthz, /readyz and /metrics itself; every other long-running process gets them here.
    if (config.ops.port !== false && name !== 'api' && name !== 'start') {
      const ops = await serveOps({ host: config.ops.host, port: config.ops.port, metrics, log });
      log.info({ url: ops.url }, 'operations endpoints: /healthz /readyz /metrics');
      services.unshift(ops);
    }
    const stopped = new Promise<undefined>((resolve) => (abort.signal.aborted ? resolve(undefined) : abort.signal.addEventListener('abort', () => resolve(undefined), { once: true })));
    const failure = await Promise.race([stopped, ...services.flatMap((s) => (s.failed ? [s.failed] : []))]);
    for (const service of [...services].reverse()) {
      try {
        await service.close();
      } catch (e) {
        log.error({ err: e, service: service.name }, 'error while stopping');
      }
    }
    if (failure) throw failure;
    log.info('stopped');
    return 0;
  } catch (e) {
    if (e instanceof HazwatchError) {
      log.error({ code: e.code, detail: e.detail }, e.message);
      err.write(`hazwatch ${name}: ${e.code}: ${e.message}\n`);
    } else {
      log.error({ err: e }, 'failed');
      err.write(`hazwatch ${name}: ${(e as Error).message}\n`);
    }
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Sets the process's CPU priority (config `nice`); a refusal (no CAP_SYS_NICE to raise it) is said, not fatal. */
function applyNice(nice: number, log: ReturnType<typeof createLogger>): void {
  try {
    setPriority(nice);
    log.info({ nice }, 'CPU priority set');
  } catch (err) {
    log.warn({ nice, err: (err as Error).message }, 'CPU priority not set: raising it needs CAP_SYS_NICE; running at the priority started with');
  }
}
