// Settings of `hazwatch simulate`: the `simulate` section of the configuration file, HAZWATCH_SIMULATE_* in the environment.
import { z } from 'zod';

export const simulateConfig = z
  .object({})
  .strict()
  .prefault({});
export type SimulateConfig = z.infer<typeof simulateConfig>;
