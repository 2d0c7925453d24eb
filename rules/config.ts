// Settings of `hazwatch rules`: the `rules` section of the configuration file, HAZWATCH_RULES_* in the environment.
import { z } from 'zod';
import { notifyConfig } from './notify/config.ts';

export const rulesConfig = z
  .object({
    storePath: z.string().optional().describe('SQLite alarm store shared with the API (default <dataDir>/alarms.db)'),
    files: z
      .array(z.string())
      .default([])
      .describe('Rule files or directories (YAML/JSON) overriding rules/defaults per class, enterprise or device; reloaded on change or SIGHUP'),
    clientId: z.string().optional().describe('MQTT client id; default the service user name (svc:rules). Keep it fixed: the broker keeps the persistent session under it'),
    grade1RaisesLevel: z.boolean().default(true).describe('Alarms of devices on a grade-1 major hazard source (device.meta.hazardSourceGrade = 1) are raised one level'),
    tickMs: z.number().int().min(100).max(60_000).default(1000).describe('How often silence, expiry of shelving and maintenance, and escalations are checked'),
    maxShelveHours: z.number().positive().max(720).default(24).describe('Longest time an operator may shelve an alarm'),
    writeInflux: z.boolean().default(true).describe('Write every alarm change to InfluxDB (measurement alarm_event) using the ingest.influx settings'),
    pollMs: z.number().int().min(20).max(10_000).default(200).describe('How often changes made by other processes (API) are looked for, to publish them'),
    enterprises: z
      .array(z.string())
      .default([])
      .describe('Evaluate only the devices of these enterprises (split the load across several rules processes sharing one store); empty: all'),
    publish: z
      .boolean()
      .default(true)
      .describe('This process may publish the alarm outbox (MQTT, InfluxDB, notifications) and end expired shelving and maintenance: the rules processes of one store elect one publisher among those with publish on, and another takes over when it dies (docs/alarms.md); false: never'),
    electionMs: z.number().int().min(100).max(60_000).default(2000).describe('How often a standby rules process tries to take over the publisher role, and how often the publisher checks it still holds it'),
    platformClearS: z
      .number()
      .min(0)
      .max(3600)
      .default(60)
      .describe('A platform alarm (HW_ALM_INGEST_BACKPRESSURE) clears only after the process has reported `ok` this long: a spool draining in bursts is one alarm, not one per burst'),
    notify: notifyConfig,
  })
  .strict()
  .prefault({});
export type RulesConfig = z.infer<typeof rulesConfig>;
