// Jurisdictions (issue 15, docs/jurisdictions.md): the tree of provinces, cities, counties, towns and
// parks, and the node each enterprise belongs to. Everyone reads the part of the tree in its scope;
// administrators keep it — one with a jurisdiction only below its own node, so that nobody can widen
// their own scope by moving nodes or enterprises under themselves.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HazwatchError } from '../../contract/errors.ts';
import { JURISDICTION_KINDS, type JurisdictionNode as NodeRecord } from '../../registry/jurisdictions.ts';
import { authenticate, require, requestScope, userOf } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { EnterpriseParams, EpochMs, errorResponses, Id, Ok } from '../schemas.ts';

const Kind = z.enum(JURISDICTION_KINDS).describe('province, city, county, town or park');
const Code = z.string().regex(/^\d{6}(\d{3})?$/, '6 digits (GB/T 2260), 9 for a town').describe('National administrative division code: GB/T 2260 for provinces, cities and counties, the 9-digit statistical code for towns; parks have none');

export const JurisdictionNode = z.object({
  id: z.string(),
  name: z.string(),
  kind: Kind,
  parent: z.string().nullable().describe('The node above; null: directly under the platform'),
  code: z.string().nullable(),
  createdAt: EpochMs,
  updatedAt: EpochMs,
});
const NodeInput = z.object({ id: Id, name: z.string().trim().min(1).max(100), kind: Kind, parent: Id.nullable().default(null), code: Code.nullable().default(null) }).strict();
const NodeChange = z.object({ name: z.string().trim().min(1).max(100).optional(), kind: Kind.optional(), parent: Id.nullable().optional(), code: Code.nullable().optional() }).strict();
const Tree = z.object({
  scope: z.string().nullable().describe("The account's own node (null: the whole platform, or an enterprise user)"),
  path: z.array(JurisdictionNode).describe("From the top down to the account's node (an enterprise user: its enterprise's node)"),
  nodes: z.array(JurisdictionNode).describe('The nodes in scope, parents before their children'),
  enterprises: z.array(z.object({ id: z.string(), name: z.string(), jurisdiction: z.string().nullable() })).describe('The enterprises in scope and their node'),
});
const Params = z.object({ id: Id });
const Placement = z.object({ jurisdiction: Id.nullable().describe('The town or park (or any node) it belongs to; null: directly under the platform') }).strict();

export function jurisdictionRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);
  const tree = ctx.jurisdictions;
  const tags = ['jurisdictions'];

  /** The nodes an account sees: all, or its node and below (an enterprise user: none). */
  const visibleNodes = (req: FastifyRequest): Set<string> | undefined => {
    const scope = requestScope(req);
    if (scope.all) return undefined;
    return scope.node ? tree.subtree(scope.node) : new Set();
  };

  /** Where an administrator may put or change things: anywhere without a jurisdiction, else strictly below its own node. */
  const mayKeep = (req: FastifyRequest, node: string | null, what: string): void => {
    const scope = requestScope(req);
    if (scope.all) return;
    if (scope.node === null || node === null || node === scope.node || !tree.isAtOrBelow(node, scope.node)) {
      throw new HazwatchError('HW_ERR_FORBIDDEN', `${what}: account ${userOf(req).username} keeps only what lies below its jurisdiction ${scope.node}`, { field: what });
    }
  };
  /** As mayKeep, but its own node counts too (a parent, an enterprise's node). */
  const mayPlaceUnder = (req: FastifyRequest, node: string | null, what: string): void => {
    const scope = requestScope(req);
    if (scope.all || (scope.node !== null && node !== null && tree.isAtOrBelow(node, scope.node))) return;
    throw new HazwatchError('HW_ERR_FORBIDDEN', `${what}: account ${userOf(req).username} places things only at or below its jurisdiction ${scope.node}`, { field: what });
  };

  const loadNode = (req: FastifyRequest, id: string): NodeRecord => {
    const node = tree.node(id);
    const visible = visibleNodes(req);
    if (!node || (visible && !visible.has(id))) throw new HazwatchError('HW_ERR_NOT_FOUND', `no jurisdiction ${id}`);
    return node;
  };

  app.get('/api/v1/jurisdictions', { schema: { tags, summary: 'The jurisdiction tree in scope, with the enterprises in it', response: { 200: Tree, ...errorResponses } }, preValidation: auth }, async (req) => {
    const user = require(req, 'read');
    const scope = requestScope(req);
    const visible = visibleNodes(req);
    const enterprises = ctx.registry
      .enterprises()
      .filter((e) => scope.all || scope.enterprises.has(e.id))
      .map((e) => ({ id: e.id, name: e.name, jurisdiction: tree.jurisdictionOf(e.id) }));
    const own = user.role === 'enterprise' ? (user.enterprise ? tree.jurisdictionOf(user.enterprise) : null) : user.jurisdiction;
    return {
      scope: user.role === 'enterprise' ? null : user.jurisdiction,
      path: own ? tree.path(own) : [],
      nodes: tree.nodes().filter((n) => !visible || visible.has(n.id)),
      enterprises,
    };
  });

  app.get('/api/v1/jurisdictions/:id', { schema: { tags, summary: 'One node', params: Params, response: { 200: JurisdictionNode, ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'read');
    return loadNode(req, req.params.id);
  });

  app.post(
    '/api/v1/jurisdictions',
    { schema: { tags, summary: 'Add a node: its parent exists, kinds go downwards (a county under a city or province, a park under a county, city or province, ...), its code fits', body: NodeInput, response: { 201: JurisdictionNode, ...errorResponses } }, preValidation: auth, config: { audit: 'jurisdiction.create' } },
    async (req, reply) => {
      require(req, 'jurisdiction.write');
      req.auditTarget = req.body.id;
      mayPlaceUnder(req, req.body.parent, 'body.parent');
      const node = await inBody(() => tree.create(req.body));
      reply.code(201);
      return node;
    },
  );

  app.patch(
    '/api/v1/jurisdictions/:id',
    { schema: { tags, summary: 'Rename, move (parent), re-kind or re-code a node, with the same checks', params: Params, body: NodeChange, response: { 200: JurisdictionNode, ...errorResponses } }, preValidation: auth, config: { audit: 'jurisdiction.update' } },
    async (req) => {
      require(req, 'jurisdiction.write');
      req.auditTarget = req.params.id;
      loadNode(req, req.params.id);
      mayKeep(req, req.params.id, 'params.id');
      if (req.body.parent !== undefined) mayPlaceUnder(req, req.body.parent, 'body.parent');
      const node = await inBody(() => tree.update(req.params.id, req.body));
      if (!node) throw new HazwatchError('HW_ERR_NOT_FOUND', `no jurisdiction ${req.params.id}`);
      return node;
    },
  );

  app.delete('/api/v1/jurisdictions/:id', { schema: { tags, summary: 'Remove a node with nothing below it and no account bound to it', params: Params, response: { 200: Ok, ...errorResponses } }, preValidation: auth, config: { audit: 'jurisdiction.delete' } }, async (req) => {
    require(req, 'jurisdiction.write');
    req.auditTarget = req.params.id;
    loadNode(req, req.params.id);
    mayKeep(req, req.params.id, 'params.id');
    const bound = (await ctx.accounts.list()).filter((u) => u.jurisdiction === req.params.id).map((u) => u.username);
    if (bound.length) throw new HazwatchError('HW_ERR_CONFLICT', `accounts belong to jurisdiction ${req.params.id} (${bound.slice(0, 5).join(', ')}): move them first`);
    if (!(await tree.remove(req.params.id))) throw new HazwatchError('HW_ERR_NOT_FOUND', `no jurisdiction ${req.params.id}`);
    return { ok: true as const };
  });

  app.put(
    '/api/v1/enterprises/:enterprise/jurisdiction',
    {
      schema: { tags, summary: 'Put an enterprise under a node (its town or park), or directly under the platform (null)', params: EnterpriseParams, body: Placement, response: { 200: z.object({ enterprise: z.string(), jurisdiction: z.string().nullable() }), ...errorResponses } },
      preValidation: auth,
      config: { audit: 'enterprise.jurisdiction' },
    },
    async (req) => {
      const { enterprise } = req.params;
      require(req, 'enterprise.write', enterprise);
      req.auditTarget = enterprise;
      if (!ctx.registry.enterprise(enterprise)) throw new HazwatchError('HW_ERR_NOT_FOUND', `no enterprise ${enterprise}`);
      const node = req.body.jurisdiction;
      if (node !== null && !tree.node(node)) throw new HazwatchError('HW_ERR_VALIDATION', `body.jurisdiction: no jurisdiction ${node}`, { field: 'body.jurisdiction' });
      // An account with a jurisdiction moves its enterprises within it only: out of it, they would be lost to it.
      mayPlaceUnder(req, node, 'body.jurisdiction');
      await tree.setEnterprise(enterprise, node);
      return { enterprise, jurisdiction: tree.jurisdictionOf(enterprise) };
    },
  );
}

/** The store's refusals name the input's fields; the API's are under `body.`. */
async function inBody<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof HazwatchError && typeof err.detail?.field === 'string' && !err.detail.field.startsWith('body.')) {
      throw new HazwatchError(err.code, `body.${err.message}`, { ...err.detail, field: `body.${err.detail.field}` });
    }
    throw err;
  }
}
