// Structured logs with pino: one logger per process, a child per component.
import { pino } from 'pino';
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
export function createLogger(options) {
    return pino({ level: options.level, name: options.name ?? 'hazwatch', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, (options.destination ?? process.stdout));
}
/** A logger that writes nothing, for library use and tests. */
export function silentLogger() {
    return pino({ level: 'silent' });
}
