// `hazwatch rules`
import type { Command } from '../core/command.ts';

export const rulesCommand: Command = {
  name: 'rules',
  summary: 'not built yet',
  async run() {
    throw new Error('hazwatch rules is not built yet');
  },
};
