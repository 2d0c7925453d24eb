// The API server: fastify with zod schemas (validation and OpenAPI from one source), sessions,
// audit of every write, Prometheus metrics, the live stream and the console's static files.
import cookie from '@fastify/cookie';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler } from 'fastify-type-provider-zod';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ERRORS, HazwatchError, type ErrorCode } from '../contract/errors.ts';
import { counter, histogram } from '../core/metrics.ts';
import type { ApiContext } from './context.ts';
import { alarmRoutes } from './routes/alarms.ts';
import { plantRoutes } from './routes/plant.ts';
import { qualityRoutes } from './routes/quality.ts';
import { demoRoutes } from './routes/demo.ts';
import { exportRoutes } from './routes/exports.ts';
import { resourceRoutes } from './routes/resources.ts';
import { warningRoutes } from './routes/warnings.ts';
import { dutyRoutes } from './routes/duty.ts';
import { dangerRoutes } from './routes/dangers.ts';
import { commandRoutes } from './routes/commands.ts';
import { sessionRoutes } from './routes/session.ts';
import { jurisdictionRoutes } from './routes/jurisdictions.ts';
import { ruleFileRoutes } from './routes/rule-files.ts';
import { streamRoutes, type Streamer } from './routes/stream.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

export const STATUS: Partial<Record<ErrorCode, number>> = {
  HW_ERR_VALIDATION: 400,
  HW_ERR_UNAUTHENTICATED: 401,
  HW_ERR_FORBIDDEN: 403,
  HW_ERR_NOT_FOUND: 404,
  HW_ERR_CONFLICT: 409,
  HW_ERR_ALARM_TRANSITION: 409,
  HW_ERR_TOO_MANY_REQUESTS: 429,
  HW_ERR_UNAVAILABLE: 503,
  HW_ERR_DUTY_OVERLAP: 409,
  HW_ERR_DUTY_PERSON: 400,
  HW_ERR_HANDOVER_SAME_ACCOUNT: 403,
  HW_ERR_HANDOVER_SIGNED: 409,
  HW_ERR_DANGER_TRANSITION: 409,
  HW_ERR_DANGER_NO_EVIDENCE: 409,
  HW_ERR_DANGER_SAME_ACCOUNT: 403,
  HW_ERR_EVIDENCE_TYPE: 415,
  HW_ERR_EVIDENCE_TOO_LARGE: 413,
  HW_ERR_WARNING_STATE: 409,
  HW_ERR_FOUR_EYES: 403,
  HW_ERR_WARNING_NO_RECIPIENTS: 409,
  HW_ERR_WARNING_AUDIENCE: 400,
  HW_ERR_COMMAND_UNKNOWN: 400,
  HW_ERR_COMMAND_ARGS: 400,
  HW_ERR_COMMAND_REVOKED: 409,
  HW_ERR_COMMAND_OFFLINE: 409,
  HW_ERR_COMMAND_BUSY: 409,
  HW_ERR_COMMAND_BROKER: 503,
};

/** Where the console's front-end libraries are served from: straight out of node_modules, no bundler. */
function packageDir(name: string): string {
  let dir = dirname(require.resolve(name));
  while (!existsSync(join(dir, 'package.json')) || basename(dir) !== name) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the folder of package ${name}`);
    dir = up;
  }
  return dir;
}

/** Never put a password or a token into the audit log. */
function redact(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redact);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, /password|token|secret/i.test(k) ? '********' : redact(v)]));
  }
  return value;
}

export interface BuiltApi {
  app: FastifyInstance;
  streamer: Streamer;
}

export async function buildApi(ctx: ApiContext, options: { streamPollMs?: number } = {}): Promise<BuiltApi> {
  const app = Fastify({
    loggerInstance: ctx.log as unknown as FastifyBaseLogger,
    // Requests are counted in metrics and writes audited; a log line per request would drown the rest.
    logController: new LogController({ disableRequestLogging: true }),
    trustProxy: ctx.config.trustProxy,
    bodyLimit: 1_048_576,
  });
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  // The scope rule (api/auth.ts scopeOf) reads the jurisdiction tree from here, on every route.
  app.decorate('jurisdictions', ctx.jurisdictions);

  const requests = counter(ctx.metrics, 'hazwatch_api_requests_total', 'API requests by route and status', ['method', 'route', 'status']);
  const duration = histogram(ctx.metrics, 'hazwatch_api_request_duration_seconds', 'API request duration', ['method', 'route'], [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]);
  const refusals = counter(ctx.metrics, 'hazwatch_api_refusals_total', 'API requests refused, by reason', ['reason']);
  const audited = counter(ctx.metrics, 'hazwatch_api_audit_entries_total', 'Entries written to the audit log', ['action']);
  const logins = counter(ctx.metrics, 'hazwatch_api_logins_total', 'Sign-in attempts', ['outcome']);

  app.setErrorHandler((err: FastifyError | HazwatchError, req, reply) => {
    let status: number;
    let body: { code: ErrorCode; message: string; field?: string; issues?: { field: string; message: string }[] };
    if (hasZodFastifySchemaValidationErrors(err)) {
      const where = err.validationContext ?? 'body';
      const issues = err.validation.map((v) => {
        const path = (v.params?.issue as { path?: (string | number)[] } | undefined)?.path ?? v.instancePath.split('/').filter(Boolean);
        const field = [where, ...path].join('.');
        return { field, message: v.message ?? 'invalid' };
      });
      status = 400;
      body = { code: 'HW_ERR_VALIDATION', message: issues.map((i) => `${i.field}: ${i.message}`).join('; '), field: issues[0]?.field, issues };
    } else if (err instanceof HazwatchError) {
      status = STATUS[err.code] ?? 400;
      const field = typeof err.detail?.field === 'string' ? err.detail.field : undefined;
      body = { code: err.code, message: err.message, ...(field ? { field } : {}) };
    } else if ((err as FastifyError).statusCode === 429) {
      status = 429;
      body = { code: 'HW_ERR_TOO_MANY_REQUESTS', message: ERRORS.HW_ERR_TOO_MANY_REQUESTS.message };
    } else if ((err as FastifyError).statusCode && (err as FastifyError).statusCode! < 500) {
      // fastify's own refusals: bad JSON, wrong content type, body too large.
      status = (err as FastifyError).statusCode!;
      body = { code: 'HW_ERR_VALIDATION', message: err.message, field: 'body' };
    } else {
      req.log.error({ err, url: req.url }, 'request failed');
      return reply.code(500).send({ code: 'HW_ERR_UNAVAILABLE', message: 'internal error; the details are in the server log' });
    }
    refusals.inc({ reason: body.code });
    return reply.code(status).send(body);
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ code: 'HW_ERR_NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` }));

  await app.register(cookie);
  await app.register(rateLimit, {
    global: false,
    errorResponseBuilder: (_req, context) => ({ statusCode: 429, code: 'HW_ERR_TOO_MANY_REQUESTS', message: `${ERRORS.HW_ERR_TOO_MANY_REQUESTS.message} (retry in ${Math.ceil(context.ttl / 1000)} s)` }),
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'hazwatch operator API', version: '1', description: 'Hazard-source monitoring: enterprises, hazard sources, devices, values, alarms and their closed loop, maintenance, emergency resources, audit.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' }, cookie: { type: 'apiKey', in: 'cookie', name: 'hw_session' } } },
      security: [{ bearer: [] }, { cookie: [] }],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  // Metrics and audit, for every route.
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    duration.observe({ method: req.method, route }, reply.elapsedTime / 1000);
    const action = req.routeOptions.config?.audit;
    if (!action) return;
    const who = req.user ?? req.auditAs;
    if (action === 'session.login') logins.inc({ outcome: reply.statusCode < 300 ? 'ok' : 'refused' });
    if (!who) return;
    try {
      await ctx.accounts.audit({
        username: who.username,
        role: 'role' in who ? who.role : 'unknown',
        enterprise: req.auditEnterprise ?? (req.user?.role === 'enterprise' ? req.user.enterprise : null) ?? null,
        action,
        method: req.method,
        path: req.url.split('?')[0],
        status: reply.statusCode,
        target: req.auditTarget ?? null,
        detail: req.body && typeof req.body === 'object' ? { ...(redact(req.body) as Record<string, unknown>), ...req.auditDetail } : (req.auditDetail ?? null),
        ip: req.ip,
      });
      audited.inc({ action });
    } catch (err) {
      req.log.error({ err, action }, 'audit entry could not be written');
    }
  });

  app.get('/healthz', { schema: { hide: true } }, async () => 'ok\n');
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) => (ctx.ready() ? 'ready\n' : reply.code(503).send('not ready\n')));
  app.get('/metrics', { schema: { hide: true } }, async (_req, reply) => reply.type(ctx.metrics.contentType).send(await ctx.metrics.metrics()));

  sessionRoutes(app, ctx);
  jurisdictionRoutes(app, ctx);
  plantRoutes(app, ctx);
  alarmRoutes(app, ctx);
  qualityRoutes(app, ctx);
  demoRoutes(app, ctx);
  resourceRoutes(app, ctx);
  dutyRoutes(app, ctx);
  dangerRoutes(app, ctx);
  commandRoutes(app, ctx);
  warningRoutes(app, ctx);
  exportRoutes(app, ctx);
  ruleFileRoutes(app, ctx);
  const streamer = streamRoutes(app, ctx, { pollMs: options.streamPollMs });

  // The console: plain ES modules, the libraries straight from node_modules (see docs/console.md).
  await app.register(fastifyStatic, { root: join(HERE, 'console'), prefix: '/console/', index: false, maxAge: 0 });
  await app.register(fastifyStatic, { root: packageDir('preact'), prefix: '/vendor/preact/', decorateReply: false, allowedPath: (p) => p.endsWith('.mjs') });
  await app.register(fastifyStatic, { root: packageDir('htm'), prefix: '/vendor/htm/', decorateReply: false, allowedPath: (p) => p.endsWith('.mjs') });
  // The map (docs/console.md): Leaflet's ES module and stylesheet, supercluster and its kd-tree, nothing else of the packages.
  await app.register(fastifyStatic, { root: join(packageDir('leaflet'), 'dist'), prefix: '/vendor/leaflet/', decorateReply: false, allowedPath: (p) => /^\/(leaflet-src\.esm\.js|leaflet\.css|images\/[\w-]+\.png)$/.test(p) });
  await app.register(fastifyStatic, { root: packageDir('supercluster'), prefix: '/vendor/supercluster/', decorateReply: false, allowedPath: (p) => p === '/index.js' });
  await app.register(fastifyStatic, { root: packageDir('kdbush'), prefix: '/vendor/kdbush/', decorateReply: false, allowedPath: (p) => p === '/index.js' });
  // The device page's trend chart (docs/console.md): uPlot's ES module and stylesheet only.
  await app.register(fastifyStatic, { root: join(packageDir('uplot'), 'dist'), prefix: '/vendor/uplot/', decorateReply: false, allowedPath: (p) => p === '/uPlot.esm.js' || p === '/uPlot.min.css' });
  app.get('/', { schema: { hide: true } }, async (_req, reply) => reply.header('cache-control', 'no-store').sendFile('index.html', join(HERE, 'console')));
  // Before the server stops: open streams would otherwise keep it from closing.
  app.addHook('preClose', async () => streamer.close());
  return { app, streamer };
}
