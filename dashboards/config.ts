// Settings of `hazwatch dashboards`: the `dashboards` section of the configuration file, HAZWATCH_DASHBOARDS_* in the environment.
import { z } from 'zod';

export const dashboardsConfig = z
  .object({})
  .strict()
  .prefault({});
export type DashboardsConfig = z.infer<typeof dashboardsConfig>;
