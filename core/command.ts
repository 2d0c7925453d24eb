// What every `hazwatch <command>` provides to the command line, and what it gets from it.
import type { ParseArgsConfig } from 'node:util';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';

export interface CommandContext {
  config: Config;
  log: Logger;
  metrics: MetricsRegistry;
  /** Positional arguments after the command name. */
  args: string[];
  /** Parsed flags of this command (its own `options`). */
  flags: Record<string, string | boolean | string[] | boolean[] | undefined>;
  /** Fires on SIGINT/SIGTERM; long-running commands stop when it aborts. */
  signal: AbortSignal;
  /** Where human-facing output (tables, credentials, progress) goes. */
  out: NodeJS.WritableStream;
}

/** A running process part; `hazwatch start` closes them in reverse order of start. */
export interface Service {
  name: string;
  close(): Promise<void>;
  /**
   * Settles when the part cannot do its job at all and waiting will not help (the broker refuses its
   * subscriptions): the command line then stops every part and exits 1 with the error.
   */
  failed?: Promise<Error>;
}

export interface Command {
  name: string;
  summary: string;
  usage?: string;
  options?: NonNullable<ParseArgsConfig['options']>;
  /** Turns flags into configuration overrides, validated with the rest of the configuration. */
  overrides?(flags: CommandContext['flags']): Record<string, unknown>;
  /** Returns a Service for long-running commands, nothing for one-shot ones. */
  run(ctx: CommandContext): Promise<Service | Service[] | void>;
}
