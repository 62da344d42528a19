import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { packageRoot } from '../harness/logto-loader.js';
import { demoApp } from '../harness/xiaomi-stand-in.js';

/** The lines of the demo's output a guide quotes (its `text` block of step 2), `...` left out. */
const quotedDemoLines = (guide: string) => {
  const excerpt = [
    ...readFileSync(join(packageRoot, guide), 'utf8').matchAll(/```text\n([\s\S]*?)```/g),
  ].find(([, block]) => block?.includes('2. Logto asks the connector'));
  return (excerpt?.[1] ?? '')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && line !== '...' && !line.endsWith(',...}'));
};

it('npm run demo signs the seeded user in, hides secrets and exits 0', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', 'scripts/demo.ts'],
    { cwd: packageRoot, timeout: 30_000 },
  );
  expect(stdout).toContain('Signed in as 雷小米 (u-mi-10001).');
  expect(stdout).toContain('POST /oauth2/token');
  expect(stdout).toContain('"phone": "8613800138000"');
  expect(stdout).not.toContain(demoApp.clientSecret);
  expect(stdout).not.toMatch(/"access_token":"(?!\[redacted\])/);
  expect(stdout).toContain("The path ends with the connector's own ID, here k7x2m9q4w1zt");
  const quoted = quotedDemoLines('docs/development.md');
  expect(quoted.length).toBeGreaterThan(10);
  for (const line of quoted) {
    expect(stdout, `the development guide quotes the demo: ${line}`).toContain(line);
  }
});
