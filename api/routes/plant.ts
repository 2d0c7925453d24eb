// Enterprises, their hazard sources and devices: provisioning (credentials shown once), revocation,
// per-device process limits, latest values and the last-hour chart.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { DEVICE_CLASSES, metricSpec } from '../../contract/catalog.ts';
import { HazwatchError } from '../../contract/errors.ts';
import { ALARM_CONDITIONS, LEVEL_COLOURS, type MaintenanceWindow } from '../../contract/alarms.ts';
import type { DeviceRecord, Enterprise as EnterpriseRecord } from '../../registry/registry.ts';
import { checkLatLon, type LatLon } from '../../registry/geo.ts';
import { RESOURCE_CATALOG } from '../../resources/catalog.ts';
import { PLAN_HEIGHT, PLAN_WIDTH } from '../../registry/hazard-sources.ts';
import { authenticate, inScope, PERMISSIONS, require, requestScope, scopeFilter, userOf } from '../auth.ts';
import { deviceChart } from '../chart.ts';
import type { ApiContext } from '../context.ts';
import {
  Chart,
  Credentials,
  Device,
  DeviceChange,
  DeviceInput,
  DeviceLatest,
  DeviceParams,
  Enterprise,
  EnterpriseChange,
  EnterpriseInput,
  EnterpriseParams,
  errorResponses,
  HazardSource,
  HazardSourceChange,
  HazardSourceInput,
  Id,
  Limits,
  SourceParams,
  Thresholds,
  ThresholdsView,
  EffectiveRule,
} from '../schemas.ts';
import { loadRuleSet, resolveThreshold } from '../../rules/definitions.ts';

type LimitSet = z.infer<typeof Limits>;

/** HH ≥ H > L ≥ LL where given; throws naming the field. */
export function checkLimits(cls: DeviceRecord['class'], limits: Record<string, LimitSet>): void {
  for (const [metric, set] of Object.entries(limits)) {
    const field = `body.limits.${metric}`;
    const spec = metricSpec(cls, metric);
    if (!spec || spec.type !== 'number') throw new HazwatchError('HW_ERR_VALIDATION', `${field}: ${cls} has no numeric metric ${metric}`, { field });
    for (const [name, value] of Object.entries(set) as [string, number | undefined][]) {
      if (value === undefined) continue;
      if ((spec.min !== undefined && value < spec.min) || (spec.max !== undefined && value > spec.max)) {
        throw new HazwatchError('HW_ERR_VALIDATION', `${field}.${name}: ${value} ${spec.unit} is outside the physical range [${spec.min}, ${spec.max}]`, { field: `${field}.${name}` });
      }
    }
    const order: [keyof LimitSet, keyof LimitSet, boolean][] = [
      ['HH', 'H', true],
      ['H', 'L', false],
      ['L', 'LL', true],
      ['HH', 'L', false],
      ['H', 'LL', false],
      ['HH', 'LL', false],
    ];
    for (const [hi, lo, equalOk] of order) {
      const a = set[hi];
      const b = set[lo];
      if (a === undefined || b === undefined) continue;
      if (equalOk ? a < b : a <= b) throw new HazwatchError('HW_ERR_VALIDATION', `${field}: ${hi} (${a}) must be ${equalOk ? '≥' : '>'} ${lo} (${b})`, { field: `${field}.${hi}` });
    }
  }
}

export function plantRoutes(root: FastifyInstance, ctx: ApiContext): void {
  const app = root.withTypeProvider<ZodTypeProvider>();
  const auth = authenticate(ctx.accounts);

  const enterpriseView = async (e: EnterpriseRecord) => {
    const p = await ctx.sources.place(e.id);
    return { ...e, lat: e.lat ?? null, lon: e.lon ?? null, place: p ? { x: p.x, y: p.y, width: p.width, height: p.height, address: p.address } : null, jurisdiction: ctx.jurisdictions.jurisdictionOf(e.id) };
  };

  /**
   * A position given in a body: both of lat and lon, or null for both to clear it; neither given
   * leaves it as it is (undefined). The schema checks each range; this checks the pair.
   */
  const positionOf = (body: { lat?: number | null; lon?: number | null }): LatLon | null | undefined => {
    if (body.lat === undefined && body.lon === undefined) return undefined;
    return checkLatLon(body.lat, body.lon, 'body.');
  };

  /** A device's position is `meta.lat`/`meta.lon` (both or neither); a camera's live video `meta.streamUrl`. */
  const checkDeviceMeta = (meta: Record<string, unknown> | undefined) => {
    if (!meta) return;
    checkLatLon(meta.lat, meta.lon, 'body.meta.');
    const url = meta.streamUrl;
    if (url !== undefined && (typeof url !== 'string' || !/^(https?|rtsps?):\/\/\S+$/i.test(url))) {
      throw new HazwatchError('HW_ERR_VALIDATION', 'body.meta.streamUrl: expected an http(s):// or rtsp(s):// URL of the live video', { field: 'body.meta.streamUrl' });
    }
  };

  const loadEnterprise = (req: FastifyRequest, enterprise: string, permission: Parameters<typeof require>[1]) => {
    require(req, permission, enterprise);
    const e = ctx.registry.enterprise(enterprise);
    if (!e) throw new HazwatchError('HW_ERR_NOT_FOUND', `no enterprise ${enterprise}`);
    return e;
  };

  const windowsNow = async (enterprise?: string): Promise<MaintenanceWindow[]> => ctx.alarms.maintenance({ enterprise, activeAt: ctx.now() });

  const presenceOf = (d: DeviceRecord) => {
    const { state, reason, mode, lastHeardAt, nextExpectedAt, offlineAt } = ctx.latest.presence(d.enterprise, d.id, d);
    return { state, reason, mode, lastHeardAt, nextExpectedAt, offlineAt };
  };

  const deviceView = (d: DeviceRecord, windows: MaintenanceWindow[]): z.infer<typeof Device> => ({
    ...d,
    presence: presenceOf(d),
    online: d.revokedAt === null && ctx.latest.presence(d.enterprise, d.id, d).state === 'online',
    maintenance: windows.some((w) => w.enterprise === d.enterprise && w.device === d.id && w.condition === null),
  });

  /**
   * The rules engine raises alarms of devices on a grade-1 source one level (rules.grade1RaisesLevel);
   * it reads the grade from device.meta.hazardSourceGrade, kept here in step with the source.
   */
  const withGrade = async (enterprise: string, hazardSource: string | null | undefined, meta: Record<string, unknown>): Promise<Record<string, unknown>> => {
    const { hazardSourceGrade: _old, ...rest } = meta;
    const source = hazardSource ? await ctx.sources.get(enterprise, hazardSource) : undefined;
    return source ? { ...rest, hazardSourceGrade: source.grade } : rest;
  };

  const loadDevice = (req: FastifyRequest, enterprise: string, id: string, permission: Parameters<typeof require>[1]) => {
    require(req, permission, enterprise);
    const d = ctx.registry.device(enterprise, id);
    if (!d) throw new HazwatchError('HW_ERR_NOT_FOUND', `no device ${enterprise}/${id}`);
    req.auditTarget = `${enterprise}/${id}`;
    return d;
  };

  // ---- enterprises ----
  app.get('/api/v1/enterprises', { schema: { tags: ['enterprises'], summary: 'Enterprises in scope', response: { 200: z.array(Enterprise), ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'read');
    const scope = requestScope(req);
    const places = new Map((await ctx.sources.places()).map((p) => [p.enterprise, p]));
    return ctx.registry
      .enterprises()
      .filter((e) => inScope(scope, e.id))
      .map((e) => {
        const p = places.get(e.id);
        return { ...e, lat: e.lat ?? null, lon: e.lon ?? null, place: p ? { x: p.x, y: p.y, width: p.width, height: p.height, address: p.address } : null, jurisdiction: ctx.jurisdictions.jurisdictionOf(e.id) };
      });
  });

  app.post(
    '/api/v1/enterprises',
    { schema: { tags: ['enterprises'], summary: 'Register an enterprise', body: EnterpriseInput, response: { 201: Enterprise, ...errorResponses } }, preValidation: auth, config: { audit: 'enterprise.create' } },
    async (req, reply) => {
      const user = require(req, 'enterprise.write');
      req.auditEnterprise = req.body.id;
      // A new enterprise is in the scope of an account with a jurisdiction only once placed under it.
      const node = req.body.jurisdiction ?? null;
      if (node !== null && !ctx.jurisdictions.node(node)) throw new HazwatchError('HW_ERR_VALIDATION', `body.jurisdiction: no jurisdiction ${node}`, { field: 'body.jurisdiction' });
      const scope = requestScope(req);
      if (!scope.all && (scope.node === null || node === null || !ctx.jurisdictions.isAtOrBelow(node, scope.node))) {
        throw new HazwatchError('HW_ERR_FORBIDDEN', `body.jurisdiction: account ${user.username} registers enterprises within its own jurisdiction only`, { field: 'body.jurisdiction' });
      }
      if (ctx.registry.enterprise(req.body.id)) throw new HazwatchError('HW_ERR_CONFLICT', `enterprise ${req.body.id} already exists`, { field: 'body.id' });
      const position = positionOf(req.body);
      await ctx.registry.addEnterprise(req.body.id, req.body.name);
      if (node !== null) await ctx.jurisdictions.setEnterprise(req.body.id, node);
      if (position) await ctx.registry.setEnterpriseLocation(req.body.id, position);
      if (req.body.place) await ctx.sources.setPlace({ enterprise: req.body.id, address: '', ...req.body.place });
      req.auditTarget = req.body.id;
      reply.code(201);
      return enterpriseView(ctx.registry.enterprise(req.body.id)!);
    },
  );

  app.get('/api/v1/enterprises/:enterprise', { schema: { tags: ['enterprises'], summary: 'One enterprise', params: EnterpriseParams, response: { 200: Enterprise, ...errorResponses } }, preValidation: auth }, async (req) =>
    enterpriseView(loadEnterprise(req, req.params.enterprise, 'read')),
  );

  app.patch(
    '/api/v1/enterprises/:enterprise',
    { schema: { tags: ['enterprises'], summary: 'Rename an enterprise, move it on the site plan or set where it is (lat/lon)', params: EnterpriseParams, body: EnterpriseChange, response: { 200: Enterprise, ...errorResponses } }, preValidation: auth, config: { audit: 'enterprise.update' } },
    async (req) => {
      const e = loadEnterprise(req, req.params.enterprise, 'enterprise.write');
      const position = positionOf(req.body);
      if (req.body.name) await ctx.registry.addEnterprise(e.id, req.body.name);
      if (position !== undefined) await ctx.registry.setEnterpriseLocation(e.id, position);
      if (req.body.place) await ctx.sources.setPlace({ enterprise: e.id, ...((await ctx.sources.place(e.id)) ?? { address: '' }), ...req.body.place });
      return enterpriseView(ctx.registry.enterprise(e.id)!);
    },
  );

  // ---- hazard sources ----
  app.get(
    '/api/v1/hazard-sources',
    { schema: { tags: ['hazard sources'], summary: 'Hazard sources in scope', querystring: z.object({ enterprise: Id.optional() }).strict(), response: { 200: z.array(HazardSource), ...errorResponses } }, preValidation: auth },
    async (req) => {
      require(req, 'read');
      const only = scopeFilter(req, req.query.enterprise);
      return (await ctx.sources.list(only?.length === 1 ? only[0] : undefined)).filter((s) => !only || only.includes(s.enterprise));
    },
  );

  app.get('/api/v1/enterprises/:enterprise/hazard-sources', { schema: { tags: ['hazard sources'], summary: 'Hazard sources of an enterprise', params: EnterpriseParams, response: { 200: z.array(HazardSource), ...errorResponses } }, preValidation: auth }, async (req) => {
    loadEnterprise(req, req.params.enterprise, 'read');
    return ctx.sources.list(req.params.enterprise);
  });

  app.post(
    '/api/v1/enterprises/:enterprise/hazard-sources',
    { schema: { tags: ['hazard sources'], summary: 'Register a hazard source with its grade and plan position', params: EnterpriseParams, body: HazardSourceInput, response: { 201: HazardSource, ...errorResponses } }, preValidation: auth, config: { audit: 'source.create' } },
    async (req, reply) => {
      loadEnterprise(req, req.params.enterprise, 'source.write');
      if (await ctx.sources.get(req.params.enterprise, req.body.id)) throw new HazwatchError('HW_ERR_CONFLICT', `hazard source ${req.body.id} already exists`, { field: 'body.id' });
      req.auditTarget = `${req.params.enterprise}/${req.body.id}`;
      positionOf(req.body);
      reply.code(201);
      return ctx.sources.put({ enterprise: req.params.enterprise, ...req.body });
    },
  );

  app.get('/api/v1/enterprises/:enterprise/hazard-sources/:source', { schema: { tags: ['hazard sources'], summary: 'One hazard source', params: SourceParams, response: { 200: HazardSource, ...errorResponses } }, preValidation: auth }, async (req) => {
    loadEnterprise(req, req.params.enterprise, 'read');
    const s = await ctx.sources.get(req.params.enterprise, req.params.source);
    if (!s) throw new HazwatchError('HW_ERR_NOT_FOUND', `no hazard source ${req.params.enterprise}/${req.params.source}`);
    return s;
  });

  app.patch(
    '/api/v1/enterprises/:enterprise/hazard-sources/:source',
    { schema: { tags: ['hazard sources'], summary: 'Change grade, risk colour, name or position', params: SourceParams, body: HazardSourceChange, response: { 200: HazardSource, ...errorResponses } }, preValidation: auth, config: { audit: 'source.update' } },
    async (req) => {
      loadEnterprise(req, req.params.enterprise, 'source.write');
      const s = await ctx.sources.get(req.params.enterprise, req.params.source);
      if (!s) throw new HazwatchError('HW_ERR_NOT_FOUND', `no hazard source ${req.params.enterprise}/${req.params.source}`);
      req.auditTarget = `${s.enterprise}/${s.id}`;
      // A new grade without a new assessed colour takes the grade's colour.
      const riskColour = req.body.riskColour ?? (req.body.grade !== undefined && req.body.grade !== s.grade ? undefined : s.riskColour);
      const position = positionOf(req.body);
      const updated = await ctx.sources.put({ ...s, ...req.body, riskColour, ...(position !== undefined ? { lat: position?.lat ?? null, lon: position?.lon ?? null } : {}) });
      if (updated.grade !== s.grade) {
        for (const d of ctx.registry.devices(s.enterprise).filter((x) => x.hazardSource === s.id)) {
          await ctx.registry.updateDevice(d.enterprise, d.id, { meta: await withGrade(d.enterprise, d.hazardSource, d.meta) });
        }
      }
      return updated;
    },
  );

  // ---- devices ----
  app.get(
    '/api/v1/devices',
    { schema: { tags: ['devices'], summary: 'Devices in scope', querystring: z.object({ enterprise: Id.optional(), hazardSource: Id.optional() }).strict(), response: { 200: z.array(Device), ...errorResponses } }, preValidation: auth },
    async (req) => {
      require(req, 'read');
      const only = scopeFilter(req, req.query.enterprise);
      const windows = await windowsNow(only?.length === 1 ? only[0] : undefined);
      const set = only && new Set(only);
      return ctx.registry
        .devices(only?.length === 1 ? only[0] : undefined)
        .filter((d) => (!set || set.has(d.enterprise)) && (!req.query.hazardSource || d.hazardSource === req.query.hazardSource))
        .map((d) => deviceView(d, windows));
    },
  );

  app.get('/api/v1/enterprises/:enterprise/devices', { schema: { tags: ['devices'], summary: 'Devices of an enterprise', params: EnterpriseParams, response: { 200: z.array(Device), ...errorResponses } }, preValidation: auth }, async (req) => {
    loadEnterprise(req, req.params.enterprise, 'read');
    const windows = await windowsNow(req.params.enterprise);
    return ctx.registry.devices(req.params.enterprise).map((d) => deviceView(d, windows));
  });

  app.post(
    '/api/v1/enterprises/:enterprise/devices',
    {
      schema: { tags: ['devices'], summary: 'Provision a device; its MQTT credentials are in this answer only', params: EnterpriseParams, body: DeviceInput, response: { 201: Credentials, ...errorResponses } },
      preValidation: auth,
      config: { audit: 'device.provision' },
    },
    async (req, reply) => {
      loadEnterprise(req, req.params.enterprise, 'device.write');
      const { enterprise } = req.params;
      const existing = ctx.registry.device(enterprise, req.body.id);
      if (existing && existing.revokedAt === null) throw new HazwatchError('HW_ERR_CONFLICT', `device ${enterprise}/${req.body.id} exists; rotate its credentials instead`, { field: 'body.id' });
      if (req.body.hazardSource && !(await ctx.sources.get(enterprise, req.body.hazardSource))) {
        throw new HazwatchError('HW_ERR_VALIDATION', `hazardSource: no hazard source ${req.body.hazardSource} in ${enterprise}`, { field: 'body.hazardSource' });
      }
      if (req.body.meta?.limits) checkLimits(req.body.class, req.body.meta.limits as Record<string, LimitSet>);
      checkDeviceMeta(req.body.meta);
      req.auditTarget = `${enterprise}/${req.body.id}`;
      const creds = await ctx.registry.addDevice({ enterprise, ...req.body, meta: await withGrade(enterprise, req.body.hazardSource, req.body.meta ?? {}) });
      reply.code(201).header('cache-control', 'no-store');
      return { ...creds, device: deviceView(ctx.registry.device(enterprise, req.body.id)!, []) };
    },
  );

  app.get('/api/v1/enterprises/:enterprise/devices/:device', { schema: { tags: ['devices'], summary: 'One device', params: DeviceParams, response: { 200: Device, ...errorResponses } }, preValidation: auth }, async (req) => {
    const d = loadDevice(req, req.params.enterprise, req.params.device, 'read');
    return deviceView(d, await windowsNow(d.enterprise));
  });

  app.patch(
    '/api/v1/enterprises/:enterprise/devices/:device',
    { schema: { tags: ['devices'], summary: 'Change name, site, hazard source, interval or attributes', params: DeviceParams, body: DeviceChange, response: { 200: Device, ...errorResponses } }, preValidation: auth, config: { audit: 'device.update' } },
    async (req) => {
      const d = loadDevice(req, req.params.enterprise, req.params.device, 'device.write');
      if (req.body.hazardSource && !(await ctx.sources.get(d.enterprise, req.body.hazardSource))) {
        throw new HazwatchError('HW_ERR_VALIDATION', `hazardSource: no hazard source ${req.body.hazardSource} in ${d.enterprise}`, { field: 'body.hazardSource' });
      }
      checkDeviceMeta(req.body.meta);
      const change = { ...req.body };
      if (change.meta) {
        // Limits have their own endpoint and permission: keep them as they are here.
        const { limits: _ignored, ...rest } = change.meta;
        change.meta = d.meta.limits !== undefined ? { ...rest, limits: d.meta.limits } : rest;
      }
      const hazardSource = change.hazardSource !== undefined ? change.hazardSource : d.hazardSource;
      change.meta = await withGrade(d.enterprise, hazardSource, change.meta ?? d.meta);
      const updated = (await ctx.registry.updateDevice(d.enterprise, d.id, change))!;
      return deviceView(updated, await windowsNow(d.enterprise));
    },
  );

  app.post(
    '/api/v1/enterprises/:enterprise/devices/:device/revoke',
    { schema: { tags: ['devices'], summary: 'Revoke a device: the broker closes its session within seconds; its history stays', params: DeviceParams, response: { 200: Device, ...errorResponses } }, preValidation: auth, config: { audit: 'device.revoke' } },
    async (req) => {
      const d = loadDevice(req, req.params.enterprise, req.params.device, 'device.write');
      if (d.revokedAt !== null) throw new HazwatchError('HW_ERR_CONFLICT', `device ${d.enterprise}/${d.id} is already revoked`);
      await ctx.registry.revokeDevice(d.enterprise, d.id);
      return deviceView(ctx.registry.device(d.enterprise, d.id)!, []);
    },
  );

  app.post(
    '/api/v1/enterprises/:enterprise/devices/:device/rotate',
    { schema: { tags: ['devices'], summary: 'New MQTT password, shown once; the old one stops working', params: DeviceParams, response: { 200: Credentials, ...errorResponses } }, preValidation: auth, config: { audit: 'device.rotate' } },
    async (req, reply) => {
      const d = loadDevice(req, req.params.enterprise, req.params.device, 'device.write');
      if (d.revokedAt !== null) throw new HazwatchError('HW_ERR_CONFLICT', `device ${d.enterprise}/${d.id} is revoked; provision it again`);
      const creds = await ctx.registry.rotate(`${d.enterprise}/${d.id}`);
      reply.header('cache-control', 'no-store');
      return { ...creds, device: deviceView(d, []) };
    },
  );

  // ---- thresholds ----
  const effectiveRules = (d: DeviceRecord): z.infer<typeof EffectiveRule>[] => {
    try {
      return loadRuleSet(ctx.ruleFiles)
        .forDevice(d)
        .flatMap((rule) =>
          rule.type === 'threshold' && !rule.disabled
            ? [{
                id: rule.id,
                condition: rule.condition,
                metric: rule.metric,
                direction: rule.direction,
                stages: rule.stages.map((st) => ({ level: st.level, raise: resolveThreshold(st.raise, d, rule.metric) ?? null, from: String(st.raise) })),
              }]
            : [],
        );
    } catch (err) {
      ctx.log.warn({ err: (err as Error).message }, 'rule files could not be read for the thresholds view');
      return [];
    }
  };

  app.get(
    '/api/v1/enterprises/:enterprise/devices/:device/thresholds',
    { schema: { tags: ['thresholds'], summary: 'Process limits of the device (HH/H/L/LL per metric) and the threshold rules in force', params: DeviceParams, response: { 200: ThresholdsView, ...errorResponses } }, preValidation: auth },
    async (req) => {
      const d = loadDevice(req, req.params.enterprise, req.params.device, 'read');
      return { limits: (d.meta.limits ?? {}) as Record<string, LimitSet>, rules: effectiveRules(d) };
    },
  );

  app.put(
    '/api/v1/enterprises/:enterprise/devices/:device/thresholds',
    {
      schema: { tags: ['thresholds'], summary: 'Replace the process limits; the rules engine picks them up live', params: DeviceParams, body: Thresholds.strict(), response: { 200: ThresholdsView, ...errorResponses } },
      preValidation: auth,
      config: { audit: 'device.thresholds' },
    },
    async (req) => {
      const d = loadDevice(req, req.params.enterprise, req.params.device, 'threshold.write');
      checkLimits(d.class, req.body.limits);
      const updated = (await ctx.registry.updateDevice(d.enterprise, d.id, { meta: { ...d.meta, limits: req.body.limits } }))!;
      return { limits: updated.meta.limits as Record<string, LimitSet>, rules: effectiveRules(updated) };
    },
  );

  // ---- latest values and chart ----
  const latestView = (d: DeviceRecord) => {
    const l = ctx.latest.get(d.enterprise, d.id);
    return {
      enterprise: d.enterprise,
      device: d.id,
      online: d.revokedAt === null && ctx.latest.presence(d.enterprise, d.id, d).state === 'online',
      presence: presenceOf(d),
      status: l?.status ?? null,
      lastSeen: l?.lastSeen ?? null,
      values: l?.values ?? {},
      activeEvents: l?.activeEvents ?? [],
    };
  };

  app.get('/api/v1/latest', { schema: { tags: ['values'], summary: 'Latest values of every device in scope', querystring: z.object({ enterprise: Id.optional() }).strict(), response: { 200: z.array(DeviceLatest), ...errorResponses } }, preValidation: auth }, async (req) => {
    require(req, 'read');
    const only = scopeFilter(req, req.query.enterprise);
    const set = only && new Set(only);
    return ctx.registry.devices(only?.length === 1 ? only[0] : undefined).filter((d) => d.revokedAt === null && (!set || set.has(d.enterprise))).map(latestView);
  });

  app.get(
    '/api/v1/platform',
    { schema: { tags: ['values'], summary: "The platform's own processes as they last said: ingest's spool, the northbound forwarder's connection and backlog", response: { 200: z.array(z.object({ service: z.string(), instance: z.string(), state: z.unknown(), receivedAt: z.number() })), ...errorResponses } }, preValidation: auth },
    async (req) => {
      require(req, 'platform.read');
      return ctx.latest.platform();
    },
  );

  app.get('/api/v1/enterprises/:enterprise/devices/:device/latest', { schema: { tags: ['values'], summary: 'Latest values of one device', params: DeviceParams, response: { 200: DeviceLatest, ...errorResponses } }, preValidation: auth }, async (req) =>
    latestView(loadDevice(req, req.params.enterprise, req.params.device, 'read')),
  );

  app.get(
    '/api/v1/enterprises/:enterprise/devices/:device/chart',
    {
      schema: {
        tags: ['values'],
        summary: 'Mean per bucket of every numeric metric, from InfluxDB (raw readings, or their minute or hour aggregates for long ranges)',
        params: DeviceParams,
        querystring: z.object({ minutes: z.coerce.number().int().min(5).max(366 * 24 * 60).default(60).describe('Up to a year back: ranges over 2 days read the minute aggregates, over 60 days the hour ones (docs/storage.md, Retention)'), bucketSeconds: z.coerce.number().int().min(1).max(7 * 86_400).optional() }).strict(),
        response: { 200: Chart, ...errorResponses, 503: errorResponses[400] },
      },
      preValidation: auth,
    },
    async (req, reply) => {
      const d = loadDevice(req, req.params.enterprise, req.params.device, 'read');
      const minutes = req.query.minutes;
      // About 120 points: enough for a sparkline-sized chart, cheap for InfluxDB.
      const bucketSeconds = req.query.bucketSeconds ?? Math.max(10, Math.round((minutes * 60) / 120));
      const to = ctx.now();
      if (!ctx.influx) return { from: to - minutes * 60_000, to, bucketSeconds, series: [] };
      try {
        const series = await deviceChart(ctx.influx, d, { minutes, bucketSeconds });
        return { from: to - minutes * 60_000, to, bucketSeconds, series };
      } catch (err) {
        ctx.log.warn({ err: (err as Error).message }, 'chart query failed');
        return reply.code(503).send({ code: 'HW_ERR_UNAVAILABLE' as const, message: `time-series database unavailable: ${(err as Error).message}` }) as never;
      }
    },
  );

  app.get('/api/v1/catalog', { schema: { tags: ['catalog'], summary: 'Device classes, metrics, units, alarm conditions, level colours, the site-plan size, the map tiles, emergency-resource kinds and needs, and the permission table', response: { 200: z.record(z.string(), z.unknown()) } }, preValidation: auth }, async (req) => {
    userOf(req);
    return {
      deviceClasses: DEVICE_CLASSES,
      conditions: ALARM_CONDITIONS,
      levelColours: LEVEL_COLOURS,
      plan: { width: PLAN_WIDTH, height: PLAN_HEIGHT },
      // The console's map: tiles from api.tileUrl, or none (a latitude/longitude grid).
      map: { tileUrl: ctx.config.tileUrl ?? null, tileMaxZoom: ctx.config.tileMaxZoom, tileAttribution: ctx.config.tileAttribution },
      resources: RESOURCE_CATALOG,
      permissions: PERMISSIONS,
    };
  });
}
