// Settings of `hazwatch gateway`: the `gateway` section of the configuration file, HAZWATCH_GATEWAY_* in the environment.
import { z } from 'zod';

export const gatewayConfig = z
  .object({})
  .strict()
  .prefault({});
export type GatewayConfig = z.infer<typeof gatewayConfig>;
