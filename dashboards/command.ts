// `hazwatch dashboards`
import type { Command } from '../core/command.ts';

export const dashboardsCommand: Command = {
  name: 'dashboards',
  summary: 'not built yet',
  async run() {
    throw new Error('hazwatch dashboards is not built yet');
  },
};
