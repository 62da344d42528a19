/**
 * An esbuild plugin for tsup: lists every package bundled into lib/ with its licence text, so the
 * package carries the notices of what it ships, and stops the build on a licence we did not vet.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Options } from 'tsup';

type EsbuildPlugin = NonNullable<Options['esbuildPlugins']>[number];

const vettedLicences = new Set([
  'MIT',
  'ISC',
  '0BSD',
  'BSD-2-Clause',
  'BSD-3-Clause',
  'Apache-2.0',
]);

/** `node_modules/zod/lib/index.mjs` → `node_modules/zod`; undefined for our own sources. */
const packageDirOf = (input: string) => {
  const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return match?.[1];
};

const readNotice = async (dir: string) => {
  const { name, version, license } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  if (!vettedLicences.has(license)) {
    throw new Error(`${name} ${version} is under "${license}", which is not vetted for bundling.`);
  }
  const licenceFile = (await readdir(dir)).find((file) => /^licen[cs]e/i.test(file));
  if (!licenceFile) {
    throw new Error(`${name} ${version} ships no licence file to copy.`);
  }
  const text = (await readFile(join(dir, licenceFile), 'utf8')).trim();
  return `## ${name} ${version} (${license})\n\n\`\`\`text\n${text}\n\`\`\``;
};

export const thirdPartyNotices = (outFile: string): EsbuildPlugin => ({
  name: 'third-party-notices',
  setup(build) {
    build.initialOptions.metafile = true;
    build.onEnd(async ({ metafile }) => {
      const dirs = new Set(
        Object.keys(metafile?.inputs ?? {})
          .map(packageDirOf)
          .filter((dir) => dir !== undefined),
      );
      const notices = await Promise.all([...dirs].sort().map(readNotice));
      // tsup writes the bundle after this hook: on a fresh clone, lib/ does not exist yet.
      await mkdir(dirname(outFile), { recursive: true });
      await writeFile(
        outFile,
        `# Third-party notices\n\nThe files in lib/ include the following packages, each under its own licence.\n\n${notices.join('\n\n')}\n`,
      );
    });
  },
});
