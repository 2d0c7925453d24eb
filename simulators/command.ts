// `hazwatch simulate`: a fleet of simulated devices over MQTT, from a mix or a scenario file.
import { HazwatchError } from '../contract/errors.ts';
import type { Command } from '../core/command.ts';
import { registryTarget } from '../core/config.ts';
import { openRegistry } from '../registry/registry.ts';
import { existsSync } from 'node:fs';
import { formatSummary, recordExpected, startRun } from './run.ts';

const num = (v: unknown) => (v === undefined ? undefined : Number(v));

export const simulateCommand: Command = {
  name: 'simulate',
  summary: 'Run a fleet of simulated devices (or a scenario with faults) against the broker',
  usage:
    'simulate [--enterprises N] [--devices M] [--mix class=w,...] [--rate R] [--duration 10m] [--budget N]\n' +
    '                  [--scenario file.yaml] [--speed 60] [--seed N] [--credentials file.json] [--expected out.json] [--url mqtt://host:1883]',
  options: {
    url: { type: 'string' },
    enterprises: { type: 'string' },
    devices: { type: 'string' },
    mix: { type: 'string' },
    rate: { type: 'string' },
    duration: { type: 'string' },
    budget: { type: 'string' },
    scenario: { type: 'string' },
    speed: { type: 'string' },
    seed: { type: 'string' },
    credentials: { type: 'string' },
    expected: { type: 'string' },
    prefix: { type: 'string' },
    'connect-rate': { type: 'string' },
    qos: { type: 'string' },
  },
  overrides(flags) {
    const simulate: Record<string, unknown> = {};
    const set = (key: string, value: unknown) => {
      if (value !== undefined) simulate[key] = value;
    };
    set('url', flags.url);
    set('enterprises', num(flags.enterprises));
    set('devicesPerEnterprise', num(flags.devices));
    set('mix', flags.mix);
    set('rate', num(flags.rate));
    set('duration', flags.duration);
    set('budget', num(flags.budget));
    set('scenario', flags.scenario);
    set('speed', num(flags.speed));
    set('seed', num(flags.seed));
    set('credentials', flags.credentials);
    set('expectedAlarms', flags.expected);
    set('prefix', flags.prefix);
    set('connectRate', num(flags['connect-rate']));
    set('qos', num(flags.qos));
    return Object.keys(simulate).length ? { simulate } : {};
  },
  async run(ctx) {
    const settings = ctx.config.simulate;
    const url = settings.url ?? ctx.config.mqtt.url;
    const needRegistry = !(settings.credentials && existsSync(settings.credentials));
    const registry = needRegistry ? await openRegistry(registryTarget(ctx.config)) : undefined;
    let run;
    try {
      run = await startRun({ url, settings, registry, signal: ctx.signal, log: ctx.log, metrics: ctx.metrics, progress: ctx.out });
    } catch (err) {
      if (err instanceof HazwatchError) throw err;
      throw new HazwatchError('HW_ERR_CONFIG', (err as Error).message);
    } finally {
      await registry?.close();
    }
    const expected = recordExpected(run, ctx.config);
    if (expected) ctx.out.write(`scenario ${run.plan!.scenario}: ${expected.count} expected alarms written to ${expected.file}\n`);
    ctx.out.write(`simulating ${run.devices.length} devices against ${url}\n`);
    const summary = await run.done;
    ctx.out.write(formatSummary(summary) + '\n');
  },
};
