// Scenario files: the devices of a plant, faults placed in time, and the alarms each fault must
// cause. YAML or JSON, validated with zod; `planScenario()` turns a scenario into absolute times for
// one run: the faults every device gets (a gas plume reaches neighbours later and weaker) and the
// machine-readable list of expected alarms that tests compare with what the rules engine raises.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { AlarmConditionCode, AlarmLevel } from '../contract/alarms.ts';
import { DEVICE_CLASS_IDS, DEVICE_CLASSES } from '../contract/catalog.ts';
import { HazwatchError } from '../contract/errors.ts';
import { isValidId } from '../contract/topics.ts';
import { Duration } from './duration.ts';
import { Fault, FAULT_KINDS } from './faults.ts';
import { supportsFault } from './models/index.ts';
const Id = z.string().refine(isValidId, 'letters, digits, _ . -, at most 64, starting with a letter or digit');
export const ExpectedAlarmInput = z
    .object({
    device: Id.optional().describe('Device that must alarm; default: the device of the fault'),
    condition: AlarmConditionCode,
    level: AlarmLevel.describe('Level the alarm must reach (1 red ... 4 blue), raised or escalated to'),
    withinSeconds: z.number().positive().describe('Deadline after the fault starts'),
    maxInstances: z.number().int().positive().optional().describe('At most this many instances of the condition on the device during the run (e.g. 1 for a chattering sensor)'),
    note: z.string().optional(),
})
    .strict();
export const ScenarioDevice = z
    .object({
    id: Id,
    class: z.enum(DEVICE_CLASS_IDS),
    enterprise: Id.optional(),
    name: z.string().optional(),
    site: z.string().optional(),
    hazardSource: z.string().optional(),
    position: z.tuple([z.number(), z.number()]).optional().describe('Metres east and north on the plant plan: gas plumes spread by distance'),
    interval: Duration.optional().describe('Reporting interval; default: the class interval of the catalog'),
    meta: z.record(z.string(), z.unknown()).default({}).describe('Registry meta: vessel limits, rated current, gas, ...'),
})
    .strict();
const ENTRY_KEYS = ['at', 'device', 'devices', 'duration', 'spread', 'expect'];
export const ScenarioFault = z
    .looseObject({
    at: Duration.describe('When the fault starts, after the scenario start'),
    device: Id.optional(),
    devices: z.array(Id).min(1).optional(),
    duration: Duration.optional().describe('How long it lasts; default: to the end'),
    spread: z.boolean().default(true).describe('gas_leak: neighbours of the same class see the plume'),
    expect: z.array(ExpectedAlarmInput).default([]),
    kind: z.enum(FAULT_KINDS),
})
    .transform((entry, ctx) => {
    const rest = {};
    for (const [k, v] of Object.entries(entry))
        if (!ENTRY_KEYS.includes(k))
            rest[k] = v;
    if (entry.duration !== undefined)
        rest.durationSeconds = entry.duration;
    const fault = Fault.safeParse(rest);
    if (!fault.success) {
        for (const issue of fault.error.issues)
            ctx.issues.push({ code: 'custom', message: issue.message, path: issue.path, input: rest });
        return z.NEVER;
    }
    const devices = entry.devices ?? (entry.device ? [entry.device] : []);
    if (devices.length === 0) {
        ctx.issues.push({ code: 'custom', message: 'a fault needs `device` or `devices`', input: entry });
        return z.NEVER;
    }
    return { at: entry.at, devices, spread: entry.spread, expect: entry.expect, fault: fault.data };
});
export const Scenario = z
    .object({
    name: Id,
    description: z.string().default(''),
    enterprise: Id.default('sim').describe('Enterprise of the devices that name none'),
    seed: z.number().int().nonnegative().default(1),
    duration: Duration,
    wind: z
        .object({
        speed: z.number().positive().default(0.5).describe('m/s: a plume reaches a detector d metres away after d / speed seconds'),
        attenuationMeters: z.number().positive().default(20).describe('the plume weakens by e for every so many metres'),
        radius: z.number().positive().default(60).describe('detectors further than this see nothing'),
    })
        .strict()
        .prefault({}),
    exhaustive: z.boolean().default(true).describe('No alarm other than the expected ones may be raised'),
    devices: z.array(ScenarioDevice).min(1),
    faults: z.array(ScenarioFault).default([]),
})
    .strict()
    .superRefine((s, ctx) => {
    const classes = new Map();
    s.devices.forEach((d, i) => {
        const key = `${d.enterprise ?? s.enterprise}/${d.id}`;
        if (classes.has(d.id))
            ctx.addIssue({ code: 'custom', message: `device ${key} is listed twice`, path: ['devices', i, 'id'] });
        classes.set(d.id, d.class);
    });
    s.faults.forEach((f, i) => {
        if (f.at > s.duration)
            ctx.addIssue({ code: 'custom', message: `fault at ${f.at} s starts after the scenario ends (${s.duration} s)`, path: ['faults', i, 'at'] });
        for (const id of f.devices) {
            const cls = classes.get(id);
            if (!cls)
                ctx.addIssue({ code: 'custom', message: `unknown device ${id}`, path: ['faults', i, 'device'] });
            else if (!supportsFault(cls, f.fault.kind))
                ctx.addIssue({ code: 'custom', message: `a ${cls} device cannot have a ${f.fault.kind} fault`, path: ['faults', i, 'kind'] });
            if (cls && f.fault.kind === 'chatter' && !Object.hasOwn(DEVICE_CLASSES[cls].metrics, f.fault.metric)) {
                ctx.addIssue({ code: 'custom', message: `${cls} has no metric ${f.fault.metric}`, path: ['faults', i, 'metric'] });
            }
        }
        f.expect.forEach((e, j) => {
            if (e.device && !classes.has(e.device))
                ctx.addIssue({ code: 'custom', message: `unknown device ${e.device}`, path: ['faults', i, 'expect', j, 'device'] });
            if (!e.device && f.devices.length > 1)
                ctx.addIssue({ code: 'custom', message: 'name the device of each expected alarm when the fault has several', path: ['faults', i, 'expect', j] });
        });
    });
});
/** Validates a scenario object; throws HW_ERR_CONFIG naming every problem and where it is. */
export function parseScenario(input, source = 'scenario') {
    const result = Scenario.safeParse(input);
    if (!result.success) {
        const lines = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
        throw new HazwatchError('HW_ERR_CONFIG', `invalid scenario ${source}:\n  ${lines.join('\n  ')}`);
    }
    return result.data;
}
export function loadScenario(file) {
    let text;
    try {
        text = readFileSync(file, 'utf8');
    }
    catch (err) {
        throw new HazwatchError('HW_ERR_CONFIG', `cannot read scenario ${file}: ${err.message}`);
    }
    let raw;
    try {
        raw = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
    }
    catch (err) {
        throw new HazwatchError('HW_ERR_CONFIG', `scenario ${file} is not valid ${file.endsWith('.json') ? 'JSON' : 'YAML'}: ${err.message}`);
    }
    return parseScenario(raw, file);
}
/** Absolute plan of a scenario started at `start` (simulated epoch ms). */
export function planScenario(scenario, start) {
    const devices = scenario.devices.map((d) => ({ ...d, enterprise: d.enterprise ?? scenario.enterprise, intervalSeconds: d.interval ?? DEVICE_CLASSES[d.class].intervalSeconds }));
    const byId = new Map(devices.map((d) => [d.id, d]));
    const faults = [];
    const expected = [];
    const iso = (t) => new Date(t).toISOString();
    for (const entry of scenario.faults) {
        const at = start + entry.at * 1000;
        for (const id of entry.devices) {
            const device = byId.get(id);
            faults.push({ enterprise: device.enterprise, device: id, at, fault: entry.fault });
            if (entry.fault.kind === 'gas_leak' && entry.spread && device.position) {
                for (const other of devices) {
                    if (other.id === id || other.class !== device.class || !other.position)
                        continue;
                    const distance = Math.hypot(other.position[0] - device.position[0], other.position[1] - device.position[1]);
                    if (distance > scenario.wind.radius)
                        continue;
                    faults.push({
                        enterprise: other.enterprise,
                        device: other.id,
                        at,
                        source: id,
                        fault: { ...entry.fault, delaySeconds: entry.fault.delaySeconds + distance / scenario.wind.speed, factor: entry.fault.factor * Math.exp(-distance / scenario.wind.attenuationMeters) },
                    });
                }
            }
        }
        for (const e of entry.expect) {
            const device = byId.get(e.device ?? entry.devices[0]);
            const deadline = at + e.withinSeconds * 1000;
            expected.push({
                enterprise: device.enterprise,
                device: device.id,
                condition: e.condition,
                level: e.level,
                withinSeconds: e.withinSeconds,
                ...(e.maxInstances !== undefined ? { maxInstances: e.maxInstances } : {}),
                ...(e.note ? { note: e.note } : {}),
                fault: { kind: entry.fault.kind, device: entry.devices[0], at, atIso: iso(at) },
                deadline,
                deadlineIso: iso(deadline),
            });
        }
    }
    faults.sort((a, b) => a.at - b.at);
    expected.sort((a, b) => a.deadline - b.deadline);
    return { scenario: scenario.name, seed: scenario.seed, start, end: start + scenario.duration * 1000, devices, faults, expected, exhaustive: scenario.exhaustive };
}
