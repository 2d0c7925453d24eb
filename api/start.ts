// startApi: opens the stores, bootstraps the first administrator, subscribes to the broker for the
// latest values and serves the API and the console. Used by `hazwatch api` and `hazwatch start`.
import { randomBytes } from 'node:crypto';
import { HazwatchError } from '../contract/errors.ts';
import type { Registry as MetricsRegistry } from 'prom-client';
import type { MqttClient } from 'mqtt';
import type { FastifyInstance } from 'fastify';
import type { Service } from '../core/command.ts';
import { accountsTarget, alarmStoreTarget, dangersTarget, resourcesTarget, rosterTarget, type Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import { gauge } from '../core/metrics.ts';
import { openHazardSources } from '../registry/hazard-sources.ts';
import { openJurisdictions, seedDemoJurisdictions } from '../registry/jurisdictions.ts';
import { deviceDirectory, type Registry } from '../registry/registry.ts';
import { openAlarmStore } from '../rules/store.ts';
import { openResourceStore } from '../resources/store.ts';
import { seedDemoResources } from '../resources/demo.ts';
import { openRoster } from '../registry/roster.ts';
import { seedDemoRoster } from '../registry/roster-demo.ts';
import { alarmOpenWork } from './alarm-open-work.ts';
import { openDangerStore } from '../dangers/store.ts';
import { startEscalationTimer } from '../dangers/escalation.ts';
import { dangerOpenWork } from '../dangers/open-work.ts';
import type { Danger } from '../dangers/model.ts';
import type { AlarmStore } from '../rules/store-types.ts';
import { openAccounts, type AccountStore } from './accounts.ts';
import type { InfluxTarget } from './chart.ts';
import type { ApiContext } from './context.ts';
import { createLatestStore, subscribeLatest } from './latest.ts';
import { startWarnings } from './warnings-setup.ts';
import { openCommandStore } from './commands-store.ts';
import { startCommandService } from './command-service.ts';
import { commandsTarget } from '../core/config.ts';
import { buildApi } from './server.ts';
import { completeMapPositions, completeSitePlan } from './site-plan.ts';

export const DEMO_LOGIN = { username: 'demo', password: 'hazwatch-demo', role: 'supervisor' as const };
/** The demo's other accounts: a second supervisor (four-eyes approval of warnings) and the demo enterprise's own. */
export const DEMO_ACCOUNTS = [
  { username: 'demo-lead', password: 'hazwatch-demo', role: 'supervisor' as const, enterprise: null, displayName: 'Demo leader on call' },
  { username: 'demo-chem', password: 'hazwatch-demo', role: 'enterprise' as const, enterprise: 'demo-chem', displayName: '演示化工 safety officer' },
  // One account per tier of the demo's jurisdiction tree (registry/jurisdictions.ts DEMO_JURISDICTIONS): each sees its part only.
  { username: 'demo-city', password: 'hazwatch-demo', role: 'administrator' as const, enterprise: null, jurisdiction: '310100', displayName: '上海市应急管理局 duty administrator' },
  { username: 'demo-county', password: 'hazwatch-demo', role: 'supervisor' as const, enterprise: null, jurisdiction: '310116', displayName: '金山区应急管理局 supervisor' },
  { username: 'demo-park', password: 'hazwatch-demo', role: 'supervisor' as const, enterprise: null, jurisdiction: 'jinshan-park', displayName: '金山化工园区 safety supervisor' },
];

export interface ApiService extends Service {
  /** The fastify instance, for inject() in tests. */
  app: FastifyInstance;
  url: string;
  port: number;
  /** The console URL to print (publicUrl when set). */
  consoleUrl: string;
  /** Password of the first administrator when it was generated at this start, else undefined. */
  generatedAdminPassword?: string;
}

/** The InfluxDB the charts read: api.influx, else ingest's when ingest writes to one. */
export function influxTarget(config: Config): InfluxTarget | undefined {
  const own = config.api.influx;
  const ingest = config.ingest.influx;
  if (own.url) return { url: own.url, database: own.database ?? ingest.database, username: own.username, password: own.password, token: own.token };
  if (ingest.kind === 'none' || ingest.kind === 'auto') return undefined;
  // InfluxDB 2.x/3.x answer InfluxQL on /query through the DBRP mapping of the bucket.
  return ingest.kind === 'v2'
    ? { url: ingest.url, database: own.database ?? ingest.bucket, token: ingest.token }
    : { url: ingest.url, database: own.database ?? ingest.database, username: ingest.username, password: ingest.password };
}

/** Creates the first administrator (and the demo login) when there are no accounts yet. */
export async function bootstrapAccounts(accounts: AccountStore, config: Config['api'], log: Logger): Promise<string | undefined> {
  let generated: string | undefined;
  if (!(await accounts.get(config.adminUser)) && !(await accounts.list()).some((u) => u.role === 'administrator')) {
    const password = config.adminPassword ?? randomBytes(12).toString('base64url');
    // API nodes starting together race for this; the one that loses finds the account made.
    if (!(await createUnlessExists(accounts, { username: config.adminUser, password, role: 'administrator', displayName: 'Administrator' }))) return undefined;
    if (!config.adminPassword) {
      generated = password;
      // Logged once, at the only moment it exists in clear; change it after the first sign-in.
      log.warn({ username: config.adminUser, password }, 'first administrator created with a generated password: sign in and change it');
    } else log.info({ username: config.adminUser }, 'first administrator created');
  }
  if (config.demoLogin && !(await accounts.get(DEMO_LOGIN.username)) && (await createUnlessExists(accounts, { ...DEMO_LOGIN, displayName: 'Demo supervisor' }))) {
    log.info({ username: DEMO_LOGIN.username }, 'demo login created');
  }
  if (config.demoLogin) for (const a of DEMO_ACCOUNTS) if (!(await accounts.get(a.username))) await createUnlessExists(accounts, a);
  return generated;
}

/** False when the account exists already (made meanwhile by another API node). */
async function createUnlessExists(accounts: AccountStore, user: Parameters<AccountStore['create']>[0]): Promise<boolean> {
  try {
    await accounts.create(user);
    return true;
  } catch (err) {
    if (err instanceof HazwatchError && err.code === 'HW_ERR_CONFLICT') return false;
    throw err;
  }
}

export interface StartApiOptions {
  config: Config;
  log: Logger;
  metrics: MetricsRegistry;
  registry: Registry;
  /** An alarm store already open in this process (hazwatch start); else the API opens api.alarmsPath. */
  alarms?: AlarmStore;
  /** MQTT service credentials; default config.mqtt, else svc:api is provisioned in the registry. */
  mqtt?: { url: string; username: string; password: string } | false;
  now?: () => number;
  /** Called once per tier an overdue hidden danger escalates to (ApiContext.onDangerEscalated). */
  onDangerEscalated?: (danger: Danger, tier: number) => Promise<void>;
}

export async function startApi(options: StartApiOptions): Promise<ApiService> {
  const { config, metrics, registry } = options;
  const log = options.log.child({ component: 'api' });
  const now = options.now ?? Date.now;
  const api = config.api;
  const accounts = await openAccounts(accountsTarget(config), { sessionTtlMs: api.sessionTtlMinutes * 60_000, now, log });
  const sources = await openHazardSources(registry.database, { now });
  const jurisdictions = await openJurisdictions(registry.database, { now });
  const resources = await openResourceStore(resourcesTarget(config), { now, log });
  const roster = await openRoster(rosterTarget(config), { now, log });
  const dangers = await openDangerStore(dangersTarget(config), { escalation: config.dangers.escalation, now, log });
  const ownAlarms = !options.alarms;
  const alarms = options.alarms ?? await openAlarmStore(alarmStoreTarget(config, api.alarmsPath), { maxShelveMs: config.rules.maxShelveHours * 3_600_000, log });
  const directory = deviceDirectory(registry);
  const latest = createLatestStore({ devices: directory, heardBefore: await registry.presences(), now, metrics });

  let mqttClient: MqttClient | undefined;
  if (options.mqtt !== false) {
    let creds = options.mqtt;
    if (!creds) {
      if (config.mqtt.username && config.mqtt.password) creds = { url: config.mqtt.url, username: config.mqtt.username, password: config.mqtt.password };
      else {
        const c = await registry.setService('api');
        creds = { url: config.mqtt.url, username: c.username, password: c.password };
      }
    }
    mqttClient = subscribeLatest(latest, { ...creds, log });
  }
  const brokerUp = gauge(metrics, 'hazwatch_api_broker_connected', '1 while the API is connected to the broker for latest values');
  const ready = () => {
    const up = mqttClient ? mqttClient.connected : true;
    brokerUp.set(up ? 1 : 0);
    return up;
  };

  const outgoing = await startWarnings({ config, log, metrics, now, roster, mqtt: () => mqttClient });
  // Device commands (issue 15): published and answered on the same broker connection.
  const commandStore = await openCommandStore(commandsTarget(config), { log });
  const commands = startCommandService({ store: commandStore, client: mqttClient, now, log, metrics });
  const generatedAdminPassword = await bootstrapAccounts(accounts, api, log);
  // Devices, enterprises and accounts others register (another API node, `hazwatch device add`):
  // this node's view follows within a second.
  const follow = setInterval(() => {
    void registry.pollChanges().catch((err) => log.warn({ err }, 'registry check failed'));
    // The jurisdiction tree too: every account's scope is computed from it.
    void jurisdictions.pollChanges().catch((err) => log.warn({ err }, 'jurisdiction tree check failed'));
  }, 1000);
  follow.unref();
  let stopPlan = () => {};
  if (api.autoPlan) {
    // One completion at a time: a change arriving meanwhile runs after it, on what it placed.
    let planning: Promise<void> = Promise.resolve();
    const plan = () => {
      planning = planning.then(async () => {
        const done = await completeSitePlan(registry, sources);
        if (done.placed.length || done.registered.length) log.info(done, 'site plan completed');
        const mapped = await completeMapPositions(registry, sources);
        if (mapped.enterprises.length || mapped.sources.length) log.info(mapped, 'map positions completed from the site plan');
      }).catch((err) => log.error({ err }, 'site plan completion failed'));
      return planning;
    };
    await plan();
    // The demo's jurisdictions (before the plan is completed: its enterprises get a place on it too).
    const nodes = await seedDemoJurisdictions(jurisdictions, registry).catch((err) => (log.error({ err }, 'demo jurisdictions not seeded'), 0));
    if (nodes) log.info({ nodes }, 'demo jurisdiction tree registered');
    await plan();
    // The demo's emergency resources around its park, once (an empty register only).
    const seeded = await seedDemoResources(resources, registry).catch((err) => (log.error({ err }, 'demo resources not seeded'), 0));
    if (seeded) log.info({ resources: seeded }, 'demo emergency resources registered');
    // The demo's duty roster: a bureau, the park and its enterprise, on duty now and for the next week.
    const rostered = await seedDemoRoster(roster, { now: now() }).catch((err) => (log.error({ err }, 'demo duty roster not seeded'), 0));
    if (rostered) log.info({ shifts: rostered }, 'demo duty roster registered');
    // The demo fleet registers its devices after the API starts: follow the registry.
    stopPlan = registry.onChange(() => void plan());
  }
  const ctx: ApiContext = { config: api, log, metrics, registry, sources, jurisdictions, accounts, alarms, resources, latest, influx: influxTarget(config), ruleFiles: config.rules.files, now, ready, dangers, dangersConfig: config.dangers, openWork: [], roster, warnings: outgoing.warnings, warningStore: outgoing.warningStore, outbox: outgoing.outbox, dispatcher: outgoing.dispatcher, dispatch: config.dispatch, commands, commandStore };
  ctx.openWork.push(outgoing.openWork);
  // Overdue hidden dangers go to whoever is on duty, through the outbox (a test may listen instead).
  ctx.onDangerEscalated = options.onDangerEscalated ?? outgoing.dangerEscalated;
  ctx.openWork.push(dangerOpenWork(dangers));
  ctx.openWork.push(alarmOpenWork(alarms));
  // Overdue hidden dangers: every node checks; the store's transaction escalates each tier once.
  const stopEscalation = startEscalationTimer({ store: dangers, everyMs: config.dangers.checkSeconds * 1000, now, hook: () => ctx.onDangerEscalated, log });
  const { app } = await buildApi(ctx);
  await app.listen({ host: api.host, port: api.port });
  const address = app.server.address() as { port: number };
  const host = api.host === '0.0.0.0' || api.host === '::' ? '127.0.0.1' : api.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  log.info({ url, docs: `${url}/docs` }, 'API and console listening');

  return {
    name: 'api',
    app,
    url,
    port: address.port,
    consoleUrl: api.publicUrl ?? `${url}/`,
    generatedAdminPassword,
    async close() {
      clearInterval(follow);
      stopEscalation();
      stopPlan();
      await app.close();
      await new Promise<void>((r) => (mqttClient ? mqttClient.end(false, {}, () => r()) : r()));
      if (ownAlarms) await alarms.dispose();
      await accounts.close();
      await resources.close();
      await outgoing.close();
      await roster.close();
      await dangers.close();
      commands.close();
      await commandStore.close();
      await jurisdictions.close();
    },
  };
}
