import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // The client workspace package, resolved to its source, so that tests need no build of it first (the
  // example shop imports it by its published name, as a merchant's app would).
  resolve: {
    alias: {
      '@countersign/client': fileURLToPath(new URL('./packages/client/src/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'packages/*/src/**/*.test.ts'],
    exclude: ['test/faults/**', '**/node_modules/**', '**/dist/**'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    // Generous: on a loaded 2-core machine a fresh PGlite directory alone can take 20 s to open.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // `expect.poll` waits for what a browser shows after real work (a vault opened with Argon2id, a signed
    // request): its default second is short on a loaded machine. A poll still fails when the text never comes.
    expect: { poll: { timeout: 20_000 } },
    // Two cores: two workers keep PGlite's start-up cost spread without starving the database server.
    maxWorkers: 2,
  },
});
