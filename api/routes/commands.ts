// Device commands (issue 15): the catalog of what each device class accepts, sending one command to a
// device, and the record of a device's commands with every step (sent, accepted, done / failed /
// rejected, or expired). Sending is `device.command`: the monitoring room's operators, supervisors and
// administrators, and an enterprise's own users for its own devices (the equipment is theirs; every
// command in the catalog is a local annunciation, a built-in test or a fire pump test run). Scope as for
// the device itself: another enterprise's device is "not found".
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEVICE_CLASS_IDS, type DeviceClass } from '../../contract/catalog.ts';
import { COMMAND_STATUSES, commandsOf } from '../../contract/commands.ts';
import { HazwatchError } from '../../contract/errors.ts';
import type { Permission } from '../auth.ts';
import { authenticate, require } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { DEFAULT_EXPIRY_SECONDS } from '../command-service.ts';
import { ApiError, EpochMs, errorResponses, Id } from '../schemas.ts';

const DeviceParams = z.object({ enterprise: Id, device: Id });
const CommandParams = DeviceParams.extend({ id: z.string().min(1).max(64) });

export const CommandStep = z.object({
  status: z.enum(COMMAND_STATUSES),
  at: EpochMs.describe('When the platform recorded the step'),
  deviceTs: EpochMs.nullable().describe("The device's own time of its answer, when it gave one"),
  by: z.string().describe('The account that sent the command; `device` for its answers; `platform` for an expiry or a publish the broker did not take'),
  message: z.string().nullable(),
  applied: z.boolean().describe('false: an answer that came after the command ended (kept, but it did not change it)'),
});
export const Command = z
  .object({
    id: z.string(),
    enterprise: z.string(),
    device: z.string(),
    deviceClass: z.string(),
    name: z.string(),
    args: z.record(z.string(), z.unknown()),
    status: z.enum(COMMAND_STATUSES).describe('sent → accepted → done / failed; rejected by the device; expired without an answer in time'),
    message: z.string().nullable().describe("The device's last word, or why it expired or failed"),
    requestedBy: z.string(),
    requestedAt: EpochMs,
    expiresAt: EpochMs.describe('The device must answer by then, and must not carry the command out later'),
    finishBy: EpochMs.nullable().describe('Once accepted: when the device must have finished'),
    updatedAt: EpochMs,
    steps: z.array(CommandStep).describe('Every step, oldest first'),
  })
  .describe('A command sent to a device and what came of it');

export const NewCommand = z
  .object({
    name: z.string().min(1).max(64).describe('A command the device class accepts (GET /api/v1/commands/catalog)'),
    args: z.record(z.string(), z.unknown()).optional().describe('Its arguments, as the catalog defines them'),
    expiresInSeconds: z.number().int().min(1).max(3600).optional().describe(`Seconds the device has to answer (default ${DEFAULT_EXPIRY_SECONDS})`),
  })
  .strict();

const CatalogEntry = z.object({
  name: z.string(),
  title: z.string(),
  zh: z.string(),
  description: z.string(),
  args: z.record(z.string(), z.unknown()).describe('JSON Schema of the arguments'),
  runSeconds: z.number().int().describe('Seconds the device may take from accepted to its final answer'),
});
export const CommandCatalog = z.object({ classes: z.record(z.string(), z.array(CatalogEntry)).describe('Per device class, the commands it accepts (empty: none)') });

export function commandRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);

  /** The device, if the account may act on it with this permission; another enterprise's is "not found". */
  const loadDevice = (req: FastifyRequest, enterprise: string, id: string, permission: Permission) => {
    const user = require(req, permission, enterprise, { hide: true });
    req.auditTarget = `${enterprise}/${id}`;
    const d = ctx.registry.device(enterprise, id);
    if (!d) throw new HazwatchError('HW_ERR_NOT_FOUND', `no device ${enterprise}/${id}`);
    return { user, device: d };
  };

  const catalog = {
    classes: Object.fromEntries(
      DEVICE_CLASS_IDS.map((cls: DeviceClass) => [
        cls,
        Object.entries(commandsOf(cls)).map(([name, spec]) => ({ name, title: spec.title, zh: spec.zh, description: spec.description, args: z.toJSONSchema(spec.args) as Record<string, unknown>, runSeconds: spec.runSeconds })),
      ]),
    ),
  };
  app.get('/api/v1/commands/catalog', { schema: { tags: ['commands'], summary: 'The commands each device class accepts, with their arguments', response: { 200: CommandCatalog, ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'read');
    return catalog;
  });

  app.post(
    '/api/v1/devices/:enterprise/:device/commands',
    {
      schema: {
        tags: ['commands'],
        summary: 'Send a command to a device',
        description:
          'Checked against the catalog of the device class, recorded, then published QoS 1 on hw/v1/<enterprise>/<device>/command. The answer is the command as sent (status `sent`, or already further when the device was quick); follow it with GET. One open command per device at a time.',
        params: DeviceParams,
        body: NewCommand,
        response: { 201: Command, ...errorResponses, 503: ApiError },
      },
      preValidation: auth,
      config: { audit: 'device.command' },
    },
    async (req, reply) => {
      const { user, device } = loadDevice(req, req.params.enterprise, req.params.device, 'device.command');
      req.auditDetail = { name: req.body.name };
      if (device.revokedAt !== null) throw new HazwatchError('HW_ERR_COMMAND_REVOKED', `${device.enterprise}/${device.id} was revoked`);
      const presence = ctx.latest.presence(device.enterprise, device.id, device);
      if (presence.state === 'offline') throw new HazwatchError('HW_ERR_COMMAND_OFFLINE', `${device.enterprise}/${device.id} is offline${presence.reason ? ` (${presence.reason})` : ''}`);
      if (!ctx.commands) throw new HazwatchError('HW_ERR_COMMAND_BROKER');
      const command = await ctx.commands.send({ device, name: req.body.name, args: req.body.args, username: user.username, expiresInSeconds: req.body.expiresInSeconds });
      req.auditDetail = { name: command.name, command: command.id, status: command.status };
      reply.code(201);
      return { ...command, steps: command.steps ?? [] };
    },
  );

  app.get(
    '/api/v1/devices/:enterprise/:device/commands',
    {
      schema: {
        tags: ['commands'],
        summary: "A device's commands, newest first, each with its steps",
        params: DeviceParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).optional() }).strict(),
        response: { 200: z.object({ commands: z.array(Command) }), ...errorResponses },
      },
      preValidation: auth,
    },
    async (req) => {
      loadDevice(req, req.params.enterprise, req.params.device, 'read');
      if (!ctx.commandStore) return { commands: [] };
      const list = await ctx.commandStore.list(req.params.enterprise, req.params.device, req.query.limit ?? 50);
      return { commands: list.map((c) => ({ ...c, steps: c.steps ?? [] })) };
    },
  );

  app.get(
    '/api/v1/devices/:enterprise/:device/commands/:id',
    { schema: { tags: ['commands'], summary: 'One command of a device, with every step', params: CommandParams, response: { 200: Command, ...errorResponses } }, preValidation: auth },
    async (req) => {
      loadDevice(req, req.params.enterprise, req.params.device, 'read');
      const c = await ctx.commandStore?.get(req.params.id);
      if (!c || c.enterprise !== req.params.enterprise || c.device !== req.params.device) throw new HazwatchError('HW_ERR_NOT_FOUND', `no command ${req.params.id} of ${req.params.enterprise}/${req.params.device}`);
      return { ...c, steps: c.steps ?? [] };
    },
  );
}
