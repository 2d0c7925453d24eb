// Settings of `hazwatch api`: the `api` section of the configuration file, HAZWATCH_API_* in the environment.
import { z } from 'zod';

export const apiConfig = z
  .object({
    host: z.string().default('127.0.0.1').describe('Address the API and console listen on (0.0.0.0 for every interface)'),
    port: z.number().int().min(0).max(65535).default(8080).describe('HTTP port of the API and console'),
    publicUrl: z.string().url().optional().describe('URL operators reach the console at, when behind a proxy (printed at start)'),
    dbPath: z.string().optional().describe('SQLite file of console accounts, sessions and the audit log (default <dataDir>/api.db)'),
    alarmsPath: z.string().optional().describe('Alarm store shared with rules (default rules.storePath, else <dataDir>/alarms.db)'),
    sessionTtlMinutes: z.number().int().min(1).max(7 * 24 * 60).default(12 * 60).describe('Idle lifetime of a console session or API token, minutes (one 12 h shift)'),
    adminUser: z.string().min(1).default('admin').describe('User name of the first administrator, created at first start'),
    adminPassword: z
      .string()
      .min(10)
      .optional()
      .describe('Password of the first administrator; when absent a random one is generated and logged once at first start'),
    demoLogin: z.boolean().default(false).describe('Create the demo login demo / hazwatch-demo (hazwatch start --demo)'),
    demo: z.boolean().default(false).describe('The devices are simulated (hazwatch start --demo or --scenario): the console says so on every page'),
    autoPlan: z
      .boolean()
      .default(false)
      .describe('Place enterprises without a place on the site plan and register hazard sources devices refer to (grade 3 until assessed); for demos'),
    tileUrl: z
      .string()
      .refine((u) => /^(https?:\/\/|\/)/.test(u) && ['{z}', '{x}', '{y}'].every((k) => u.includes(k)), 'expected a tile URL template with {z}, {x} and {y}, e.g. http://tiles.intranet/{z}/{x}/{y}.png')
      .optional()
      .describe('Map tiles for the console (an intranet tile server: http://tiles.intranet/{z}/{x}/{y}.png); unset: a plain latitude/longitude grid, nothing fetched'),
    tileMaxZoom: z.number().int().min(1).max(22).default(18).describe('Highest zoom level the tile server has'),
    tileAttribution: z.string().max(300).default('').describe('Attribution the tiles require, shown in the corner of the map'),
    trustProxy: z
      .boolean()
      .default(false)
      .describe('Take the client address from X-Forwarded-For (only behind a reverse proxy: otherwise clients could forge it to dodge the sign-in limit)'),
    loginRateLimit: z.number().int().min(1).default(10).describe('Login attempts per minute per client address'),
    influx: z
      .object({
        url: z.string().url().optional().describe('InfluxDB URL for the device charts (default: the ingest setting)'),
        database: z.string().optional().describe('InfluxDB database (default: the ingest setting, else "hazwatch")'),
        username: z.string().optional(),
        password: z.string().optional(),
        /** InfluxDB 2.x/3.x through the v1 compatibility API. */
        token: z.string().optional().describe('InfluxDB 2.x/3.x token, used instead of username/password'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});
export type ApiConfig = z.infer<typeof apiConfig>;
