#!/usr/bin/env -S node --max-semi-space-size=32
// --max-semi-space-size=32: a young generation of 64 MB instead of 32 for the platform's processes, which
// allocate a little per message at tens of thousands of messages a second: fewer scavenges and fewer
// objects promoted to the old generation, so fewer and shorter pauses (docs/benchmarks.md, issue 18).
// The same flag is in package.json's scripts, the Dockerfile's entry point and bench/lib/procs.ts.
// The sources are TypeScript run through tsx, so the package works from a clone with no build step.
import { register } from 'tsx/esm/api';

register();
// Before mqtt-packet, mqtt.js and the others load `debug`: their disabled loggers then cost nothing (core/quiet-debug.ts).
const { quietDisabledDebug } = await import('../core/quiet-debug.ts');
quietDisabledDebug();
// mqtt-packet's parser reads its header fields in place, without a copy each (core/buffer-list-reads.ts).
const { readBufferListsInPlace } = await import('../core/buffer-list-reads.ts');
readBufferListsInPlace();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
