// Settings of `hazwatch rules`: the `rules` section of the configuration file, HAZWATCH_RULES_* in the environment.
import { z } from 'zod';

export const rulesConfig = z
  .object({})
  .strict()
  .prefault({});
export type RulesConfig = z.infer<typeof rulesConfig>;
