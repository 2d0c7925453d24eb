// The fault tests (npm run test:faults): each starts its own InfluxDB, broker, ingest and rules as
// separate processes and breaks them under load. Minutes long, so not part of `npm test`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 900_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // One at a time: each test loads the machine on purpose.
    fileParallelism: false,
    reporters: ['default'],
  },
});
