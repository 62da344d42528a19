import { ConnectorError, ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it } from 'vitest';
import {
  mockAccessToken,
  mockClientSecret,
  mockTokenResponse,
  oauthError,
  openApiError,
  prefixed,
  refresh,
  rejectionOf,
  signIn,
} from '../test/fixtures.js';
import { interceptXiaomi, replyProfile, replyToken } from '../test/xiaomi-nock.js';
import { isXiaomiError, xiaomiErrors } from './errors.js';

const {
  AuthorizationFailed,
  General,
  InvalidConfig,
  SocialAccessTokenInvalid,
  SocialAuthCodeInvalid,
} = ConnectorErrorCodes;

/** Each row of Xiaomi's error table, the ConnectorError it must become and a word of its hint. */
const table = [
  [96001, 'OA_CLIENT_NOT_EXISTS', InvalidConfig, 'clientId is the AppID'],
  [96002, 'OA_INVALID_REQUEST', General, 'parameter missing or malformed'],
  [96003, 'OA_INVALID_CLIENT', InvalidConfig, 'clientSecret is the AppSecret'],
  [96004, 'OA_INVALID_GRANT', SocialAuthCodeInvalid, 'sign in again'],
  [96005, 'OA_UNAUTHORIZED_CLIENT', InvalidConfig, 'apply for it in the Xiaomi console'],
  [96006, 'OA_UNSUPPORTED_GRANT_TYPE', General, 'grant type'],
  [96007, 'OA_INVALID_SCOPE', InvalidConfig, 'scope setting'],
  [96008, 'OA_INVALID_TOKEN', SocialAccessTokenInvalid, 'access token is invalid or expired'],
  [96009, 'OA_INVALID_REFRESHTOKEN', SocialAccessTokenInvalid, 'refresh token is invalid'],
  [96010, 'OA_INVALID_REDIRECT_URI', InvalidConfig, 'each Redirect URI the Console shows'],
  [96011, 'OA_UNSUPPORTED_RESPONSE_TYPE', General, 'response type'],
  [96012, 'OA_ACCESS_DENIED', AuthorizationFailed, 'refused the authorization'],
  [96013, 'OA_INVALID_CODE', SocialAuthCodeInvalid, 'authorization code is invalid'],
  [96099, 'UNKNOWN', General, 'does not know the code'],
] as const;

const description = 'Xiaomi 的说明';

interceptXiaomi();

it('has a test row for every code of the table', () => {
  const tested = new Set<string>(table.map(([code]) => String(code)));
  expect([...xiaomiErrors.keys()].filter((key) => /^\d+$/.test(key) && !tested.has(key))).toEqual(
    [],
  );
});

describe.each(table)('Xiaomi error %i (%s)', (code, name, connectorCode, hintWords) => {
  const hint = expect.stringContaining(hintWords);
  const expected = {
    code: connectorCode,
    data: {
      reason: 'xiaomi_error',
      code,
      name,
      description,
      hint,
      errorDescription: expect.stringMatching(
        new RegExp(`^Xiaomi returned error ${code} \\(${name}: ${description}\\): .*${hintWords}`),
      ),
    },
  };

  it.each([200, 400])('from the token endpoint with HTTP %i', async (status) => {
    replyToken(status, oauthError(code, description));
    expect(await rejectionOf(signIn())).toMatchObject(expected);
  });

  it('from the callback, as a numeric string', async () => {
    const error = await rejectionOf(
      signIn({ error: String(code), error_description: description, state: 's' }),
    );
    expect(error).toMatchObject(expected);
  });

  it('from the open API, whatever the HTTP status', async () => {
    replyToken(200, prefixed(mockTokenResponse));
    replyProfile(code % 2 ? 403 : 200, openApiError(code, description));
    expect(await rejectionOf(signIn())).toMatchObject(expected);
  });

  it('from a token refresh', async () => {
    replyToken(400, oauthError(code, description));
    expect(await rejectionOf(refresh())).toMatchObject(expected);
  });
});

describe('answers outside the table', () => {
  it('keeps a callback error word such as access_denied', async () => {
    const error = await rejectionOf(signIn({ error: 'access_denied' }));
    expect(error).toMatchObject({
      code: AuthorizationFailed,
      data: { code: 'access_denied', name: 'OA_ACCESS_DENIED' },
    });
  });

  it.each(['toString', 'constructor', '__proto__', 'hasOwnProperty'])(
    'reports a callback error named like an object property (%s) as an unknown General error',
    async (word) => {
      const error = await rejectionOf(signIn({ error: word }));
      expect(error).toMatchObject({ code: General, data: { code: word, name: 'UNKNOWN' } });
    },
  );

  it('reports an open API error without a code as General, and says so', async () => {
    replyToken(200, prefixed(mockTokenResponse));
    replyProfile(200, { result: 'error' });
    const error = await rejectionOf(signIn());
    expect(error).toMatchObject({ code: General, data: { name: 'UNKNOWN' } });
    expect(error.data).not.toHaveProperty('code', expect.anything());
    expect(error.data).toMatchObject({
      errorDescription: expect.stringMatching(
        /^Xiaomi returned an error without a code \(UNKNOWN\): /,
      ),
    });
  });

  it('does not point to a description Xiaomi did not give', async () => {
    const error = await rejectionOf(signIn({ error: '12345' }));
    expect(error).toMatchObject({
      code: General,
      data: {
        code: 12345,
        name: 'UNKNOWN',
        errorDescription: `Xiaomi returned error 12345 (UNKNOWN): ${error.data.hint}`,
      },
    });
    expect(JSON.stringify(error.data)).not.toContain('the description');
  });

  it.each([
    ['a code with digits last', 'abc123', 'abc123'],
    ['a code with digits first', '96003x', '96003x'],
    ['a numeric code with a sign', '-96003', '-96003'],
    ['a numeric string', '96003', 96003],
  ])('keeps %s as Xiaomi sent it', async (_, sent, kept) => {
    const error = await rejectionOf(signIn({ error: sent }));
    expect(error.data).toMatchObject({ code: kept });
  });
});

describe('secrets Xiaomi echoes', () => {
  it('hides the AppSecret in the description and the message of a token error', async () => {
    replyToken(200, oauthError(96003, `bad secret ${mockClientSecret}`));
    const error = await rejectionOf(signIn());
    expect(error.data).toMatchObject({
      description: 'bad secret [redacted]',
      errorDescription: expect.stringContaining('(OA_INVALID_CLIENT: bad secret [redacted])'),
    });
  });

  it('hides the access token in an open API error, its code included', async () => {
    replyToken(200, prefixed(mockTokenResponse));
    replyProfile(200, openApiError(`x${mockAccessToken}`, mockAccessToken));
    const error = await rejectionOf(signIn());
    expect(error.data).toMatchObject({ code: 'x[redacted]', description: '[redacted]' });
  });
});

describe('isXiaomiError', () => {
  it('recognises this connector’s errors', async () => {
    const error = await rejectionOf(signIn({ error: '96003' }));
    expect(isXiaomiError(error)).toBe(true);
  });

  it.each([
    ['another error', new Error('x')],
    ['a ConnectorError without data', new ConnectorError(ConnectorErrorCodes.General)],
    ['a ConnectorError with text', new ConnectorError(ConnectorErrorCodes.General, 'text')],
    [
      'a ConnectorError of another connector',
      new ConnectorError(ConnectorErrorCodes.General, { reason: 'other' }),
    ],
  ])('refuses %s', (_, error) => {
    expect(isXiaomiError(error)).toBe(false);
  });
});
