// Settings of `hazwatch sparkplug`: the `sparkplug` section of the configuration file, HAZWATCH_SPARKPLUG_* in the environment.
import { z } from 'zod';

export const sparkplugConfig = z
  .object({
    maps: z.array(z.string().min(1)).default([]).describe('Sparkplug map files or directories (docs/protocol.md, "Sparkplug B"): which Sparkplug devices are which hazwatch devices'),
    hostId: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
      .default('hazwatch')
      .describe('Primary host id: ONLINE/OFFLINE retained on STATE/<hostId>, which edge nodes wait for'),
    clientId: z.string().optional().describe('MQTT client id (default: the service account user name); keep it fixed, the broker keeps the persistent session under it'),
    register: z.boolean().default(true).describe('Register a mapped device at its first DBIRTH when it is not in the registry yet'),
    rebirthIntervalMs: z.number().int().min(100).default(5000).describe('Rebirth requests to one edge node at most this often'),
  })
  .strict()
  .prefault({});
export type SparkplugConfig = z.infer<typeof sparkplugConfig>;
