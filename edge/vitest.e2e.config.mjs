import { defineConfig } from 'vitest/config';

// The end-to-end suite (test/e2e): the real Worker in workerd via wrangler's dev server, a fake
// Docker engine running the real claude-proxy, and upstream-sim. Files are *.e2e.mjs so the unit
// suite (vitest.config.ts) does not pick them up. One process, one file at a time, tests in order:
// each describe block is one deployment whose tests build on each other.
export default defineConfig({
  test: {
    include: ['test/e2e/**/*.e2e.mjs'],
    environment: 'node',
    pool: 'forks',
    fileParallelism: false,
    sequence: { concurrent: false },
    testTimeout: 30000,
    hookTimeout: 45000,
    teardownTimeout: 20000,
  },
});
