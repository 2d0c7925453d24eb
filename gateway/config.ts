// Settings of `hazwatch gateway`: the `gateway` section of the configuration file, HAZWATCH_GATEWAY_* in the environment.
import { z } from 'zod';

export const gatewayConfig = z
  .object({
    map: z.string().optional().describe('Register-map file (YAML or JSON) of the Modbus devices this gateway polls (docs/gateway.md)'),
    inline: z.unknown().optional().describe('The register map itself, inline in the configuration file, instead of map'),
    url: z.string().url().optional().describe('Broker URL the gateway publishes to (default: mqtt.url)'),
    username: z.string().optional().describe('Gateway account (default <enterprise>/<gateway> of the register map)'),
    password: z.string().optional().describe('Gateway account password (hazwatch device add-gateway prints it)'),
    bufferPath: z.string().optional().describe('SQLite outbox holding readings until the broker acknowledged them (default <dataDir>/gateway-<enterprise>-<gateway>.db)'),
    bufferMaxRows: z.number().int().min(1000).default(1_000_000).describe('Outbox bound; when full the oldest telemetry is dropped and counted'),
    batchSize: z.number().int().min(1).max(1000).default(200).describe('Readings per message when replaying the outbox; keep at or below ingest.maxBatch (contract limit 1000)'),
    reconnectMs: z.number().int().min(100).default(2000).describe('Wait between broker reconnection attempts'),
  })
  .strict()
  .prefault({});
export type GatewayConfig = z.infer<typeof gatewayConfig>;
