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

const mitPermission = `Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.`;

/**
 * MIT packages whose npm tarball ships no licence file, with the copyright line of the licence
 * in their repository (node-redis's LICENSE, for @redis/client).
 */
const mitCopyrightsOutsideTarball: Record<string, string> = {
  '@redis/client': 'Copyright (c) 2022-2023, Redis, inc.',
};

const readLicence = async (dir: string, name: string, license: string) => {
  const licenceFile = (await readdir(dir)).find((file) => /^licen[cs]e/i.test(file));
  if (licenceFile) {
    return (await readFile(join(dir, licenceFile), 'utf8')).trim();
  }
  const copyright = mitCopyrightsOutsideTarball[name];
  if (license === 'MIT' && copyright) {
    return `MIT License\n\n${copyright}\n\n${mitPermission}`;
  }
  throw new Error(`${name} ships no licence file to copy.`);
};

const readNotice = async (dir: string) => {
  const { name, version, license } = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8'));
  if (!vettedLicences.has(license)) {
    throw new Error(`${name} ${version} is under "${license}", which is not vetted for bundling.`);
  }
  const text = await readLicence(dir, name, license);
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
