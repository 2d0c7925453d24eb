// One simulator run, from settings to a running fleet: builds the devices (from a scenario or a mix),
// provisions or reads their credentials, anchors the simulated clock, plans the faults and the
// expected alarms, and starts the fleet. Used by `hazwatch simulate`, `hazwatch start --demo` and tests.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Registry as MetricsRegistry } from 'prom-client';
import { dataPath, type Config } from '../core/config.ts';
import type { Logger } from '../core/log.ts';
import type { Registry } from '../registry/registry.ts';
import { createClock } from './clock.ts';
import { parseDuration } from './duration.ts';
import { startFleet, type Fleet, type FleetSummary } from './fleet.ts';
import { fleetDevices, parseMix } from './mix.ts';
import { provisionDevices, readCredentialsFile, writeCredentialsFile } from './provision.ts';
import { loadScenario, planScenario, type Scenario, type ScenarioPlan } from './scenario.ts';
import type { SimDevice } from './simulation.ts';
import type { SimulateConfig } from './config.ts';

export interface RunOptions {
  url: string;
  settings: SimulateConfig;
  /** A scenario already loaded (instead of settings.scenario). */
  scenario?: Scenario;
  /** Registry to provision devices in; not needed when the credentials file exists. */
  registry?: Registry;
  signal?: AbortSignal;
  log?: Logger;
  metrics?: MetricsRegistry;
  progress?: NodeJS.WritableStream | false;
}

export interface Run {
  fleet: Fleet;
  devices: SimDevice[];
  plan?: ScenarioPlan;
  done: Promise<FleetSummary>;
}

/** The document written to the expected-alarms file: what the rules engine must raise, with absolute times. */
export function expectedDocument(plan: ScenarioPlan, speed: number, summary?: FleetSummary) {
  return {
    scenario: plan.scenario,
    seed: plan.seed,
    speed,
    simulatedStart: plan.start,
    simulatedStartIso: new Date(plan.start).toISOString(),
    simulatedEnd: plan.end,
    simulatedEndIso: new Date(plan.end).toISOString(),
    exhaustive: plan.exhaustive,
    alarms: plan.expected,
    ...(summary ? { rejections: summary.expectedRejections } : {}),
  };
}

export async function startRun(options: RunOptions): Promise<Run> {
  const s = options.settings;
  const scenario = options.scenario ?? (s.scenario ? loadScenario(s.scenario) : undefined);
  const speed = s.speed;
  let durationSeconds = s.duration !== undefined ? parseDuration(s.duration) : undefined;
  let devices: SimDevice[];
  if (scenario) {
    durationSeconds ??= scenario.duration / speed;
    devices = planScenario(scenario, 0).devices.map((d) => ({ enterprise: d.enterprise, id: d.id, class: d.class, intervalSeconds: d.intervalSeconds, meta: d.meta }));
  } else {
    if (speed > 1 && durationSeconds === undefined) throw new Error('--speed above 1 needs --duration (or a scenario), so that simulated timestamps stay in the past');
    devices = fleetDevices({ enterprises: s.enterprises, devicesPerEnterprise: s.devicesPerEnterprise, mix: s.mix ? parseMix(s.mix) : undefined, rate: s.rate, prefix: s.prefix });
  }
  if (s.rate && scenario) for (const d of devices) d.intervalSeconds = 1 / s.rate;

  let credentials;
  if (s.credentials && existsSync(s.credentials)) {
    credentials = readCredentialsFile(s.credentials);
    options.log?.info({ file: s.credentials, devices: credentials.size }, 'credentials read');
  } else {
    if (!options.registry) throw new Error('no registry to provision the simulated devices in, and no credentials file');
    const t = Date.now();
    if (options.progress) options.progress.write(`provisioning ${devices.length} devices in the registry ${options.registry.where}\n`);
    credentials = await provisionDevices(options.registry, scenario ? scenario.devices.map((d, i) => ({ ...devices[i], name: d.name, site: d.site, hazardSource: d.hazardSource })) : devices);
    options.log?.info({ devices: devices.length, ms: Date.now() - t }, 'simulated devices provisioned');
    if (s.credentials) writeCredentialsFile(s.credentials, devices, credentials);
  }

  // Anchored now, right before the fleet starts: the simulated span ends at the wall clock.
  let plan: ScenarioPlan | undefined;
  let start: number | undefined;
  if (scenario) {
    start = createClock({ speed, spanSeconds: (durationSeconds as number) * speed }).start;
    plan = planScenario(scenario, start);
  }

  const fleet = startFleet({
    url: options.url,
    devices,
    credentials,
    seed: scenario?.seed ?? s.seed,
    speed,
    start,
    durationSeconds,
    budget: s.budget,
    signal: options.signal,
    faults: plan?.faults,
    // A generated fleet runs its whole duration at full strength; a scenario's faults are planned from its start.
    waitForConnections: !scenario,
    qos: s.qos,
    connectRate: s.connectRate,
    progress: options.progress,
    progressMs: s.progressSeconds !== undefined ? s.progressSeconds * 1000 : undefined,
    log: options.log,
    metrics: options.metrics,
  });
  return { fleet, devices, plan, done: fleet.done };
}

export function writeExpected(file: string, plan: ScenarioPlan, speed: number, summary?: FleetSummary): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, JSON.stringify(expectedDocument(plan, speed, summary), null, 2) + '\n');
}

/**
 * The scenario's expected alarms, machine-readable, at `simulate.expectedAlarms` (default
 * <dataDir>/expected-alarms-<scenario>.json): written now, and again with the run's summary when it
 * ends. Returns the file; undefined for a fleet without a scenario.
 */
export function recordExpected(run: Run, config: Config): { file: string; count: number } | undefined {
  const plan = run.plan;
  if (!plan) return undefined;
  const file = config.simulate.expectedAlarms ?? dataPath(config, `expected-alarms-${plan.scenario}.json`);
  writeExpected(file, plan, config.simulate.speed);
  // The caller reports a failed run; here it only means there is no summary to add.
  run.done.then((summary) => writeExpected(file, plan, config.simulate.speed, summary), () => undefined);
  return { file, count: plan.expected.length };
}

export function formatSummary(s: FleetSummary): string {
  const errors = Object.entries(s.connectErrors);
  return [
    `simulation stopped by ${s.stoppedBy} after ${(s.elapsedMs / 1000).toFixed(1)} s`,
    `  devices     ${s.devices} (${s.everConnected} connected, ${s.reconnects} reconnects, ${s.connectionLosses} connections lost)`,
    `  messages    ${s.sent} sent, ${s.acked} acknowledged, ${s.failed} failed, ${s.dropped} dropped (${s.rate.toFixed(1)} msg/s)`,
    s.allConnectedAfterMs !== undefined
      ? `  steady      all ${s.devices} connected after ${(s.allConnectedAfterMs / 1000).toFixed(1)} s; then ${s.sentSinceAllConnected} messages in ${((s.elapsedMs - s.allConnectedAfterMs) / 1000).toFixed(1)} s (${(s.steadyRate ?? 0).toFixed(1)} msg/s)`
      : `  steady      not every device connected`,
    `  malformed   ${s.malformedSent} sent on purpose`,
    `  rejected    ${s.rejectedTotal}${s.rejectedTotal ? ' ' + JSON.stringify(s.rejected) : ''}`,
    `  errors      ${errors.length ? errors.map(([k, v]) => `${v}× ${k}`).join('; ') : 0}`,
    `  simulated   ${new Date(s.simulatedStart).toISOString()} → ${new Date(s.simulatedNow).toISOString()}`,
  ].join('\n');
}

export interface RunLoop {
  /** Runs started so far (1 once the first has started). */
  readonly runs: number;
  /** The run in progress. */
  readonly current: Run;
  /** Stops the run in progress and does not start another. */
  stop(): Promise<void>;
}

/**
 * Runs a scenario again and again until stopped, for demos: a scenario that simply ended would take
 * every simulated device off the network, and after their grace the console would show a plant going
 * offline instead of the faults the demo is about. The next run starts as soon as the last one has
 * ended, well within the devices' grace (contract/catalog.ts), so the gap raises nothing.
 */
export async function loopRuns(startOne: () => Promise<Run>, hooks: { onRun?(run: Run, n: number): void; log?: Logger; signal?: AbortSignal } = {}): Promise<RunLoop> {
  let stopped = false;
  let runs = 1;
  let current = await startOne();
  hooks.onRun?.(current, runs);
  const loop = (async () => {
    for (;;) {
      const summary = await current.done.catch((err: unknown) => {
        hooks.log?.error({ err }, 'demo run failed; not started again');
        return undefined;
      });
      // Only a run that came to its end is repeated; a stop, a signal or a failure ends the loop.
      if (stopped || hooks.signal?.aborted || summary?.stoppedBy !== 'duration') return;
      hooks.log?.info({ run: runs, summary }, 'demo scenario ended; starting it again');
      current = await startOne();
      runs++;
      hooks.onRun?.(current, runs);
    }
  })();
  return {
    get runs() {
      return runs;
    },
    get current() {
      return current;
    },
    async stop() {
      stopped = true;
      await current.fleet.stop().catch(() => undefined);
      await loop;
    },
  };
}
