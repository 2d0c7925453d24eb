// Settings of `hazwatch broker`: the `broker` section of the configuration file, HAZWATCH_BROKER_* in the environment.
import { z } from 'zod';

/** A TCP port; 0 lets the operating system pick a free one (tests), `false` turns the listener off. */
const port = z.number().int().min(0).max(65535);
const optionalPort = z.union([port, z.literal(false)]);

export const brokerBanConfig = z
  .object({
    // Many devices of one enterprise often share one NAT address, so the per-address limit is looser
    // than the per-user one; a legitimate device with a wrong password stays below both within minutes.
    maxFailuresPerAddress: z.number().int().min(1).default(30).describe('Failed CONNECTs from one IP address within the window before that address is banned'),
    maxFailuresPerUsername: z.number().int().min(1).default(10).describe('Failed CONNECTs for one user name within the window before that user name is banned'),
    windowSeconds: z.number().positive().default(60).describe('Sliding window over which failures are counted'),
    durationSeconds: z.number().positive().default(300).describe('How long a ban lasts; banned clients get CONNACK 5 (not authorized) without a password check'),
  })
  .strict()
  .prefault({});

export const brokerConfig = z
  .object({
    host: z.string().default('0.0.0.0').describe('Address every listener binds to'),
    port: port.default(1883).describe('MQTT over TCP (IANA 1883)'),
    wsPort: optionalPort.default(8083).describe('MQTT over WebSocket, path-independent; false turns it off'),
    tlsPort: optionalPort.default(8883).describe('MQTT over TLS (IANA 8883); only opened when tls.cert and tls.key are set'),
    tls: z
      .object({
        cert: z.string().optional().describe('PEM certificate chain file for the TLS listener'),
        key: z.string().optional().describe('PEM private key file for the TLS listener'),
        ca: z.string().optional().describe('PEM CA bundle; when set, clients must present a certificate signed by it'),
      })
      .strict()
      .prefault({}),
    allowAnonymous: z.boolean().default(false).describe('Accept CONNECTs without user name (like Mosquitto 2, off by default); for trials only'),
    aclFile: z.string().min(1).optional().describe('Access rules (YAML or JSON) added to the built-in hw/v1 rules, or replacing them (replaceDefaults: true); docs/broker.md, "Access file"'),
    maxConnections: z.number().int().min(1).default(50_000).describe('Connected clients at most; further CONNECTs get CONNACK 3 (server unavailable)'),
    // 256 KiB is 100 times a large batch of readings; Mosquitto's default (message_size_limit 0) is 256 MB.
    maxPayloadBytes: z.number().int().min(64).max(268_435_455).default(262_144).describe('Largest PUBLISH payload; a larger packet closes the connection'),
    publishRatePerSecond: z.number().min(0).default(20).describe('Sustained PUBLISH rate of one device connection (token bucket; 0 = unlimited)'),
    publishBurst: z.number().int().min(1).default(200).describe('Bucket size: messages a device may send at once, e.g. a buffer flushed after reconnecting'),
    gatewayPublishRatePerSecond: z.number().min(0).default(5_000).describe('Sustained PUBLISH rate of one gateway connection (0 = unlimited)'),
    gatewayPublishBurst: z.number().int().min(1).default(20_000).describe('Bucket size of a gateway connection'),
    rateLimitDisconnectAfter: z.number().int().min(1).default(500).describe('Messages dropped for rate within 10 s after which the client is disconnected'),
    ban: brokerBanConfig,
    persistence: z.enum(['memory', 'level']).default('memory').describe('memory: sessions are lost on restart; level: QoS 1 sessions, retained messages and wills survive a restart (LevelDB in persistencePath)'),
    persistencePath: z.string().optional().describe('Directory of the level persistence (default <dataDir>/broker-sessions)'),
    cluster: z
      .object({
        redis: z
          .string()
          .regex(/^rediss?:\/\/.+/, 'expected a redis:// or rediss:// URL')
          .optional()
          .describe('Redis shared by every broker node (redis://[:password@]host:6379[/db]): messages reach subscribers on every node; sessions, QoS 1 queues, retained messages and wills live there (persistence is then ignored)'),
      })
      .strict()
      .prefault({}),
    statusByBroker: z.boolean().default(true).describe('Publish retained online/offline on the status topic of always-connected devices that connect without a last will'),
    revocationCheckMs: z.number().int().min(100).default(1000).describe('How often the registry is checked for revoked accounts, whose sessions are then closed'),
  })
  .strict()
  .prefault({});
export type BrokerConfig = z.infer<typeof brokerConfig>;
