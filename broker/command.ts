// `hazwatch broker`
import type { Command } from '../core/command.ts';

export const brokerCommand: Command = {
  name: 'broker',
  summary: 'not built yet',
  async run() {
    throw new Error('hazwatch broker is not built yet');
  },
};
