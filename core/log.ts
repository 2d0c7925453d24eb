// Structured logs with pino: one logger per process, a child per component.
import { pino, type Logger } from 'pino';

export type { Logger };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function createLogger(options: { level: LogLevel; name?: string; destination?: NodeJS.WritableStream }): Logger {
  return pino(
    { level: options.level, name: options.name ?? 'hazwatch', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime },
    (options.destination ?? process.stdout) as pino.DestinationStream,
  );
}

/** A logger that writes nothing, for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * A gate that opens once per key and interval: one log line per cause and minute for a sender that keeps
 * doing the same wrong thing, instead of one per message.
 */
export function oncePer(intervalMs: number, now: () => number = Date.now): (key: string) => boolean {
  const last = new Map<string, number>();
  return (key) => {
    const t = now();
    if (t - (last.get(key) ?? -Infinity) < intervalMs) return false;
    last.set(key, t);
    return true;
  };
}
