// Settings of `hazwatch api`: the `api` section of the configuration file, HAZWATCH_API_* in the environment.
import { z } from 'zod';

export const apiConfig = z
  .object({})
  .strict()
  .prefault({});
export type ApiConfig = z.infer<typeof apiConfig>;
