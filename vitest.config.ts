import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['properties/**/*.test.ts'],
    // The command-line tests run the compiled kdefer: build dist/ if a source changed.
    globalSetup: ['properties/helpers/build.ts'],
    // Exhaustive checks are CPU-bound; two workers match the CI machine.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
  },
});
