// Builds lib/ only when something it is built from is newer, so that `npm run try`, `npm run demo`
// and `npm run bench` start at once on a current build. Tests beside the sources are not built
// from. Run from npm scripts (tsup on PATH).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const buildFiles = [
  'package.json',
  'package-lock.json',
  'tsup.config.ts',
  'tsconfig.json',
  'scripts/third-party-notices.ts',
];

const sources = readdirSync(join(root, 'src'), { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('.ts') && !name.endsWith('.test.ts'))
  .map((name) => join('src', name));

const changedAt = (path) => statSync(join(root, path)).mtimeMs;

const builtAt = () => {
  try {
    return changedAt(join('lib', 'index.js'));
  } catch {
    return 0;
  }
};

if (Math.max(...[...sources, ...buildFiles].map(changedAt)) > builtAt()) {
  const { status, error } = spawnSync('tsup', ['--silent'], { cwd: root, stdio: 'inherit' });
  if (error) {
    throw error;
  }
  process.exitCode = status ?? 1;
}
