/**
 * Every way the README installs the package, each into a real Logto and each ending in a sign-in:
 * its Dockerfile on an instance laid out like Logto's Docker image, its way back when both
 * connectors are installed (and after an image upgrade with a volume), back to the official
 * connector of the release, and by name from an npm registry. The commands are read from README.md, so what runs here is what admins read.
 */
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { copyFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  atXiaomi,
  connectorConfig,
  setUpXiaomiSignIn,
  xiaomiAppOfConfig,
} from '../../harness/logto-api.js';
import {
  asOneCommand,
  buildReadmeDockerfile,
  goBackAsReadmeSays,
  holdOfficialConnector,
  installAsReadmeSays,
  layOutLikeImage,
  officialConnectorDir,
  officialSourceDir,
  ourConnectorDir,
  packageVersion,
  packTarball,
  readmeBlock,
  tarballName,
} from '../../harness/logto-install.js';
import {
  inInstance,
  logtoVersions,
  prepareLogto,
  routedToStandIn,
  startLogto,
  stopLogto,
} from '../../harness/logto-server.js';
import { type NpmRegistry, startNpmRegistry } from '../../harness/npm-registry.js';
import { routeXiaomiTo } from '../../harness/route-xiaomi.js';
import {
  type StandInUser,
  seededUsers,
  startXiaomiStandIn,
  type XiaomiStandIn,
} from '../../harness/xiaomi-stand-in.js';

const xiaomiApp = xiaomiAppOfConfig();
const [lei] = seededUsers as [StandInUser];

/** The command inside `docker exec <container> sh -c '…'` on the README line with `marker`. */
const dockerExecCommand = (marker: string) => {
  const command = /sh -c '([^']+)'/.exec(
    readmeBlock('bash', marker)
      .split('\n')
      .find((line) => line.includes(marker)) ?? '',
  )?.[1];
  if (!command) {
    throw new Error(`The README has no docker exec line with "${marker}".`);
  }
  return command;
};

let tarball: string;
let standIn: XiaomiStandIn;
let unroute: () => Promise<void>;

beforeAll(async () => {
  tarball = await packTarball();
  standIn = await startXiaomiStandIn({ apps: [xiaomiApp], users: seededUsers });
  // This process plays the browser, so it too sends Xiaomi's hosts to the stand-in.
  unroute = routeXiaomiTo(standIn.origin);
}, 120_000);

afterAll(async () => {
  await stopLogto();
  await unroute?.();
  await standIn?.close();
}, 60_000);

describe.each(logtoVersions)('installed into Logto %s', (version) => {
  let instance: string;
  const timings: Record<string, number> = {};

  const startLogtoHere = (extra: Record<string, string> = {}) =>
    startLogto(version, { ...routedToStandIn(standIn.origin), ...extra });

  /** Starts Logto on the instance as it is, and signs a new Xiaomi user in through it. */
  const startAndSignIn = async (setUp?: { tokenStorage: boolean }) => {
    const logto = await startLogtoHere();
    const tenant = await setUpXiaomiSignIn(logto, connectorConfig, setUp);
    xiaomiApp.redirectUris.push(tenant.signInCallback);
    const { sub, registered } = await tenant.signIn(atXiaomi(lei.unionId));
    expect(registered).toBe(true);
    expect(await tenant.xiaomiIdentity(sub)).toMatchObject({ userId: lei.unionId });
  };

  /** Times `step` under `name`, for the closing line. */
  const timed = async (name: string, step: () => Promise<void>) => {
    const started = performance.now();
    await step();
    timings[name] = performance.now() - started;
  };

  beforeAll(async () => {
    instance = await prepareLogto(version);
  }, 600_000);

  afterAll(() => {
    const seconds = (name: string) => `${((timings[name] ?? 0) / 1000).toFixed(1)} s`;
    console.info(
      `Logto ${version}, install and sign in: Docker image ${seconds('image')}, volume ${seconds('volume')}, recovery ${seconds('recovery')}, back to the official ${seconds('back')}, after an image upgrade ${seconds('upgrade')}, from npm ${seconds('registry')}`,
    );
  });

  it('from the README’s Dockerfile on an instance laid out like Logto’s image', async () => {
    const restore = await layOutLikeImage(instance);
    try {
      expect(lstatSync(officialConnectorDir(instance)).isSymbolicLink()).toBe(true);
      expect(readlinkSync(officialConnectorDir(instance))).toBe(
        '../../connectors/connector-xiaomi',
      );

      await timed('image', async () => {
        await buildReadmeDockerfile(instance);
        expect(existsSync(officialConnectorDir(instance))).toBe(false);
        expect(existsSync(officialSourceDir(instance))).toBe(false);
        expect(existsSync(join(ourConnectorDir(instance), 'lib/index.js'))).toBe(true);
        expect(existsSync(join(ourConnectorDir(instance), 'node_modules'))).toBe(false);
        await startAndSignIn();
      });

      // A later `connector link` (say, by an admin adding another connector) brings nothing back.
      await inInstance(instance, 'npm run cli connector link');
      expect(existsSync(officialConnectorDir(instance))).toBe(false);
    } finally {
      await restore();
    }
  });

  it('stops a build whose connector did not land, although Logto’s CLI exits 0', async () => {
    const restore = await layOutLikeImage(instance);
    const good = await readFile(tarball);
    try {
      await writeFile(tarball, 'not a tarball');
      const failure: { stdout?: string } = await buildReadmeDockerfile(instance).then(
        () => ({}),
        (error: { stdout?: string }) => error,
      );
      expect(failure.stdout).toContain('Finished with 1 error');
      expect(existsSync(ourConnectorDir(instance))).toBe(false);
    } finally {
      await writeFile(tarball, good);
      await restore();
    }
  });

  it('into a volume, with the README’s docker exec command', async () => {
    const restore = await layOutLikeImage(instance);
    try {
      await timed('volume', async () => {
        // docker cp: the tarball where the README's command takes it from.
        await copyFile(tarball, join('/tmp', tarballName));
        await inInstance(instance, dockerExecCommand('connector add /tmp/'));
        expect(existsSync(officialConnectorDir(instance))).toBe(false);
        expect(existsSync(officialSourceDir(instance))).toBe(false);
        await startAndSignIn();
      });
    } finally {
      await restore();
    }
  });

  describe('with both connectors installed', () => {
    let restore: () => Promise<void>;

    const installBoth = async () => {
      restore = await layOutLikeImage(instance);
      await inInstance(instance, `npm run cli connector add ${tarball}`);
      expect(existsSync(officialConnectorDir(instance))).toBe(true);
      expect(existsSync(ourConnectorDir(instance))).toBe(true);
    };

    it('core does not start; the README’s recovery brings it back with ours', async () => {
      await installBoth();
      try {
        const refusal: { stderr?: string } = await startLogtoHere().then(
          () => ({}),
          (error: { stderr?: string }) => error,
        );
        // The lines the README quotes from core's log.
        expect(refusal.stderr).toContain(
          'RequestError: Found multiple connector factories (with id xiaomi-universal), you may uninstall unnecessary ones.',
        );
        expect(refusal.stderr).toContain("code: 'connector.more_than_one_connector_factory'");

        await timed('recovery', async () => {
          await inInstance(
            instance,
            asOneCommand(
              readmeBlock('bash', 'rm -rf packages/connectors/connector-xiaomi', 'docker'),
            ),
          );
          await startAndSignIn();
        });
      } finally {
        await restore();
      }
    });

    it('after an image upgrade with a volume, the README’s relink command starts Logto', async () => {
      await installBoth();
      try {
        await timed('upgrade', async () => {
          await inInstance(instance, dockerExecCommand('connector link &&'));
          expect(existsSync(officialConnectorDir(instance))).toBe(false);
          await startAndSignIn();
        });
      } finally {
        await restore();
      }
    });
  });

  it('goes back to the official connector its release ships, with the README’s lines', async () => {
    const restore = await layOutLikeImage(instance);
    try {
      await timed('back', async () => {
        await installAsReadmeSays(instance, tarball);
        expect(existsSync(officialConnectorDir(instance))).toBe(false);
        await goBackAsReadmeSays(instance);
        expect(existsSync(ourConnectorDir(instance))).toBe(false);
        expect(readlinkSync(officialConnectorDir(instance))).toBe(
          '../../connectors/connector-xiaomi',
        );
        // The official connector has no token storage, which Logto would refuse to turn on.
        await startAndSignIn({ tokenStorage: false });
      });
    } finally {
      await restore();
    }
  });

  describe('from an npm registry, by name', () => {
    let registry: NpmRegistry;

    beforeAll(async () => {
      registry = await startNpmRegistry();
      await registry.publishCleanClone();
    }, 300_000);

    afterAll(async () => {
      await registry?.close();
    });

    it('installs with the README’s command and signs in', async () => {
      await holdOfficialConnector(instance);
      await timed('registry', async () => {
        await inInstance(instance, 'npm run cli connector remove @logto/connector-xiaomi');
        await inInstance(instance, readmeBlock('bash', 'add connector-xiaomi-plus').trim(), {
          ...process.env,
          npm_config_registry: registry.url,
        });
        const installed = JSON.parse(
          readFileSync(join(ourConnectorDir(instance), 'package.json'), 'utf8'),
        ) as { name: string; version: string };
        expect(installed).toMatchObject({ name: 'connector-xiaomi-plus', version: packageVersion });
        await startAndSignIn();
      });
    });
  });
});
