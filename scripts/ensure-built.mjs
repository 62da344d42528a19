// Builds lib/ only when something it is built from is newer, so that `npm run try`, `npm run demo`
// and `npm run bench` start at once on a current build. Run from npm scripts (tsup on PATH).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const buildInputs = ['src', 'package.json', 'tsup.config.ts', 'scripts/third-party-notices.ts'];

const newestChange = (path) =>
  statSync(path).isDirectory()
    ? Math.max(0, ...readdirSync(path).map((name) => newestChange(join(path, name))))
    : statSync(path).mtimeMs;

const builtAt = () => {
  try {
    return statSync(join(root, 'lib', 'index.js')).mtimeMs;
  } catch {
    return 0;
  }
};

if (Math.max(...buildInputs.map((input) => newestChange(join(root, input)))) > builtAt()) {
  const { status, error } = spawnSync('tsup', ['--silent'], { cwd: root, stdio: 'inherit' });
  if (error) {
    throw error;
  }
  process.exitCode = status ?? 1;
}
