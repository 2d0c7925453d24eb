// `hazwatch api`
import type { Command } from '../core/command.ts';

export const apiCommand: Command = {
  name: 'api',
  summary: 'not built yet',
  async run() {
    throw new Error('hazwatch api is not built yet');
  },
};
