// `hazwatch rules`
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { serveWithRegistry } from '../registry/registry.ts';
import { startRules } from './service.ts';

export const rulesCommand: Command = {
  name: 'rules',
  summary: 'Evaluate thresholds, rates, events and silence into graded alarms; publish and notify every alarm change',
  usage: 'rules [--rules <file-or-dir>]... [--check]',
  options: {
    rules: { type: 'string', multiple: true },
    check: { type: 'boolean' },
  },
  overrides(flags) {
    const files = flags.rules as string[] | undefined;
    return files?.length ? { rules: { files } } : {};
  },
  async run(ctx) {
    if (ctx.flags.check) {
      // Validate the rule files and exit: for CI of an enterprise's rule repository.
      const { loadRuleSet } = await import('./definitions.ts');
      const set = loadRuleSet(ctx.config.rules.files);
      ctx.out.write(`rules ok: ${set.files.length} files (${set.files.filter((f) => f.scope > 0).map((f) => f.path).join(', ') || 'defaults only'})\n`);
      return;
    }
    return serveWithRegistry(registryTarget(ctx.config), 'rules', (registry) => startRules({ config: ctx.config, log: ctx.log, metrics: ctx.metrics, registry }));
  },
};
