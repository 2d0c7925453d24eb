// The `debug` package (4.x, used by mqtt-packet, mqtt.js, ioredis, jsmodbus) declares each logger as
// `function debug(...args)`: a call with debugging off still builds its arguments array before it
// checks `enabled`. mqtt-packet's writer calls it several times for every packet and mqtt.js for every
// packet it handles, so at 20,000 readings a second these disabled calls were the largest source of
// the broker's garbage (18 % of what it allocated). Writing a PUBLISH and its PUBACK makes 2.5x fewer
// scavenges without them (`npm run bench:codec`, docs/benchmarks.md, issue 18); in the parser V8
// already optimises them away.
//
// Installed once by the process entry point (bin/hazwatch.js) before any of those modules is loaded:
// every logger made afterwards through the shared `debug` module is a thin function that forwards to
// the real one only while it is enabled (`DEBUG=...` or `debug.enable()` at any time), with the real
// logger's properties (`enabled`, `namespace`, `extend`, `log`) reached through it.
import { createRequire } from 'node:module';

type Debugger = ((...args: unknown[]) => void) & { enabled: boolean; log: unknown };
type CreateDebug = ((namespace: string) => Debugger) & Record<string, unknown>;

const QUIET = Symbol.for('hazwatch.quietDebug');

/** A logger that costs a property read when disabled: no rest array (V8 forwards `arguments` to `apply` without one). */
function quiet(real: Debugger): Debugger {
  const debug = function (this: unknown) {
    if (real.enabled) real.apply(this, arguments as unknown as unknown[]);
  } as unknown as Debugger;
  Object.setPrototypeOf(debug, real);
  // Writes too must reach the real logger (a library may set its `log` sink).
  Object.defineProperty(debug, 'log', { get: () => real.log, set: (v) => (real.log = v), enumerable: true });
  return debug;
}

/** Makes every logger created from now on by the `debug` module that `from` resolves quiet when disabled. */
export function quietDisabledDebug(from: string = import.meta.url): void {
  const require = createRequire(from);
  const id = require.resolve('debug');
  const create = require(id) as CreateDebug;
  if (create[QUIET as unknown as string]) return;
  const wrapped = new Proxy(create, {
    apply: (target, self, args: [string]) => quiet(Reflect.apply(target, self, args)),
    get: (target, key) => (key === QUIET ? true : Reflect.get(target, key)),
  });
  require.cache[id]!.exports = wrapped;
}
