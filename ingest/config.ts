// Settings of `hazwatch ingest`: the `ingest` section of the configuration file, HAZWATCH_INGEST_* in the environment.
import { z } from 'zod';
import { DEFAULT_LIMITS, DEFAULT_TIME_POLICY } from '../contract/payloads.ts';

const influxConfig = z
  .object({
    kind: z
      .enum(['auto', 'none', 'v1', 'v2'])
      .default('auto')
      .describe('auto: `hazwatch start` runs the influxd it finds (Debian\'s influxdb package) with its data under <dataDir>/influxdb, elsewhere as none; none: validate and spool only (nothing is stored); v1: InfluxDB 1.x /write + InfluxQL; v2: InfluxDB 2.x, 3.x or Cloud /api/v2/write'),
    url: z.string().url().default('http://127.0.0.1:8086').describe('InfluxDB base URL'),
    database: z.string().min(1).default('hazwatch').describe('v1: database'),
    retentionPolicy: z.string().optional().describe('v1: retention policy (default: the database default)'),
    username: z.string().optional().describe('v1: user name'),
    password: z.string().optional().describe('v1: password'),
    createDatabase: z.boolean().default(true).describe('v1: CREATE DATABASE at start if it does not exist (needs admin rights; a refusal is only logged)'),
    token: z.string().optional().describe('v2: API token'),
    org: z.string().optional().describe('v2: organization'),
    bucket: z.string().min(1).default('hazwatch').describe('v2: bucket'),
    retention: z
      .object({
        enabled: z.boolean().default(true).describe('v1: set up retention and downsampling at start (docs/storage.md, "Retention")'),
        rawDays: z
          .number()
          .int()
          .min(0)
          .max(36_500)
          .refine((d) => d === 0 || d >= 30, 'at least 30 days: records of major hazard monitoring are kept at least 30 days (0 keeps them for ever)')
          .default(0)
          .describe('v1: days raw readings are kept in the default retention policy; 0 for ever'),
        minuteDays: z.number().int().min(1).max(36_500).default(730).describe('v1: days the minute aggregates are kept'),
        hourDays: z.number().int().min(1).max(36_500).default(3650).describe('v1: days the hour aggregates are kept'),
      })
      .strict()
      .prefault({}),
    timeoutMs: z.number().int().positive().default(10_000).describe('Timeout of one write request'),
    gzip: z.boolean().default(true).describe('gzip write bodies'),
  })
  .strict()
  .prefault({});

export const ingestConfig = z
  .object({
    instance: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/).optional().describe('Name of this ingest process (metrics tag, client id suffix); default: host name'),
    clientId: z.string().optional().describe('MQTT client id; default svc:ingest, or svc:ingest:<instance> with a shareGroup or enterprises. Keep it fixed: the broker keeps the persistent session under it'),
    enterprises: z.array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)).default([]).describe('Take only these enterprises (a static partition: several ingest processes split the load, each device on exactly one, its order kept); empty: all. The way to scale ingest on a broker cluster'),
    shareGroup: z.string().regex(/^[^/+#]+$/).optional().describe('Subscribe through $share/<group>/ so several ingest processes split the load; needs a broker with shared subscriptions (hazwatch\'s own, Mosquitto 2, EMQX); on one without them ingest stops with HW_ERR_SHARED_SUBSCRIPTION'),
    platformTopic: z.string().default('hw/platform/ingest').describe('Where ingest publishes its own state (retained), e.g. HW_ERR_SPOOL_FULL; /<instance> is appended'),
    influx: influxConfig,
    spool: z
      .object({
        path: z.string().optional().describe('SQLite spool file (default <dataDir>/spool.db, or spool-<instance>.db with a shareGroup or enterprises)'),
        maxBytes: z.number().int().positive().default(1024 ** 3).describe('Spool limit in bytes of line protocol; when reached, ingest stops acknowledging'),
        maxMessages: z.number().int().positive().optional().describe('Spool limit in messages (optional, in addition to maxBytes)'),
        warnRatio: z.number().gt(0).lt(1).default(0.8).describe('Fill ratio from which a warning is logged and published'),
        resumeRatio: z.number().gt(0).lt(1).default(0.9).describe('Once full, ingest takes messages again below this fill ratio'),
        sync: z.enum(['full', 'normal']).default('full').describe('full: every group commit is fsynced (survives power loss); normal: survives a crash of ingest, not of the machine'),
        syncEveryMs: z
          .number()
          .min(0)
          .max(100)
          .default(5)
          .describe('With sync full, under load at most one fsync of the spool per this many ms (the commits meanwhile share it; a PUBACK waits that much longer at most); an idle ingest syncs at once. 0: back to back'),
        dedupeWindowS: z.number().int().positive().default(600).describe('How long receive-time messages are remembered to recognise QoS1 redeliveries flagged DUP'),
        replayWindowMs: z.number().int().positive().default(10_000).describe('After a reconnect, how long messages are compared with the last ones of the previous connection (brokers that resend without DUP)'),
      })
      .strict()
      .prefault({}),
    batch: z
      .object({
        size: z.number().int().positive().default(5000).describe('Points per database write'),
        flushMs: z.number().int().positive().default(1000).describe('Longest wait before a partial batch is written'),
        maxCommit: z.number().int().positive().default(100).describe('Messages per spool transaction (group commit); small keeps PUBACKs prompt behind any broker'),
        commitEveryMs: z
          .number()
          .min(0)
          .max(100)
          .default(2)
          .describe('Under load, at most one spool commit per this many ms (larger commits, fewer fsyncs); an idle ingest commits at once. 0: one commit per socket read'),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        minMs: z.number().int().positive().default(500).describe('First retry delay after a failed write'),
        maxMs: z.number().int().positive().default(30_000).describe('Longest retry delay (Retry-After from the server wins)'),
      })
      .strict()
      .prefault({}),
    time: z
      .object({
        skewToleranceMs: z.number().int().nonnegative().default(DEFAULT_TIME_POLICY.skewToleranceMs).describe('Device clock ahead by more than this: receive time used (HW_WARN_CLOCK_SKEW)'),
        maxFutureMs: z.number().int().nonnegative().default(DEFAULT_TIME_POLICY.maxFutureMs).describe('Further ahead: refused (HW_ERR_TS_FUTURE)'),
        maxPastMs: z.number().int().nonnegative().default(DEFAULT_TIME_POLICY.maxPastMs).describe('Older: refused (HW_ERR_TS_PAST)'),
      })
      .strict()
      .prefault({}),
    maxBatch: z.number().int().positive().default(DEFAULT_LIMITS.maxBatch).describe('Readings per telemetry message (HW_ERR_BATCH_TOO_LARGE)'),
    maxPayloadBytes: z.number().int().positive().default(256 * 1024).describe('Largest payload taken (HW_ERR_PAYLOAD_TOO_LARGE)'),
    errorReplies: z
      .object({
        burst: z.number().int().nonnegative().default(20).describe('Error-topic answers a device may get at once'),
        perSecond: z.number().nonnegative().default(2).describe('Sustained error-topic answers per device per second; the rest are counted, not sent'),
      })
      .strict()
      .prefault({}),
    healthIntervalS: z.number().int().positive().default(10).describe('Interval of the platform_ingest / platform_rejection points'),
  })
  .strict()
  .prefault({});
export type IngestConfig = z.infer<typeof ingestConfig>;
export type InfluxConfig = IngestConfig['influx'];
