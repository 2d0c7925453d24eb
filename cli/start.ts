// `hazwatch start`: every part of the platform in one process, for one machine with no Docker.
import type { Command } from '../core/command.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'Run broker, ingest, rules and API in one process (--demo adds simulators and a scenario)',
  async run() {
    throw new Error('hazwatch start is not built yet');
  },
};
