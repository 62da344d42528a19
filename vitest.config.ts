import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

const unit: TestProjectInlineConfiguration = {
  test: {
    name: 'unit',
    include: ['src/**/*.test.ts', 'test/*.test.ts', 'scripts/**/*.test.ts'],
    testTimeout: 20_000,
    // Vitest's default on two cores is one file at a time; the socket suites mostly wait, so
    // three at once finish in about half the time. Four starved the 200 sign-ins of test/e2e.test.ts.
    maxWorkers: 3,
  },
};

/** The suites that start real Logto servers: one at a time, with room for a cold build. */
const logtoServers = { fileParallelism: false, testTimeout: 120_000, hookTimeout: 600_000 };

const logto: TestProjectInlineConfiguration = {
  test: {
    name: 'logto',
    include: ['test/logto/**/*.test.ts'],
    ...logtoServers,
  },
};

/** Real Redis servers and a process per Logto core: the refresh sharing under Redis's faults. */
const redis: TestProjectInlineConfiguration = {
  test: {
    name: 'redis',
    include: ['test/redis/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
};

const browser: TestProjectInlineConfiguration = {
  test: {
    name: 'browser',
    include: ['test/browser/**/*.test.ts'],
    ...logtoServers,
  },
};

/**
 * `npm run mutation`: only the unit suites beside the code can see a mutant of src/ (the suites
 * under test/ run the built lib/), with fewer property cases per mutant. Stryker's vitest runner
 * runs every project it finds and cannot name one, so in the processes Stryker starts (marked by
 * its STRYKER_MUTATOR_WORKER) this is the only project.
 */
const mutation: TestProjectInlineConfiguration = {
  test: { name: 'mutation', include: ['src/**/*.test.ts'], env: { PROPERTY_RUNS: '300' } },
};

export default defineConfig({
  test: {
    projects: process.env.STRYKER_MUTATOR_WORKER ? [mutation] : [unit, redis, logto, browser],
    // The Logto kit's example clients narrate every step; the assertions say what matters.
    onConsoleLog: (log) => !log.startsWith('[example]') && !log.startsWith('[browser example]'),
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts'],
      thresholds: { lines: 95, branches: 95, functions: 95, statements: 95 },
    },
  },
});
