import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { packageRoot } from '../harness/logto-loader.js';
import { demoApp } from '../harness/xiaomi-stand-in.js';

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
});
