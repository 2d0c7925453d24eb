// `hazwatch gateway`
import type { Command } from '../core/command.ts';

export const gatewayCommand: Command = {
  name: 'gateway',
  summary: 'not built yet',
  async run() {
    throw new Error('hazwatch gateway is not built yet');
  },
};
