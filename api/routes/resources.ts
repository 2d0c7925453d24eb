// Emergency resources (issue 17): rescue teams, warehouses, vehicles, equipment, shelters, fire
// stations and experts, with where they are; imported from the bureau's CSV or Excel sheets; and for
// an alarm, the nearest of those its device class needs. Supervisors and administrators write;
// everyone reads in scope (an enterprise user: its own enterprise's resources and the public ones).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HazwatchError } from '../../contract/errors.ts';
import { devicePosition, type LatLon } from '../../registry/geo.ts';
import { needsFor, RESOURCE_KIND_IDS, type ResourceKind } from '../../resources/catalog.ts';
import { readResources, type ImportFormat } from '../../resources/import.ts';
import { ResourceInput, resourceIssues, type Resource as ResourceRecord } from '../../resources/model.ts';
import { nearestResources } from '../../resources/nearest.ts';
import type { Bbox } from '../../resources/store.ts';
import { authenticate, inScope, require, requestScope, scopeFilter } from '../auth.ts';
import type { ApiContext } from '../context.ts';
import { AlarmParams, ApiError, EpochMs, errorResponses, Id, Ok } from '../schemas.ts';

export const Resource = ResourceInput.extend({ createdAt: EpochMs, updatedAt: EpochMs }).describe('An emergency resource');
const ResourceParams = z.object({ id: Id });

const kindList = z
  .preprocess((v) => (typeof v === 'string' ? v.split(',').filter(Boolean) : v), z.array(z.enum(RESOURCE_KIND_IDS as [ResourceKind, ...ResourceKind[]])))
  .optional()
  .describe('Comma-separated kinds: rescue_team, warehouse, vehicle, equipment, shelter, fire_station, expert');
const bboxParam = z
  .string()
  .transform((v, c) => {
    const n = v.split(',').map((x) => Number(x.trim()));
    const [west, south, east, north] = n;
    if (n.length !== 4 || n.some((x) => !Number.isFinite(x)) || south > north || Math.abs(south) > 90 || Math.abs(north) > 90 || Math.abs(west) > 180 || Math.abs(east) > 180) {
      c.addIssue({ code: 'custom', message: 'west,south,east,north in decimal degrees (longitude, latitude, longitude, latitude)' });
      return z.NEVER;
    }
    return n as Bbox;
  })
  .optional()
  .describe('Only resources inside this box: west,south,east,north (lon,lat,lon,lat, WGS-84)');
export const ResourceQuery = z.object({ kind: kindList, bbox: bboxParam, enterprise: Id.optional() }).strict();

export const RowError = z.object({
  row: z.number().int().describe('Row as the spreadsheet numbers it (header: usually 1)'),
  column: z.string().nullable().describe('The column as the file heads it; null: the row or the file'),
  value: z.string().optional().describe('The cell as written'),
  message: z.string(),
});
export const ImportReport = z.object({
  dryRun: z.boolean().describe('Checked only, nothing stored'),
  rows: z.number().int().describe('Data rows read'),
  imported: z.number().int().describe('Resources in the file (rows of one warehouse count once)'),
  created: z.number().int(),
  updated: z.number().int().describe('Resources whose id existed: replaced'),
  ignoredColumns: z.array(z.string()).describe('Columns of the file that mean nothing here'),
});
export const ImportRefusal = ApiError.extend({
  errors: z.array(RowError).describe('Every wrong cell (at most 500), in row order'),
  errorCount: z.number().int(),
  rows: z.number().int(),
}).describe('Nothing was imported: the file has errors');

const Nearby = Resource.extend({ distanceKm: z.number().describe('Great-circle distance, km'), matched: z.array(z.string()).describe('Specialities or items that answer the need') });
export const NearestResources = z.object({
  alarm: z.string(),
  deviceClass: z.string(),
  condition: z.string(),
  position: z
    .object({ lat: z.number(), lon: z.number(), from: z.enum(['device', 'hazardSource', 'enterprise']).describe('Whose coordinates the alarm was placed at') })
    .nullable()
    .describe('Where the alarm is; null: neither its device, its hazard source nor its enterprise has coordinates'),
  needs: z.array(
    z.object({
      kind: z.enum(RESOURCE_KIND_IDS as [ResourceKind, ...ResourceKind[]]),
      specialities: z.array(z.string()),
      items: z.array(z.string()),
      resources: z.array(Nearby).describe('Nearest first'),
    }),
  ),
});

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
const IMPORT_LIMIT = 20 * 1024 * 1024;

export function resourceRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);

  /** The resource, if the user may see it; another enterprise's is "not found". */
  const loadResource = async (req: FastifyRequest, id: string): Promise<ResourceRecord> => {
    require(req, 'read');
    const r = await ctx.resources.get(id);
    // Public resources (no enterprise) are everyone's; an enterprise's only within its scope.
    if (!r || (r.enterprise !== null && !inScope(req, r.enterprise))) throw new HazwatchError('HW_ERR_NOT_FOUND', `no resource ${id}`);
    return r;
  };

  const check = (r: ResourceInput) => {
    const issues = resourceIssues(r, (e) => ctx.registry.enterprise(e) !== undefined);
    if (issues.length) {
      throw new HazwatchError('HW_ERR_VALIDATION', issues.map((i) => `body.${i.field}: ${i.message}`).join('; '), { field: `body.${issues[0].field}` });
    }
  };

  app.get(
    '/api/v1/resources',
    { schema: { tags: ['resources'], summary: 'Emergency resources in scope, by kind and inside a box', querystring: ResourceQuery, response: { 200: z.array(Resource), ...errorResponses } }, preValidation: auth },
    async (req) => {
      require(req, 'read');
      const scope = requestScope(req);
      const enterprise = req.query.enterprise !== undefined ? scopeFilter(req, req.query.enterprise)![0] : undefined;
      const list = await ctx.resources.list({ kinds: req.query.kind, bbox: req.query.bbox, enterprise });
      return list.filter((r) => r.enterprise === null || inScope(scope, r.enterprise));
    },
  );

  app.get('/api/v1/resources/:id', { schema: { tags: ['resources'], summary: 'One emergency resource', params: ResourceParams, response: { 200: Resource, ...errorResponses } }, preValidation: auth }, async (req) =>
    loadResource(req, req.params.id),
  );

  app.post(
    '/api/v1/resources',
    { schema: { tags: ['resources'], summary: 'Register an emergency resource', body: ResourceInput, response: { 201: Resource, ...errorResponses } }, preValidation: auth, config: { audit: 'resource.create' } },
    async (req, reply) => {
      require(req, 'resource.write');
      req.auditTarget = req.body.id;
      if (req.body.enterprise) require(req, 'resource.write', req.body.enterprise);
      if (await ctx.resources.get(req.body.id)) throw new HazwatchError('HW_ERR_CONFLICT', `resource ${req.body.id} already exists; PUT /api/v1/resources/${req.body.id} replaces it`, { field: 'body.id' });
      check(req.body);
      reply.code(201);
      return (await ctx.resources.put(req.body)).resource;
    },
  );

  app.put(
    '/api/v1/resources/:id',
    {
      schema: { tags: ['resources'], summary: 'Create or replace an emergency resource', params: ResourceParams, body: ResourceInput.omit({ id: true }), response: { 200: Resource, 201: Resource, ...errorResponses } },
      preValidation: auth,
      config: { audit: 'resource.update' },
    },
    async (req, reply) => {
      require(req, 'resource.write');
      req.auditTarget = req.params.id;
      if (req.body.enterprise) require(req, 'resource.write', req.body.enterprise);
      // Another scope's resource is not replaced (nor confirmed to exist).
      if (await ctx.resources.get(req.params.id)) await loadResource(req, req.params.id);
      const input = { ...req.body, id: req.params.id };
      check(input);
      const { resource, created } = await ctx.resources.put(input);
      reply.code(created ? 201 : 200);
      return resource;
    },
  );

  app.delete(
    '/api/v1/resources/:id',
    { schema: { tags: ['resources'], summary: 'Remove an emergency resource', params: ResourceParams, response: { 200: Ok, ...errorResponses } }, preValidation: auth, config: { audit: 'resource.delete' } },
    async (req) => {
      require(req, 'resource.write');
      req.auditTarget = req.params.id;
      await loadResource(req, req.params.id);
      if (!(await ctx.resources.remove(req.params.id))) throw new HazwatchError('HW_ERR_NOT_FOUND', `no resource ${req.params.id}`);
      return { ok: true as const };
    },
  );

  // ---- import: the file is the request body (text/csv or the .xlsx content type) ----
  void root.register(async (scope) => {
    // The file as the body, out of sight of the audit log (which records a write's body): it records
    // the size, the format and the outcome instead.
    const raw = (_req: FastifyRequest, body: Buffer, done: (err: Error | null, body?: unknown) => void) =>
      done(null, Object.defineProperty({ bytes: body.length }, 'file', { value: body, enumerable: false }));
    for (const type of ['text/csv', 'application/csv', 'text/plain', XLSX_TYPE, 'application/octet-stream', 'application/vnd.ms-excel']) {
      scope.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: IMPORT_LIMIT }, raw);
    }
    scope.withTypeProvider<ZodTypeProvider>().post(
      '/api/v1/resources/import',
      {
        schema: {
          tags: ['resources'],
          summary: 'Import resources from a CSV or Excel (.xlsx) file sent as the body: all or nothing',
          description:
            'Send the file itself as the body with `Content-Type: text/csv` or `application/vnd.openxmlformats-officedocument.spreadsheetml.sheet` (or `?format=`). Columns by their Chinese or English header (docs/resources.md); a resource whose id exists is replaced. When any row is wrong, nothing is stored and every wrong cell is listed with its row and column.',
          querystring: z
            .object({
              format: z.enum(['csv', 'xlsx']).optional().describe('Default: from the content type (or the file itself)'),
              dryRun: z.enum(['true', 'false']).optional().describe('true: check only, store nothing'),
            })
            .strict(),
          response: { 200: ImportReport, 400: ImportRefusal, 401: ApiError, 403: ApiError },
        },
        preValidation: auth,
        config: { audit: 'resource.import' },
      },
      async (req, reply) => {
        require(req, 'resource.write');
        const bytes = (req.body as { file?: unknown } | undefined)?.file;
        if (!Buffer.isBuffer(bytes) || bytes.length === 0) {
          return reply.code(400).send({ code: 'HW_ERR_VALIDATION' as const, message: 'send the CSV or .xlsx file as the request body (Content-Type text/csv or the .xlsx type)', field: 'body', errors: [], errorCount: 0, rows: 0 });
        }
        const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
        const zip = bytes[0] === 0x50 && bytes[1] === 0x4b;
        const format: ImportFormat = req.query.format ?? (type === XLSX_TYPE || (type !== 'text/csv' && zip) ? 'xlsx' : 'csv');
        const byName = new Map(ctx.registry.enterprises().map((e) => [e.name.trim(), e.id]));
        // Enterprises outside the account's scope are not found, as in every other request.
        const result = await readResources(bytes, format, { enterprise: (t) => [ctx.registry.enterprise(t) ? t : byName.get(t.trim())].find((id) => id !== undefined && inScope(req, id)) });
        if (result.errorCount) {
          req.auditDetail = { format, errors: result.errorCount, rows: result.rows };
          return reply.code(400).send({
            code: 'HW_ERR_VALIDATION' as const,
            message: `${result.errorCount} error${result.errorCount > 1 ? 's' : ''} in the file; nothing was imported`,
            field: 'body',
            errors: result.errors,
            errorCount: result.errorCount,
            rows: result.rows,
          });
        }
        const dryRun = req.query.dryRun === 'true';
        let counts = { created: 0, updated: 0 };
        if (dryRun) {
          for (const r of result.resources) (await ctx.resources.get(r.id)) ? counts.updated++ : counts.created++;
        } else counts = await ctx.resources.putAll(result.resources);
        req.auditDetail = { format, rows: result.rows, dryRun, ...counts };
        return { dryRun, rows: result.rows, imported: result.resources.length, ...counts, ignoredColumns: result.ignoredColumns };
      },
    );
  });

  // ---- the nearest resources an alarm needs ----
  app.get(
    '/api/v1/alarms/:id/nearest-resources',
    {
      schema: {
        tags: ['resources', 'alarms'],
        summary: "The nearest resources of the kinds the alarm's device class needs, with great-circle distances",
        params: AlarmParams,
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(50).default(3).describe('At most this many per need') }).strict(),
        response: { 200: NearestResources, ...errorResponses },
      },
      preValidation: auth,
    },
    async (req) => {
      require(req, 'read');
      const alarm = await ctx.alarms.get(req.params.id);
      if (!alarm) throw new HazwatchError('HW_ERR_NOT_FOUND', `no alarm ${req.params.id}`);
      require(req, 'read', alarm.enterprise, { hide: true });
      const scope = requestScope(req);
      const position = await alarmPosition(ctx, alarm.enterprise, alarm.device, alarm.hazardSource);
      const needs = needsFor(alarm.deviceClass, alarm.condition);
      const resources = position && needs.length ? (await ctx.resources.list({ kinds: [...new Set(needs.map((n) => n.kind))] })).filter((r) => r.enterprise === null || inScope(scope, r.enterprise)) : [];
      return {
        alarm: alarm.id,
        deviceClass: alarm.deviceClass,
        condition: alarm.condition,
        position,
        needs: (position ? nearestResources(resources, position, needs, req.query.limit) : needs.map((need) => ({ need, resources: [] }))).map((g) => ({
          kind: g.need.kind,
          specialities: g.need.specialities ?? [],
          items: g.need.items ?? [],
          resources: g.resources.map((n) => ({ ...n.resource, distanceKm: n.distanceKm, matched: n.matched })),
        })),
      };
    },
  );
}

/** Where an alarm is: its device's own coordinates, else its hazard source's, else its enterprise's. */
export async function alarmPosition(ctx: ApiContext, enterprise: string, device: string, hazardSource: string | null): Promise<(LatLon & { from: 'device' | 'hazardSource' | 'enterprise' }) | null> {
  const d = ctx.registry.device(enterprise, device);
  const own = d ? devicePosition(d.meta) : null;
  if (own) return { ...own, from: 'device' };
  const sourceId = hazardSource ?? d?.hazardSource ?? null;
  const source = sourceId ? await ctx.sources.get(enterprise, sourceId) : undefined;
  if (source && source.lat !== null && source.lon !== null) return { lat: source.lat, lon: source.lon, from: 'hazardSource' };
  const e = ctx.registry.enterprise(enterprise);
  if (e?.lat !== undefined && e.lon !== undefined) return { lat: e.lat, lon: e.lon, from: 'enterprise' };
  return null;
}
