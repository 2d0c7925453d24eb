// Settings of `hazwatch dashboards`: the `dashboards` section of the configuration file, HAZWATCH_DASHBOARDS_* in the environment.
import { z } from 'zod';

export const dashboardsConfig = z
  .object({
    out: z.string().default('deploy/grafana/dashboards').describe('Directory the dashboard JSON files are written to (Grafana provisions from it)'),
    limits: z
      .enum(['registry', 'none'])
      .default('registry')
      .describe('Draw H/HH/L/LL bands of vessels from device meta.limits in the registry (registry), or no per-device bands (none)'),
    aggregates: z
      .boolean()
      .default(true)
      .describe(
        'Trend panels read the minute and hour aggregates ingest keeps on InfluxDB 1.x for data older than 2 days (docs/dashboards.md, "Long ranges"); false: the raw readings at every age (InfluxDB 2.x/3.x). Off by itself when ingest.influx.kind is v2 or ingest.influx.retention.enabled is false',
      ),
    watchSeconds: z
      .number()
      .int()
      .min(0)
      .default(0)
      .describe('Keep running and regenerate every so many seconds, so new vessel limits reach Grafana (0: write once and exit)'),
  })
  .strict()
  .prefault({});
export type DashboardsConfig = z.infer<typeof dashboardsConfig>;
