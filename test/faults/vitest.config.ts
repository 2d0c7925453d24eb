// The fault tests (npm run test:faults): each starts its own InfluxDB, broker, ingest and rules as
// separate processes and breaks them under load. Minutes long, so not part of `npm test`; with them the
// two longest checks of `npm test`'s kind (LONG), to keep `npm test` within its ten minutes: the Paho
// MQTT conformance suite beside Mosquitto, and the 1,000-device fleet.
import { defineConfig } from 'vitest/config';

const LONG = ['broker/test/conformance.test.ts', 'simulators/test/fleet-1000.test.ts'];

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/faults/**/*.test.ts', ...LONG],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One at a time: each test loads the machine on purpose.
    fileParallelism: false,
    reporters: ['default'],
  },
});
