import { defineConfig } from 'vitest/config';

// `npm run mutation`: only the unit suites beside the code can see a mutant of src/; the suites
// under test/ run the built lib/, which a mutant never reaches. The property test runs fewer
// cases per mutant.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    env: { PROPERTY_RUNS: '300' },
  },
});
