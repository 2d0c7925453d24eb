// The soak test (npm run test:soak): `hazwatch start --demo` as a new user runs it, for an hour
// (SOAK_MINUTES). Not part of `npm test`.
import { defineConfig } from 'vitest/config';

const minutes = Number(process.env.SOAK_MINUTES ?? 60);

export default defineConfig({
  test: {
    root: new URL('../..', import.meta.url).pathname,
    include: ['test/soak/**/*.test.ts'],
    testTimeout: (minutes + 10) * 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    fileParallelism: false,
    reporters: ['default'],
  },
});
