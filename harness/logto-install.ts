/**
 * The ways an admin installs this package into a Logto instance, each as the README writes it:
 * the tarball into an instance from `logto init`, the README's Dockerfile on an instance laid out
 * like Logto's Docker image, and by name from an npm registry; the way back when both the
 * official connector and this one are installed, and the way back to the official connector.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from './logto-loader.js';
import { connectorsDir, inInstance } from './logto-server.js';

export const ourConnectorDir = (instance: string) =>
  join(connectorsDir(instance), 'connector-xiaomi-plus');
export const officialConnectorDir = (instance: string) =>
  join(connectorsDir(instance), '@logto-connector-xiaomi');
/** Where Logto's image keeps the official connectors' sources, linked from the connectors folder. */
export const officialSourceDir = (instance: string) =>
  join(instance, 'packages/connectors/connector-xiaomi');

export const { version: packageVersion } = JSON.parse(
  readFileSync(join(packageRoot, 'package.json'), 'utf8'),
) as {
  version: string;
};
export const tarballName = `connector-xiaomi-plus-${packageVersion}.tgz`;

const readme = readFileSync(join(packageRoot, 'README.md'), 'utf8');

/**
 * The README's fenced code block of `language` that contains `marker` (and not `unlike`, when
 * given), as written there.
 */
export const readmeBlock = (language: string, marker: string, unlike?: string) => {
  const block = [...readme.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].find(
    ([, lang, body]) =>
      lang === language && body?.includes(marker) && !(unlike && body.includes(unlike)),
  )?.[2];
  if (!block) {
    throw new Error(`The README has no ${language} block with "${marker}".`);
  }
  return block;
};

/** README: `npm pack` in this repository (prepack builds lib/ first); the tarball's path. */
export const packTarball = async () => {
  await promisify(execFile)('npm', ['pack', '--silent'], { cwd: packageRoot, maxBuffer: 1 << 24 });
  return join(packageRoot, tarballName);
};

/** Puts the instance where an admin starts from: Logto with the official Xiaomi connector. */
export const holdOfficialConnector = async (instance: string) => {
  if (existsSync(ourConnectorDir(instance))) {
    await inInstance(instance, 'npm run cli connector remove connector-xiaomi-plus');
  }
  if (!existsSync(officialConnectorDir(instance))) {
    await inInstance(instance, 'npm run cli connector add @logto/connector-xiaomi');
  }
};

/** The lines of a README block, one shell command joined by `&&`, as a script would run them. */
export const asOneCommand = (block: string) => block.trim().split('\n').join(' && ');

/** The README's way back to the official connector that the Logto release ships. */
export const goBackAsReadmeSays = (instance: string) =>
  inInstance(instance, asOneCommand(readmeBlock('bash', 'connector remove connector-xiaomi-plus')));

/** A README block of commands run in the instance as one `&&` chain, the tarball's path filled in. */
const runReadmeCommands = (instance: string, block: string, tarball: string) =>
  inInstance(instance, asOneCommand(block.replace(`/absolute/path/to/${tarballName}`, tarball)));

/** The README's install commands for an instance from `logto init`. */
export const installAsReadmeSays = (instance: string, tarball: string) =>
  runReadmeCommands(
    instance,
    readmeBlock('bash', 'connector remove @logto/connector-xiaomi\nnpm run cli connector add /'),
    tarball,
  );

/** The README's upgrade commands for that instance, which must work however often they run. */
export const upgradeAsReadmeSays = (instance: string, tarball: string) =>
  runReadmeCommands(
    instance,
    readmeBlock('bash', 'connector add /absolute/path/to/', 'connector remove'),
    tarball,
  );

/** Docker's line continuations joined, comments dropped: one instruction per entry. */
const dockerInstructions = (dockerfile: string) =>
  dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const [, keyword = '', rest = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
      return { keyword: keyword.toUpperCase(), rest };
    });

/**
 * Builds the README's Dockerfile on `instance` as Docker would on Logto's image: `FROM` is the
 * instance itself (the image's working directory), and with it the `ARG` that names its version;
 * `ENV` sets the environment of what follows,
 * `COPY` takes files from this repository (the build context) to the same absolute path here, and
 * `RUN` runs its line with `sh -c` in the instance. Rejects like a failed `docker build`.
 */
export const buildReadmeDockerfile = async (instance: string) => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const { keyword, rest } of dockerInstructions(
    readmeBlock('dockerfile', 'FROM svhd/logto'),
  )) {
    if (keyword === 'ARG' || keyword === 'FROM') {
      continue;
    }
    if (keyword === 'ENV') {
      for (const [, key = '', value = ''] of rest.matchAll(/(\w+)=(\S+)/g)) {
        env[key] = value;
      }
    } else if (keyword === 'COPY') {
      const [source = '', target = ''] = rest.split(/\s+/);
      const destination = target.endsWith('/') ? join(target, source) : target;
      await mkdir(dirname(destination), { recursive: true });
      await copyFile(resolve(packageRoot, source), destination);
    } else if (keyword === 'RUN') {
      await inInstance(instance, rest, env);
    } else {
      throw new Error(`The README's Dockerfile uses ${keyword}, which this build does not know.`);
    }
  }
};

const imageRemoves = ['pnpm-lock.yaml', 'pnpm-workspace.yaml'];

/** Makes the connector in `folder` name connector-kit as a release's own connectors do. */
const declareKitAsWorkspace = async (folder: string) => {
  const file = join(folder, 'package.json');
  const manifest = JSON.parse(await readFile(file, 'utf8')) as {
    dependencies: Record<string, string>;
  };
  manifest.dependencies['@logto/connector-kit'] = 'workspace:^';
  await writeFile(file, JSON.stringify(manifest, null, 2));
};

/**
 * Lays the instance out as Logto's Dockerfile leaves its image: the official Xiaomi connector's
 * package among the connector sources in packages/connectors, with its dependencies at hand (the
 * image installs them per package; here they are core's, which include all it needs), linked into
 * the connectors folder by `logto connector link` (a relative symlink), and no `pnpm-*.yaml`.
 * The kit's Logto ships no official connector, so npm's 1.2.5 stands in for the release's own
 * copy, which names connector-kit as a workspace package (`workspace:^`): Logto's loader takes
 * that from any release, with no override of its version check.
 * Returns the undo.
 */
export const layOutLikeImage = async (instance: string) => {
  await rm(ourConnectorDir(instance), { recursive: true, force: true });
  await rm(officialConnectorDir(instance), { recursive: true, force: true });
  await rm(officialSourceDir(instance), { recursive: true, force: true });
  await cp(join(packageRoot, 'node_modules/@logto/connector-xiaomi'), officialSourceDir(instance), {
    recursive: true,
  });
  await declareKitAsWorkspace(officialSourceDir(instance));
  await symlink(
    join(instance, 'packages/core/node_modules'),
    join(officialSourceDir(instance), 'node_modules'),
    'dir',
  );
  await inInstance(instance, 'npm run cli connector link');
  for (const file of imageRemoves) {
    await rename(join(instance, file), join(instance, `${file}.kept`));
  }

  return async () => {
    for (const file of imageRemoves) {
      await rename(join(instance, `${file}.kept`), join(instance, file));
    }
    await rm(officialConnectorDir(instance), { force: true });
    await rm(officialSourceDir(instance), { recursive: true, force: true });
  };
};
