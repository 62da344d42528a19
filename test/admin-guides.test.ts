/**
 * The admin guides' error and log tables, in both languages, are the ones scripts/error-tables.ts makes
 * from src/errors.ts: a code, name, Logto error, reason or hint changed on one side only fails
 * here until `npm run docs` has written the guides again (and a new hint has its Chinese).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../harness/logto-loader.js';
import {
  dataOf,
  guides,
  guideWithTables,
  otherFailures,
  zhHints,
  zhLogOnce,
} from '../scripts/error-tables.js';
import {
  failureHints,
  logNotes,
  unknownXiaomiError,
  xiaomiErrorReasons,
  xiaomiErrors,
} from '../src/errors.js';

/** Markdown with each table row's cells trimmed, as Biome's padding of them changes nothing. */
const withPlainTables = (text: string) =>
  text
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((cell) => cell.trim().replace(/^-+$/, '---'))
            .join('|')
        : line,
    )
    .join('\n');

describe.each(guides)('$file', (guide) => {
  const text = readFileSync(join(packageRoot, guide.file), 'utf8');

  it('carries the error tables made from src/errors.ts, word for word', () => {
    expect(withPlainTables(text)).toBe(withPlainTables(guideWithTables(guide)));
  });
});

it('the tables give a row to every reason', () => {
  const reasons = otherFailures.flatMap((errors) => errors.map((error) => dataOf(error).reason));
  expect(new Set([...reasons, 'xiaomi_error'])).toEqual(xiaomiErrorReasons);
});

describe('the Chinese hints', () => {
  const englishHints = new Set([
    ...[...xiaomiErrors.values()].map(({ hint }) => hint),
    unknownXiaomiError.hint,
    ...Object.values(failureHints),
  ]);

  it('translate every hint the connector gives, and nothing else', () => {
    expect(new Set(Object.keys(zhHints))).toEqual(englishHints);
  });
});

it('the Chinese guide says when each log line is written, and nothing else', () => {
  const rules = Object.values(logNotes).map(({ once }) => once);
  expect(new Set(Object.keys(zhLogOnce))).toEqual(new Set(rules));
});
