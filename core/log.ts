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
