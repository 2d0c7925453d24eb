// Settings of `hazwatch vendor`: the `vendor` section of the configuration file, HAZWATCH_VENDOR_* in the environment.
import { z } from 'zod';

export const vendorConfig = z
  .object({
    maps: z.array(z.string().min(1)).default([]).describe('Vendor map files or directories (docs/protocol.md, "Vendor payloads"): which foreign topics and JSON payloads give which readings'),
    clientId: z.string().optional().describe('MQTT client id (default: the service account user name); keep it fixed, the broker keeps the persistent session under it'),
  })
  .strict()
  .prefault({});
export type VendorConfig = z.infer<typeof vendorConfig>;
