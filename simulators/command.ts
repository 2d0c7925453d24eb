// `hazwatch simulate`
import type { Command } from '../core/command.ts';

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'not built yet',
  async run() {
    throw new Error('hazwatch simulate is not built yet');
  },
};
