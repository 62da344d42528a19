import { ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it } from 'vitest';
import createConnector from './index.js';
import {
  mockAccessToken,
  mockAuthorizationRequest,
  mockClientId,
  mockClientSecret,
  mockConfig,
  mockProfileAnswer,
  mockRedirectUri,
  mockTokenAnswer,
  prefixed,
  rejectionOf,
} from './mock.js';
import { account, interceptXiaomi, openApi } from './mock-xiaomi.js';

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
  [96010, 'OA_INVALID_REDIRECT_URI', InvalidConfig, '/callback/<connector id>'],
  [96011, 'OA_UNSUPPORTED_RESPONSE_TYPE', General, 'response type'],
  [96012, 'OA_ACCESS_DENIED', AuthorizationFailed, 'refused the authorization'],
  [96013, 'OA_INVALID_CODE', SocialAuthCodeInvalid, 'authorization code is invalid'],
  [96099, 'UNKNOWN', General, 'does not know the code'],
] as const;

const description = 'Xiaomi 的说明';
const callback = { code: 'code-1', redirectUri: mockRedirectUri };

const connectorWith = (config: object = mockConfig) =>
  createConnector({ getConfig: async () => config });
const signIn = async (data: unknown = callback) =>
  (await connectorWith()).getUserInfo(data, async () => ({}));
const refresh = async (config: object = { ...mockConfig, redirectUri: mockRedirectUri }) => {
  const connector = await connectorWith(config);
  if (!connector.getAccessTokenByRefreshToken) {
    throw new Error('The connector does not refresh tokens.');
  }
  return connector.getAccessTokenByRefreshToken('refresh-1');
};

interceptXiaomi();

describe.each(table)('Xiaomi error %i (%s)', (code, name, connectorCode, hintWords) => {
  const hint = expect.stringContaining(hintWords);
  const expected = {
    code: connectorCode,
    data: {
      code,
      name,
      description,
      hint,
      errorDescription: expect.stringMatching(
        new RegExp(`^Xiaomi returned error ${code} \\(${name}: ${description}\\): .*${hintWords}`),
      ),
    },
  };

  it('from the token endpoint with HTTP 200', async () => {
    account()
      .post('/oauth2/token')
      .reply(200, prefixed({ error: code, error_description: description }));
    expect(await rejectionOf(signIn())).toMatchObject(expected);
  });

  it('from the token endpoint with HTTP 400', async () => {
    account()
      .post('/oauth2/token')
      .reply(400, prefixed({ error: code, error_description: description }));
    expect(await rejectionOf(signIn())).toMatchObject(expected);
  });

  it('from the callback, as a numeric string', async () => {
    const error = await rejectionOf(
      signIn({ error: String(code), error_description: description, state: 's' }),
    );
    expect(error).toMatchObject(expected);
  });

  it('from the open API, whatever the HTTP status', async () => {
    account().post('/oauth2/token').reply(200, prefixed(mockTokenAnswer));
    openApi()
      .get('/user/profile')
      .query(true)
      .reply(code % 2 ? 403 : 200, { result: 'error', code, description });
    expect(await rejectionOf(signIn())).toMatchObject(expected);
  });

  it('from a token refresh', async () => {
    account()
      .post('/oauth2/token')
      .reply(400, prefixed({ error: code, error_description: description }));
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
    account().post('/oauth2/token').reply(200, prefixed(mockTokenAnswer));
    openApi().get('/user/profile').query(true).reply(200, { result: 'error' });
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
        errorDescription: `Xiaomi returned error 12345 (UNKNOWN): ${(error.data as { hint: string }).hint}`,
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

  it('reports a refresh refused with HTTP 400 and no body as SocialAccessTokenInvalid', async () => {
    account().post('/oauth2/token').reply(400, '');
    expect(await rejectionOf(refresh())).toMatchObject({
      code: SocialAccessTokenInvalid,
      data: { status: 400 },
    });
  });

  it('tells the admin to set redirectUri when a refresh without it gets 96002', async () => {
    account()
      .post('/oauth2/token')
      .reply(400, prefixed({ error: 96002, error_description: 'invalid request' }));
    const error = await rejectionOf(refresh(mockConfig));
    expect(error).toMatchObject({
      code: General,
      data: {
        code: 96002,
        hint: 'Set redirectUri in the connector settings to the callback URL registered at Xiaomi: Xiaomi needs it to refresh a token.',
      },
    });
  });

  it('keeps the table’s hint for other errors of a refresh without redirectUri', async () => {
    account()
      .post('/oauth2/token')
      .reply(400, prefixed({ error: 96009, error_description: 'invalid refresh token' }));
    const error = await rejectionOf(refresh(mockConfig));
    expect(error.data).toMatchObject({
      hint: expect.stringContaining('refresh token is invalid'),
    });
  });
});

describe('secrets Xiaomi echoes', () => {
  it('hides the AppSecret in the description and the message of a token error', async () => {
    account()
      .post('/oauth2/token')
      .reply(200, prefixed({ error: 96003, error_description: `bad secret ${mockClientSecret}` }));
    const error = await rejectionOf(signIn());
    expect(error.data).toMatchObject({
      description: 'bad secret [redacted]',
      errorDescription: expect.stringContaining('(OA_INVALID_CLIENT: bad secret [redacted])'),
    });
  });

  it('hides the access token in an open API error, its code included', async () => {
    account().post('/oauth2/token').reply(200, prefixed(mockTokenAnswer));
    openApi()
      .get('/user/profile')
      .query(true)
      .reply(200, { result: 'error', code: `x${mockAccessToken}`, description: mockAccessToken });
    const error = await rejectionOf(signIn());
    expect(error.data).toMatchObject({ code: 'x[redacted]', description: '[redacted]' });
  });
});

describe('a 19-digit App ID', () => {
  it('reaches Xiaomi unchanged in the authorize URL, the token form and the profile query', async () => {
    expect(mockClientId).toBe('2882303761520251711');
    expect(Number.isSafeInteger(Number(mockClientId))).toBe(false);
    const connector = await connectorWith();
    const uri = await connector.getAuthorizationUri(
      mockAuthorizationRequest,
      async () => undefined,
    );
    expect(new URL(uri).searchParams.get('client_id')).toBe(mockClientId);

    const token = account()
      .post('/oauth2/token', (body) => body.client_id === mockClientId)
      .reply(200, prefixed(mockTokenAnswer));
    const profile = openApi()
      .get('/user/profile')
      .query({ clientId: mockClientId, token: mockAccessToken })
      .reply(200, mockProfileAnswer);
    await connector.getUserInfo(callback, async () => ({}));
    expect(token.isDone() && profile.isDone()).toBe(true);
  });
});
