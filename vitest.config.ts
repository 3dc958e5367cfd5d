import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    globalSetup: ['test/support/store-setup.ts'],
    // A browser poll waits on a page that a busy machine may take seconds to update (a run
    // start measures the pair first); one second, vitest's default, failed CI once.
    expect: { poll: { timeout: 20_000 } },
  },
});
