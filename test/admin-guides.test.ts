/**
 * The admin guides' error tables, in both languages, against the error table and the error
 * builders of src/errors.ts: a code, name, Logto error or reason changed on one side only fails
 * here.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it } from 'vitest';
import { packageRoot } from '../harness/logto-loader.js';
import {
  invalidResponse,
  invalidSettings,
  redirectUriUnknown,
  timedOut,
  unknownXiaomiError,
  unreachable,
  unusableCallback,
  type XiaomiErrorReason,
  xiaomiErrorReasons,
  xiaomiErrors,
} from '../src/errors.js';

/** Each guide, the words before its second table, and how its first names two special rows. */
const guides = [
  [
    'docs/admin-guide.md',
    'Failures without a Xiaomi code',
    'another code',
    '`access_denied` in the callback',
  ],
  ['docs/admin-guide.zh-CN.md', '没有小米错误码的失败', '其他错误码', '回调中的 `access_denied`'],
] as const;

/** The rows of the first Markdown table after `heading`, as arrays of trimmed cells. */
const tableAfter = (text: string, heading: string) => {
  const rest = text.slice(text.indexOf(heading) + heading.length);
  const lines = rest.split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('|'));
  return lines.slice(start + 2, end).map((line) =>
    line
      .slice(1, -1)
      .split(' | ')
      .map((cell) => cell.trim()),
  );
};

/** The Logto error codes a cell names, in backticks. */
const codesIn = (cell: string | undefined) =>
  [...(cell ?? '').matchAll(/`(\w+)`/g)].map(([, code]) => code);

const url = new URL('https://account.xiaomi.com/oauth2/token');
/** The Logto error of each reason whose error always has the same code. */
const fixedCodes: Partial<Record<XiaomiErrorReason, string>> = {
  invalid_settings: invalidSettings([]).code,
  unusable_callback: unusableCallback('no fields').code,
  redirect_uri_unknown: redirectUriUnknown().code,
  timeout: timedOut(url, 5000).code,
  network: unreachable(url, undefined).code,
  not_json: invalidResponse(url, 'not_json').code,
  unexpected_shape: invalidResponse(url, 'unexpected_shape').code,
};
const httpStatusCodes: string[] = [
  ConnectorErrorCodes.SocialAuthCodeInvalid,
  ConnectorErrorCodes.SocialAccessTokenInvalid,
  ConnectorErrorCodes.General,
];

describe.each(guides)('%s', (file, otherHeading, unknownRow, accessDeniedRow) => {
  const text = readFileSync(join(packageRoot, file), 'utf8');
  const [xiaomiTable, otherTable] = [
    tableAfter(text, '`xiaomi_error`'),
    tableAfter(text, otherHeading),
  ];

  it('lists every Xiaomi code of the table with its name and Logto error, in order', () => {
    const expected = [...xiaomiErrors]
      .filter(([key]) => /^\d+$/.test(key))
      .map(([key, { name, connectorCode }]) => [key, name, `\`${connectorCode}\``]);
    expected.push(
      [unknownRow, unknownXiaomiError.name, `\`${unknownXiaomiError.connectorCode}\``],
      [
        accessDeniedRow,
        'OA_ACCESS_DENIED',
        `\`${xiaomiErrors.get('access_denied')?.connectorCode}\``,
      ],
    );
    expect(xiaomiTable.map((cells) => cells.slice(0, 3))).toEqual(expected);
    expect(xiaomiTable.every((cells) => (cells[3] ?? '') !== '')).toBe(true);
  });

  it('lists every other reason with the Logto error it comes with', () => {
    const rows = otherTable.map(([, reason, logtoError]) => ({
      reason: codesIn(reason)[0] as XiaomiErrorReason,
      codes: codesIn(logtoError),
    }));
    expect(new Set([...rows.map(({ reason }) => reason), 'xiaomi_error'])).toEqual(
      xiaomiErrorReasons,
    );
    for (const { reason, codes } of rows) {
      if (reason === 'http_status') {
        expect(codes.length).toBeGreaterThan(0);
        expect(httpStatusCodes).toEqual(expect.arrayContaining(codes));
      } else {
        expect(codes).toEqual([fixedCodes[reason]]);
      }
    }
  });
});
