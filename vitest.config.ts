import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**', 'test/faults/**', 'test/soak/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Two at a time: most tests wait on processes and servers rather than compute (vitest's default on
    // two cores would be one: ~10 minutes serial against ~5 with two).
    maxWorkers: 2,
    // With two files at a time a page or a broker may take longer than the 1 s expect.poll gives by default:
    // a condition polled for is waited for up to 10 s (a test that asserts a time says so itself).
    expect: { poll: { timeout: 10_000 } },
    globalSetup: ['test/global-setup.ts'],
    reporters: ['default'],
  },
});
