import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // The long ones run with the fault tests (npm run test:faults): see LONG in test/faults/vitest.config.ts.
    exclude: ['node_modules/**', 'dist/**', 'test/faults/**', 'test/soak/**', 'broker/test/conformance.test.ts', 'simulators/test/fleet-1000.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two at a time: most tests wait on processes and servers rather than compute (vitest's default on
    // two cores would be one: ~10 minutes serial against ~5 with two).
    maxWorkers: 2,
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
