// Settings of `hazwatch simulate`: the `simulate` section of the configuration file, HAZWATCH_SIMULATE_* in the environment.
import { z } from 'zod';
import { parseDuration } from './duration.ts';
import { parseMix } from './mix.ts';
const durationText = z.coerce.string().refine((v) => {
    try {
        parseDuration(v);
        return true;
    }
    catch {
        return false;
    }
}, 'expected a duration: seconds, or e.g. "90s", "10m", "1h30m"');
export const simulateConfig = z
    .object({
    url: z.string().optional().describe('Broker URL the simulated devices connect to (default: mqtt.url)'),
    enterprises: z.number().int().min(1).default(1).describe('Simulated enterprises'),
    devicesPerEnterprise: z.number().int().min(1).default(10).describe('Simulated devices per enterprise'),
    mix: z
        .string()
        .refine((v) => {
        try {
            parseMix(v);
            return true;
        }
        catch {
            return false;
        }
    }, 'expected class=weight pairs, e.g. "gas_combustible=4,vessel=2", or "all"')
        .optional()
        .describe('Device classes and their weights (default: a chemical park mix of every class)'),
    rate: z.number().positive().max(100).optional().describe('Reports per second of every device (default: each class\'s catalog interval)'),
    duration: durationText.optional().describe('Wall-clock time after which the fleet stops by itself (default: the scenario\'s length at its speed)'),
    budget: z.number().int().positive().optional().describe('Telemetry and event messages after which the fleet stops by itself'),
    scenario: z.string().optional().describe('Scenario file (YAML or JSON): devices, faults and expected alarms'),
    speed: z.number().positive().max(3600).default(1).describe('Simulated seconds per real second (60 = one hour per minute)'),
    seed: z.number().int().nonnegative().default(1).describe('Seed of every random number: the same seed gives the same readings'),
    credentials: z.string().optional().describe('JSON credentials file: used when it exists, written after provisioning otherwise'),
    expectedAlarms: z.string().optional().describe('Where to write the scenario\'s expected alarms (JSON; default <dataDir>/expected-alarms-<scenario>.json)'),
    prefix: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,40}$/).default('sim').describe('Prefix of generated enterprise ids'),
    connectRate: z.number().positive().default(200).describe('New MQTT connections per second while the fleet starts'),
    qos: z.union([z.literal(0), z.literal(1)]).default(1).describe('QoS of telemetry and events'),
    progressSeconds: z.number().positive().optional().describe('Progress line every so many seconds (default 1 on a terminal, 5 otherwise)'),
})
    .strict()
    .prefault({});
