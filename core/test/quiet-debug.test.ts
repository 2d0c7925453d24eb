// Quiet disabled loggers (core/quiet-debug.ts), in a child process so that the shared `debug` module of
// the test worker stays as it is: loggers made afterwards are the quiet kind, print nothing while
// disabled, and print every argument, as the real logger would, once enabled at run time, also inside
// mqtt-packet (loaded after, as in the services).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const SCRIPT = `
import { createRequire } from 'node:module';
import { quietDisabledDebug } from './core/quiet-debug.ts';
quietDisabledDebug();
quietDisabledDebug(); // twice: wraps once
const require = createRequire(process.cwd() + '/');
const createDebug = require('debug');
const log = createDebug('hazwatch:probe');
const facts = {
  quiet: Object.getPrototypeOf(log) !== Function.prototype,
  doubly: Object.getPrototypeOf(Object.getPrototypeOf(log)) !== Function.prototype,
  namespace: log.namespace,
  enabledBefore: log.enabled,
};
log('silent %s', 'one');
createDebug.enable('hazwatch:probe*,mqtt-packet:parser');
facts.enabledAfter = log.enabled;
log('loud %s', 'two', 3, { four: 4 }, 'five', 'six', 'seven');
log.extend('child')('extended');
const mqtt = require('mqtt-packet');
const parser = mqtt.parser();
parser.parse(mqtt.generate({ cmd: 'pingreq' }));
process.stdout.write(JSON.stringify(facts));
`;

it('keeps disabled loggers silent and enabled ones complete, also inside mqtt-packet', () => {
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, DEBUG: '', DEBUG_COLORS: 'no' },
  });
  expect(run.status, run.stderr).toBe(0);
  expect(JSON.parse(run.stdout)).toEqual({ quiet: true, doubly: false, namespace: 'hazwatch:probe', enabledBefore: false, enabledAfter: true });
  expect(run.stderr).not.toContain('silent');
  expect(run.stderr).toMatch(/hazwatch:probe loud two 3 \{ four: 4 \} five six seven/);
  // extend() reaches the real logger's namespace through the quiet one.
  expect(run.stderr).toMatch(/hazwatch:probe:child extended/);
  expect(run.stderr).toMatch(/mqtt-packet:parser parse: /);
});
