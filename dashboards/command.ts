// `hazwatch dashboards [--out <dir>] [--limits registry|none] [--aggregates on|off] [--watch <seconds>]`:
// writes the Grafana dashboards; with --watch it keeps them in step with the vessel limits of the registry.
import { resolve } from 'node:path';
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { generateDashboards, writeDashboards } from './generate.ts';
import { readVesselLimits } from './limits.ts';
import { describeLongRanges, longRangesFrom } from './tiers.ts';

export const dashboardsCommand: Command = {
  name: 'dashboards',
  summary: 'Write the Grafana dashboards (JSON, provisioned by Grafana) generated from code',
  usage: 'dashboards [--out <dir>] [--limits registry|none] [--aggregates on|off] [--watch <seconds>]',
  options: {
    out: { type: 'string', short: 'o' },
    limits: { type: 'string' },
    aggregates: { type: 'string' },
    watch: { type: 'string' },
  },
  overrides(flags) {
    const dashboards: Record<string, unknown> = {};
    if (typeof flags.out === 'string') dashboards.out = flags.out;
    if (typeof flags.limits === 'string') dashboards.limits = flags.limits;
    // on/off; anything else is passed on as it is, so that the configuration check names it.
    if (typeof flags.aggregates === 'string') dashboards.aggregates = flags.aggregates === 'on' ? true : flags.aggregates === 'off' ? false : flags.aggregates;
    // A number stays a string when it is not one, so that the configuration check names it.
    if (typeof flags.watch === 'string') dashboards.watchSeconds = flags.watch.trim() !== '' && !Number.isNaN(Number(flags.watch)) ? Number(flags.watch) : flags.watch;
    return { dashboards };
  },
  async run({ config, log, out }) {
    const dir = resolve(config.dashboards.out);
    const ranges = longRangesFrom({ aggregates: config.dashboards.aggregates, kind: config.ingest.influx.kind, retention: config.ingest.influx.retention });
    const once = async (report: boolean) => {
      const limits = config.dashboards.limits === 'registry' ? await readVesselLimits(registryTarget(config)) : [];
      const result = writeDashboards(dir, generateDashboards(limits, ranges));
      if (!report && result.written.length === 0 && result.removed.length === 0) return;
      log.info({ dir, ...result, vesselLimits: limits.length, longRanges: ranges }, 'dashboards written');
      out.write(
        `${dir}: ${result.written.length} written, ${result.unchanged.length} unchanged` +
          (result.removed.length ? `, ${result.removed.length} removed (${result.removed.join(', ')})` : '') +
          `; H/HH/L/LL bands for ${limits.length} vessel metric(s); ${describeLongRanges(ranges)}\n`,
      );
    };
    await once(true);
    const every = config.dashboards.watchSeconds;
    if (every === 0) return;
    const timer = setInterval(() => {
      // A registry busy or briefly unreadable: keep the files Grafana has, try again next time.
      once(false).catch((err) => log.warn({ err }, 'dashboards not regenerated'));
    }, every * 1000);
    return {
      name: 'dashboards',
      async close() {
        clearInterval(timer);
      },
    };
  },
};
