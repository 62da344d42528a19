/**
 * What the READMEs and guides say, kept short and kept true: no sentence over 40 words, and the
 * figures they quote are the connector's own (src/constant.ts, src/refresh-token.ts). The log
 * lines and when each is written are the guides' generated table (test/admin-guides.test.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../harness/logto-loader.js';
import {
  maxAttempts,
  pauseSlackMs,
  redisCallLimit,
  sharedRefreshTiming,
  timeLimits,
} from '../src/constant.js';
import { keptRefreshesMax, refreshGraceMs } from '../src/refresh-token.js';

const read = (file: string) => readFileSync(join(packageRoot, file), 'utf8');

/**
 * The sentences of a Markdown text, as a reader meets them: code blocks and pictures left out,
 * each paragraph, list item, heading and table cell on its own, inline code and links as the
 * words they show. A sentence ends at `.`, `!` or `?` before a capital, a quote or inline code,
 * and at `。`, `！`, `？` or `；` in Chinese.
 */
const sentencesOf = (markdown: string) =>
  markdown
    .replace(/^```[\s\S]*?^```$/gm, '')
    .split('\n')
    .filter((line) => !line.startsWith('!['))
    .flatMap((line) => (line.startsWith('|') ? line.split('|') : [line]))
    .map((text) => text.replace(/^\s*(#+|[-*]( \[ \])?|\d+\.)\s*/, '').trim())
    .flatMap((text) => text.split(/(?<=[.!?])\s+(?=[A-Z"“(*`])|(?<=[。！？；])/))
    .map((text) => text.replace(/`[^`]*`/g, 'code').replace(/\[([^\]]*)\]\([^)]*\)/g, '$1'))
    .filter((sentence) => /\w|\p{Script=Han}/u.test(sentence));

/** Words of an English sentence; in Chinese, two characters count as one word. */
const wordsOf = (sentence: string) =>
  (sentence.match(/[A-Za-z0-9][\w'’./:@%-]*/g)?.length ?? 0) +
  (sentence.match(/\p{Script=Han}/gu)?.length ?? 0) / 2;

const english = ['README.md', 'docs/admin-guide.md', 'docs/development.md'];
const chinese = ['README.zh-CN.md', 'docs/admin-guide.zh-CN.md'];

describe.each([...english, ...chinese])('%s', (file) => {
  it('has no sentence over 40 words', () => {
    const long = sentencesOf(read(file)).filter((sentence) => wordsOf(sentence) > 40);
    expect(long).toEqual([]);
  });
});

describe.each([
  ['docs/admin-guide.md', 's', 'ms', 'attempts'],
  ['docs/admin-guide.zh-CN.md', '秒', '毫秒', '次尝试'],
])('%s', (file, seconds, milliseconds, attempts) => {
  const guide = read(file);
  const inSeconds = (ms: number) => `${ms / 1000} ${seconds}`;

  it('gives the connector’s own time limits and counts', () => {
    for (const figure of [
      inSeconds(timeLimits.attempt),
      inSeconds(timeLimits.request),
      inSeconds(2 * timeLimits.request),
      `${maxAttempts} ${attempts}`,
      `${redisCallLimit} ${milliseconds}`,
      inSeconds(refreshGraceMs),
      inSeconds(sharedRefreshTiming.claimMs),
      inSeconds(pauseSlackMs),
      String(keptRefreshesMax),
    ]) {
      expect(guide).toContain(figure);
    }
  });
});
