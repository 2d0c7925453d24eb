// Settings of `hazwatch northbound`: the `northbound` section of the configuration file, HAZWATCH_NORTHBOUND_* in the environment.
import { z } from 'zod';

const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/);

export const northboundConfig = z
  .object({
    map: z.string().min(1).optional().describe('Northbound map file (docs/northbound.md): the upper platform, its transport, topics or paths, message bodies and code tables; `hazwatch start` runs the forwarder when it is set'),
    instance: id.optional().describe('Name of this forwarder (state topic, metrics, spool file, client id suffix); default: the map\'s name'),
    clientId: z.string().optional().describe('MQTT client id on hazwatch\'s broker (default <service user>:<instance>); keep it fixed, the broker keeps the persistent session under it'),
    enterprises: z.array(id).default([]).describe('Send only these enterprises (the ones the upper platform oversees); empty: all'),
    readingIntervalSeconds: z.number().int().min(0).max(86_400).default(60).describe('Readings: the latest value of each metric of each device per interval of this length (by reading time); 0: every reading as it comes'),
    readingGraceSeconds: z.number().min(0).max(3600).default(5).describe('An interval is sent this long after its end, so that readings a little late still count in it'),
    baseCheckSeconds: z.number().positive().default(60).describe('Base data (enterprises, hazard sources, devices) compared with what was sent this often (registry changes also trigger it)'),
    stateIntervalSeconds: z.number().positive().default(10).describe('State (connected, backlog, last error) published retained and metrics refreshed this often'),
    platformTopic: z.string().default('hw/platform/northbound').describe('Where the forwarder publishes its state (retained); /<instance> is appended'),
    concurrency: z.number().int().min(1).max(64).default(4).describe('Devices sent in parallel (each device\'s messages stay in order)'),
    spool: z
      .object({
        path: z.string().optional().describe('SQLite spool file (default <dataDir>/northbound-<instance>.db)'),
        sync: z.enum(['full', 'normal']).default('full').describe('full: fsync at every commit (survives a power cut); normal: survives a crash of the process only'),
      })
      .strict()
      .prefault({}),
    retry: z
      .object({
        minMs: z.number().int().positive().default(1000).describe('First retry delay after a failed send'),
        maxMs: z.number().int().positive().default(60_000).describe('Longest retry delay'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
export type NorthboundConfig = z.infer<typeof northboundConfig>;
