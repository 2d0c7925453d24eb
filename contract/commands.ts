// Device commands (issue 15): what the platform may ask a device to do on hw/v1/<e>/<d>/command, and
// how the device answers on hw/v1/<e>/<d>/reply. The catalog lists, per device class, every command
// the class accepts with its arguments; nothing outside it is ever published.
//
// What is deliberately NOT here: remote actuation of the process. Closing a vessel's valve, tripping an
// interlock or cutting a circuit is an emergency shutdown; it belongs to the plant's safety
// instrumented system (SIS/ESD, hard-wired, SIL-rated) and its DCS, not to a telemetry channel over
// MQTT that can be late, lost or replayed. GB 50116 also asks an electrical-fire monitoring system not
// to cut power by itself. Nor a gas detector's zero calibration: zeroing while gas is present would
// offset the reading and mask a real leak; it is done on site with zero gas. Every command below only
// changes a local annunciation, runs a test the device is built to run, or starts a fire pump, which
// is the safe direction (the pump exists to run on demand; a test run is routine).
import { z } from 'zod';
import { DEVICE_CLASS_IDS, type DeviceClass } from './catalog.ts';
import { Timestamp } from './payloads.ts';

export interface CommandSpec {
  title: string;
  /** Its name in the Chinese console. */
  zh: string;
  description: string;
  /** The arguments, checked before anything is published (strict: unknown ones are refused). */
  args: z.ZodObject;
  /**
   * Seconds the device may take from `accepted` to its final answer (a pump test runs for minutes):
   * a command accepted and not finished by then is recorded as expired.
   */
  runSeconds: number;
}

const NO_ARGS = z.object({}).strict();

const silence: CommandSpec = {
  title: 'Silence the local sounder',
  zh: '消音（本地声光）',
  description: 'Mutes the device\'s own sounder or buzzer. The alarm condition itself stays reported and the platform\'s alarm stays open; the device sounds again if the condition persists or worsens, as its standard requires.',
  args: NO_ARGS,
  runSeconds: 30,
};
const selfTest: CommandSpec = {
  title: 'Self-test',
  zh: '远程自检',
  description: 'Runs the device\'s built-in test (sensor, sounder, battery) and answers with the result; the same as pressing its test button.',
  args: NO_ARGS,
  runSeconds: 120,
};

export const COMMANDS = {
  vessel: {},
  gas_combustible: { silence, self_test: selfTest },
  gas_toxic: { silence, self_test: selfTest },
  oxygen: { self_test: selfTest },
  fire_water: {
    pump_test_start: {
      title: 'Start a fire pump test run',
      zh: '启动消防泵试运行',
      description: 'Starts the main fire pump for a test run of `minutes` (1 to 30, default 10); the controller stops it by itself at the end. Refused by the device while the pump runs on demand.',
      args: z.object({ minutes: z.number().int().min(1).max(30).optional().describe('Length of the test run in minutes (default 10)') }).strict(),
      runSeconds: 60,
    },
    pump_test_stop: {
      title: 'Stop the fire pump test run',
      zh: '停止消防泵试运行',
      description: 'Ends a test run early. It never stops a pump running on demand (a pressure drop, a hydrant draw): the device answers `rejected`.',
      args: NO_ARGS,
      runSeconds: 60,
    },
  },
  power_meter: { self_test: selfTest },
  smoke_alarm: { silence, self_test: selfTest },
  camera: {},
} as const satisfies Record<DeviceClass, Record<string, CommandSpec>>;

export type CommandName = { [C in DeviceClass]: keyof (typeof COMMANDS)[C] }[DeviceClass] & string;
export const COMMAND_NAMES = [...new Set(DEVICE_CLASS_IDS.flatMap((c) => Object.keys(COMMANDS[c])))] as CommandName[];

/** The commands a class accepts (empty for classes that take none). */
export function commandsOf(cls: DeviceClass): Record<string, CommandSpec> {
  return COMMANDS[cls] as Record<string, CommandSpec>;
}

export function commandSpec(cls: DeviceClass, name: string): CommandSpec | undefined {
  const all = commandsOf(cls);
  return Object.hasOwn(all, name) ? all[name] : undefined;
}

/** A command id: unique, safe in logs and URLs. */
export const CommandId = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, '8 to 64 letters, digits, _ or -');

/** hw/v1/<enterprise>/<device>/command: platform → device, QoS 1, never retained. */
export const CommandPayload = z
  .object({
    id: CommandId.describe('Unique id of this command; the reply names it'),
    name: z.string().describe('A command of the device class (docs/protocol.md §12)'),
    args: z.record(z.string(), z.unknown()).optional().describe('Arguments of the command, as the catalog defines them'),
    ts: z.number().int().describe('When the platform sent it, epoch ms'),
    expiresAt: z.number().int().describe('Epoch ms after which the device must not carry it out (answer `rejected`)'),
  })
  .strict();
export type CommandPayload = z.infer<typeof CommandPayload>;

/** The command payload of one class, with each command's arguments spelled out (JSON Schema). */
export function commandSchemaFor(cls: DeviceClass) {
  const variants = Object.entries(commandsOf(cls)).map(([name, spec]) =>
    CommandPayload.extend({ name: z.literal(name).describe(spec.description), args: spec.args.optional() }),
  );
  const [first, ...rest] = variants;
  if (!first) return undefined;
  return (rest.length ? z.union([first, ...rest]) : first).describe(`Commands a ${cls} device accepts`);
}

export const REPLY_STATUSES = ['accepted', 'done', 'failed', 'rejected'] as const;
export type ReplyStatus = (typeof REPLY_STATUSES)[number];

/** hw/v1/<enterprise>/<device>/reply: device → platform, QoS 1. */
export const ReplyPayload = z
  .object({
    id: CommandId.describe('The id of the command answered'),
    status: z
      .enum(REPLY_STATUSES)
      .describe('accepted: started (optional for quick commands); done: carried out; failed: tried and did not succeed; rejected: not attempted (unknown, expired, not possible now)'),
    message: z.string().max(500).optional().describe('Why, or the result, in words'),
    ts: Timestamp.optional().describe('Device time of the answer: epoch ms or ISO 8601 with a zone'),
  })
  .strict();
export type ReplyPayload = z.infer<typeof ReplyPayload>;

/** Where a command stands on the platform: sent, then the device's answers, or expired without one. */
export const COMMAND_STATUSES = ['sent', 'accepted', 'done', 'failed', 'rejected', 'expired'] as const;
export type CommandStatus = (typeof COMMAND_STATUSES)[number];
export const FINAL_STATUSES: readonly CommandStatus[] = ['done', 'failed', 'rejected', 'expired'];

/**
 * The status a reply moves a command to, or undefined when the reply does not move it (a duplicate, or
 * an answer after the command ended). `accepted` is only a step: done, failed or rejected end it.
 */
export function nextStatus(current: CommandStatus, reply: ReplyStatus): CommandStatus | undefined {
  if (FINAL_STATUSES.includes(current)) return undefined;
  if (reply === 'accepted') return current === 'sent' ? 'accepted' : undefined;
  return reply;
}
