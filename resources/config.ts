// Settings of the emergency-resource store: the `resources` section, HAZWATCH_RESOURCES_* in the environment.
import { z } from 'zod';

export const resourcesConfig = z
  .object({
    path: z.string().optional().describe('SQLite file of emergency resources (default <dataDir>/resources.db; ignored when database.url is set)'),
  })
  .strict()
  .prefault({});
export type ResourcesConfig = z.infer<typeof resourcesConfig>;
