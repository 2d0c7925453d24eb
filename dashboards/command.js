// `hazwatch dashboards [--out <dir>] [--limits registry|none]`: writes the Grafana dashboards.
import { resolve } from 'node:path';
import { registryPath } from '../core/config.ts';
import { generateDashboards, writeDashboards } from './generate.ts';
import { readVesselLimits } from './limits.ts';
export const dashboardsCommand = {
    name: 'dashboards',
    summary: 'Write the Grafana dashboards (JSON, provisioned by Grafana) generated from code',
    usage: 'dashboards [--out <dir>] [--limits registry|none]',
    options: {
        out: { type: 'string', short: 'o' },
        limits: { type: 'string' },
    },
    overrides(flags) {
        const dashboards = {};
        if (typeof flags.out === 'string')
            dashboards.out = flags.out;
        if (typeof flags.limits === 'string')
            dashboards.limits = flags.limits;
        return { dashboards };
    },
    async run({ config, log, out }) {
        const limits = config.dashboards.limits === 'registry' ? readVesselLimits(registryPath(config)) : [];
        const dir = resolve(config.dashboards.out);
        const result = writeDashboards(dir, generateDashboards(limits));
        log.info({ dir, ...result, vesselLimits: limits.length }, 'dashboards written');
        out.write(`${dir}: ${result.written.length} written, ${result.unchanged.length} unchanged` +
            (result.removed.length ? `, ${result.removed.length} removed (${result.removed.join(', ')})` : '') +
            `; H/HH/L/LL bands for ${limits.length} vessel metric(s)\n`);
    },
};
