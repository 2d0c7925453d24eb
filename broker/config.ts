// Settings of `hazwatch broker`: the `broker` section of the configuration file, HAZWATCH_BROKER_* in the environment.
import { z } from 'zod';

export const brokerConfig = z
  .object({})
  .strict()
  .prefault({});
export type BrokerConfig = z.infer<typeof brokerConfig>;
