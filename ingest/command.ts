// `hazwatch ingest`
import type { Command } from '../core/command.ts';

export const ingestCommand: Command = {
  name: 'ingest',
  summary: 'not built yet',
  async run() {
    throw new Error('hazwatch ingest is not built yet');
  },
};
