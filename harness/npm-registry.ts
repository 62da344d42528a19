/**
 * A private npm registry on 127.0.0.1 (verdaccio, no uplinks: it serves only what is published to
 * it), to publish this package as it will be published and install it by name before any release.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';
import { packageRoot } from './logto-loader.js';

const run = promisify(execFile);
const lockedDir = join(packageRoot, 'harness', 'verdaccio');
const installDir = join(packageRoot, 'node_modules', '.cache', 'verdaccio');
const verdaccioBin = join(installDir, 'node_modules', '.bin', 'verdaccio');

/** Installs verdaccio once, exactly as locked in harness/verdaccio, under node_modules/.cache. */
const installVerdaccio = async () => {
  if (existsSync(verdaccioBin)) {
    return;
  }
  await mkdir(installDir, { recursive: true });
  for (const file of ['package.json', 'package-lock.json']) {
    await copyFile(join(lockedDir, file), join(installDir, file));
  }
  await run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: installDir });
};

const waitUntilUp = async (url: string, registry: ChildProcess) => {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (registry.exitCode !== null) {
      throw new Error(`verdaccio exited with ${registry.exitCode}`);
    }
    const up = await fetch(`${url}-/ping`).then(
      (answer) => answer.ok,
      () => false,
    );
    if (up) {
      return;
    }
    await sleep(200);
  }
  throw new Error(`verdaccio did not answer on ${url} within 20 s`);
};

/** A user for `npm publish`, created the way `npm adduser` does; an npmrc that logs in as it. */
const publisherNpmrc = async (url: string, dir: string) => {
  const answer = await fetch(`${url}-/user/org.couchdb.user:publisher`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'publisher', password: 'publisher-passw0rd' }),
  });
  const { token } = (await answer.json()) as { token: string };
  const npmrc = join(dir, 'publisher.npmrc');
  await writeFile(npmrc, `registry=${url}\n//${new URL(url).host}/:_authToken=${token}\n`);
  return npmrc;
};

export const startNpmRegistry = async () => {
  await installVerdaccio();
  const dir = await mkdtemp(join(tmpdir(), 'xiaomi-registry-'));
  await writeFile(
    join(dir, 'config.yaml'),
    [
      `storage: ${join(dir, 'storage')}`,
      `auth: { htpasswd: { file: ${join(dir, 'htpasswd')}, max_users: 10 } }`,
      'uplinks: {}',
      "packages: { '**': { access: $all, publish: $authenticated } }",
      'log: { type: stdout, format: pretty, level: error }',
    ].join('\n'),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/`;
  const registry = spawn(
    verdaccioBin,
    ['--config', join(dir, 'config.yaml'), '--listen', `127.0.0.1:${port}`],
    { stdio: 'ignore' },
  );
  await waitUntilUp(url, registry);
  const npmrc = await publisherNpmrc(url, dir);

  return {
    url,
    /**
     * Publishes a clean clone of this repository's HEAD, as a release would (`prepack` builds
     * lib/ from the committed sources). The clone borrows this checkout's node_modules.
     */
    publishCleanClone: async () => {
      const clone = join(dir, 'clone');
      await run('git', ['clone', '--quiet', packageRoot, clone]);
      await symlink(join(packageRoot, 'node_modules'), join(clone, 'node_modules'), 'dir');
      await run('npm', ['publish', '--userconfig', npmrc, '--loglevel=error'], {
        cwd: clone,
        maxBuffer: 16 * 1024 * 1024,
      });
    },
    close: async () => {
      registry.kill();
      if (registry.exitCode === null) {
        await once(registry, 'exit');
      }
    },
  };
};

export type NpmRegistry = Awaited<ReturnType<typeof startNpmRegistry>>;
