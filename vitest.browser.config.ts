import { defineConfig } from 'vitest/config';

// `npm run test:browser`: Logto's own pages in headless Chromium, one journey after the other.
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 600_000,
    onConsoleLog: (log) => !log.startsWith('[example]') && !log.startsWith('[browser example]'),
  },
});
