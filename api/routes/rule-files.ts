// Rule overrides from the console (issue 15): the override files in force, a candidate checked as
// `hazwatch rules --check` checks, saved into the first writable directory of rules.files (the rules
// engine reloads it by itself), removed; and a device's threshold rules beside the class's defaults.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HazwatchError } from '../../contract/errors.ts';
import { loadRuleSet, type RuleSet } from '../../rules/definitions.ts';
import { authenticate, inScope, require, requestScope } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { checkOverride, overrideFiles, removeOverride, saveOverride, thresholdsBeside, writableDir, type OverrideScope } from '../rule-files.ts';
import { DeviceParams, EnterpriseParams, errorResponses, Id } from '../schemas.ts';

const RuleText = z.string().max(200_000).describe('The override file as YAML (or JSON), as it will be saved');
const CheckBody = z.object({ enterprise: Id, device: Id.optional(), text: RuleText }).strict();
const CheckAnswer = z.object({ ok: z.boolean(), message: z.string().describe('`rules ok: N files (...)` as `hazwatch rules --check` prints it, or what is wrong, naming the file and the rule') });
const OverrideView = z.object({
  name: z.string(),
  path: z.string().nullable().describe("Where it is on the API's machine (null for enterprise users)"),
  scope: z.number().describe('1 class-wide, 2 an enterprise, 3 a device'),
  class: z.string().nullable(),
  enterprise: z.string().nullable(),
  device: z.string().nullable(),
  rules: z.number(),
  text: z.string(),
  managed: z.boolean().describe('Saved from the console: the file it edits for that enterprise or device'),
});
const OverrideList = z.object({
  saving: z.boolean().describe('Whether saving is on: rules.files names a directory the API can write'),
  error: z.string().nullable().describe('The rule files in force do not load (the rules engine keeps its last good set)'),
  files: z.array(OverrideView),
});
const SaveBody = z.object({ text: RuleText }).strict();
const Saved = z.object({ name: z.string(), message: z.string() });
const StageView = z.object({
  level: z.number(),
  raise: z.number().nullable(),
  from: z.string(),
  default: z.object({ raise: z.number().nullable(), from: z.string(), source: z.string().nullable() }).nullable(),
});
const DeviceRules = z.object({
  rules: z.array(z.object({ id: z.string(), condition: z.string(), metric: z.string(), direction: z.string(), file: z.string(), stages: z.array(StageView) })),
});

export function ruleFileRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);
  // The defaults ship with the code and never change while it runs.
  let defaults: RuleSet | undefined;

  const scopeOf = (req: FastifyRequest, enterprise: string, device: string | undefined, permission: 'read' | 'rules.write'): OverrideScope => {
    require(req, permission, enterprise);
    if (!ctx.registry.enterprise(enterprise)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no enterprise ${enterprise}`);
    if (device !== undefined && !ctx.registry.device(enterprise, device)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no device ${enterprise}/${device}`);
    req.auditTarget = device ? `${enterprise}/${device}` : enterprise;
    return device ? { enterprise, device } : { enterprise };
  };

  app.get('/api/v1/rules/overrides', { schema: { tags: ['rules'], summary: 'The rule override files in force (rules.files), with their text', response: { 200: OverrideList, ...errorResponses } }, preValidation: auth }, async (req) => {
    const user = require(req, 'read');
    const saving = writableDir(ctx.ruleFiles) !== null;
    let files;
    try {
      files = overrideFiles(ctx.ruleFiles);
    } catch (err) {
      return { saving, error: (err as Error).message, files: [] };
    }
    // An enterprise sees the overrides about itself; the bureau's class-wide files and paths are the bureau's.
    // An account with a jurisdiction likewise sees those of its enterprises (docs/jurisdictions.md).
    const scope = requestScope(req);
    const mine = scope.all ? files : files.filter((f) => f.enterprise !== null && f.enterprise !== undefined && inScope(scope, f.enterprise));
    return { saving, error: null, files: mine.map((f) => ({ ...f, path: user.role === 'enterprise' ? null : f.path })) };
  });

  app.post(
    '/api/v1/rules/check',
    { schema: { tags: ['rules'], summary: 'Check an override file for an enterprise or a device as `hazwatch rules --check` would, with it in place; saves nothing', body: CheckBody, response: { 200: CheckAnswer, ...errorResponses } }, preValidation: auth, config: { audit: 'rules.check' } },
    async (req) => checkOverride(ctx.ruleFiles, scopeOf(req, req.body.enterprise, req.body.device, 'read'), req.body.text),
  );

  const save = async (req: FastifyRequest, scope: OverrideScope, text: string) => {
    const { path, message } = saveOverride(ctx.ruleFiles, scope, text);
    req.auditDetail = { file: path };
    ctx.log.info({ file: path, by: req.user?.username }, 'rule override saved from the console');
    return { name: path.split(/[\\/]/).pop()!, message };
  };
  const remove = async (req: FastifyRequest, scope: OverrideScope) => {
    const { path, message } = removeOverride(ctx.ruleFiles, scope);
    req.auditDetail = { file: path };
    ctx.log.info({ file: path, by: req.user?.username }, 'rule override removed from the console');
    return { name: path.split(/[\\/]/).pop()!, message };
  };
  const saveSchema = (summary: string, params: z.ZodTypeAny) => ({ tags: ['rules'], summary, params, body: SaveBody, response: { 200: Saved, ...errorResponses } });
  const removeSchema = (summary: string, params: z.ZodTypeAny) => ({ tags: ['rules'], summary, params, response: { 200: Saved, ...errorResponses } });

  app.put(
    '/api/v1/rules/overrides/:enterprise',
    { schema: saveSchema("Save the enterprise's override file (checked first; the rules engine reloads it)", EnterpriseParams), preValidation: auth, config: { audit: 'rules.save' } },
    async (req) => save(req, scopeOf(req, (req.params as { enterprise: string }).enterprise, undefined, 'rules.write'), (req.body as { text: string }).text),
  );
  app.put(
    '/api/v1/rules/overrides/:enterprise/:device',
    { schema: saveSchema("Save a device's override file (checked first; the rules engine reloads it)", DeviceParams), preValidation: auth, config: { audit: 'rules.save' } },
    async (req) => {
      const p = req.params as { enterprise: string; device: string };
      return save(req, scopeOf(req, p.enterprise, p.device, 'rules.write'), (req.body as { text: string }).text);
    },
  );
  app.delete(
    '/api/v1/rules/overrides/:enterprise',
    { schema: removeSchema("Remove the enterprise's override file saved from the console", EnterpriseParams), preValidation: auth, config: { audit: 'rules.delete' } },
    async (req) => remove(req, scopeOf(req, (req.params as { enterprise: string }).enterprise, undefined, 'rules.write')),
  );
  app.delete(
    '/api/v1/rules/overrides/:enterprise/:device',
    { schema: removeSchema("Remove a device's override file saved from the console", DeviceParams), preValidation: auth, config: { audit: 'rules.delete' } },
    async (req) => {
      const p = req.params as { enterprise: string; device: string };
      return remove(req, scopeOf(req, p.enterprise, p.device, 'rules.write'));
    },
  );

  app.get(
    '/api/v1/enterprises/:enterprise/devices/:device/rules',
    { schema: { tags: ['rules'], summary: "The device's threshold rules in force, each stage beside the class's default and the standard it comes from", params: DeviceParams, response: { 200: DeviceRules, ...errorResponses } }, preValidation: auth },
    async (req) => {
      require(req, 'read', req.params.enterprise);
      const d = ctx.registry.device(req.params.enterprise, req.params.device);
      if (!d) throw new HazwatchError('HW_ERR_NOT_FOUND', `no device ${req.params.enterprise}/${req.params.device}`);
      defaults ??= loadRuleSet([]);
      let inForce: RuleSet;
      try {
        inForce = loadRuleSet(ctx.ruleFiles);
      } catch (err) {
        throw new HazwatchError('HW_ERR_RULES_INVALID', (err as Error).message);
      }
      return { rules: thresholdsBeside(inForce, defaults, d) };
    },
  );
}
