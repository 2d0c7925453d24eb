// One simulator run, from settings to a running fleet: builds the devices (from a scenario or a mix),
// provisions or reads their credentials, anchors the simulated clock, plans the faults and the
// expected alarms, and starts the fleet. Used by `hazwatch simulate`, `hazwatch start --demo` and tests.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { createClock } from './clock.ts';
import { parseDuration } from './duration.ts';
import { startFleet } from './fleet.ts';
import { fleetDevices, parseMix } from './mix.ts';
import { provisionDevices, readCredentialsFile, writeCredentialsFile } from './provision.ts';
import { loadScenario, planScenario } from './scenario.ts';
/** The document written to the expected-alarms file: what the rules engine must raise, with absolute times. */
export function expectedDocument(plan, speed, summary) {
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
export async function startRun(options) {
    const s = options.settings;
    const scenario = options.scenario ?? (s.scenario ? loadScenario(s.scenario) : undefined);
    const speed = s.speed;
    let durationSeconds = s.duration !== undefined ? parseDuration(s.duration) : undefined;
    let devices;
    if (scenario) {
        durationSeconds ??= scenario.duration / speed;
        devices = planScenario(scenario, 0).devices.map((d) => ({ enterprise: d.enterprise, id: d.id, class: d.class, intervalSeconds: d.intervalSeconds, meta: d.meta }));
    }
    else {
        if (speed > 1 && durationSeconds === undefined)
            throw new Error('--speed above 1 needs --duration (or a scenario), so that simulated timestamps stay in the past');
        devices = fleetDevices({ enterprises: s.enterprises, devicesPerEnterprise: s.devicesPerEnterprise, mix: s.mix ? parseMix(s.mix) : undefined, rate: s.rate, prefix: s.prefix });
    }
    if (s.rate && scenario)
        for (const d of devices)
            d.intervalSeconds = 1 / s.rate;
    let credentials;
    if (s.credentials && existsSync(s.credentials)) {
        credentials = readCredentialsFile(s.credentials);
        options.log?.info({ file: s.credentials, devices: credentials.size }, 'credentials read');
    }
    else {
        if (!options.registry)
            throw new Error('no registry to provision the simulated devices in, and no credentials file');
        const t = Date.now();
        credentials = await provisionDevices(options.registry, scenario ? scenario.devices.map((d, i) => ({ ...devices[i], name: d.name, site: d.site, hazardSource: d.hazardSource })) : devices);
        options.log?.info({ devices: devices.length, ms: Date.now() - t }, 'simulated devices provisioned');
        if (s.credentials)
            writeCredentialsFile(s.credentials, devices, credentials);
    }
    // Anchored now, right before the fleet starts: the simulated span ends at the wall clock.
    let plan;
    let start;
    if (scenario) {
        start = createClock({ speed, spanSeconds: durationSeconds * speed }).start;
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
        qos: s.qos,
        connectRate: s.connectRate,
        progress: options.progress,
        progressMs: s.progressSeconds !== undefined ? s.progressSeconds * 1000 : undefined,
        log: options.log,
        metrics: options.metrics,
    });
    return { fleet, devices, plan, done: fleet.done };
}
export function writeExpected(file, plan, speed, summary) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(expectedDocument(plan, speed, summary), null, 2) + '\n');
}
export function formatSummary(s) {
    const errors = Object.entries(s.connectErrors);
    return [
        `simulation stopped by ${s.stoppedBy} after ${(s.elapsedMs / 1000).toFixed(1)} s`,
        `  devices     ${s.devices} (${s.everConnected} connected, ${s.reconnects} reconnects, ${s.connectionLosses} connections lost)`,
        `  messages    ${s.sent} sent, ${s.acked} acknowledged, ${s.failed} failed, ${s.dropped} dropped (${s.rate.toFixed(1)} msg/s)`,
        `  malformed   ${s.malformedSent} sent on purpose`,
        `  rejected    ${s.rejectedTotal}${s.rejectedTotal ? ' ' + JSON.stringify(s.rejected) : ''}`,
        `  errors      ${errors.length ? errors.map(([k, v]) => `${v}× ${k}`).join('; ') : 0}`,
        `  simulated   ${new Date(s.simulatedStart).toISOString()} → ${new Date(s.simulatedNow).toISOString()}`,
    ].join('\n');
}
