import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['properties/**/*.test.ts'],
    // The command-line tests run the compiled kdefer: build dist/ if a source changed.
    globalSetup: ['properties/helpers/build.ts'],
    // Exhaustive checks are CPU-bound; two workers match the CI machine.
    pool: 'forks',
    maxWorkers: 2,
    // Test files share their fork's modules: the model is imported once per fork, not once per file
    // (85 of npm test's 300 s of import went to that). No test file changes global state (no
    // fast-check configureGlobal, no environment, cwd or globalThis writes); every file makes its own
    // programs, machines and pools.
    isolate: false,
    testTimeout: 120_000,
  },
});
