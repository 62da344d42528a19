import { defineConfig } from 'vitest/config';

// `npm run test:logto`: the package inside real Logto servers, one version after the other.
export default defineConfig({
  test: {
    include: ['test/logto/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
    // The kit's example client narrates every step; the assertions say what matters.
    onConsoleLog: (log) => !log.startsWith('[example]'),
  },
});
