import { ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it } from 'vitest';
import createConnector from './index.js';
import {
  mockAccessToken,
  mockAuthorizationRequest,
  mockClientId,
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

/** Each row of Xiaomi's error table and the ConnectorError it must become. */
const table = [
  [96001, 'OA_CLIENT_NOT_EXISTS', InvalidConfig],
  [96002, 'OA_INVALID_REQUEST', General],
  [96003, 'OA_INVALID_CLIENT', InvalidConfig],
  [96004, 'OA_INVALID_GRANT', SocialAuthCodeInvalid],
  [96005, 'OA_UNAUTHORIZED_CLIENT', InvalidConfig],
  [96006, 'OA_UNSUPPORTED_GRANT_TYPE', General],
  [96007, 'OA_INVALID_SCOPE', InvalidConfig],
  [96008, 'OA_INVALID_TOKEN', SocialAccessTokenInvalid],
  [96009, 'OA_INVALID_REFRESHTOKEN', SocialAccessTokenInvalid],
  [96010, 'OA_INVALID_REDIRECT_URI', InvalidConfig],
  [96011, 'OA_UNSUPPORTED_RESPONSE_TYPE', General],
  [96012, 'OA_ACCESS_DENIED', AuthorizationFailed],
  [96013, 'OA_INVALID_CODE', SocialAuthCodeInvalid],
  [96099, 'UNKNOWN', General],
] as const;

const description = 'Xiaomi 的说明';
const callback = { code: 'code-1', redirectUri: mockRedirectUri };

const connectorWith = (config: object = mockConfig) =>
  createConnector({ getConfig: async () => config });
const signIn = async (data: unknown = callback) =>
  (await connectorWith()).getUserInfo(data, async () => ({}));
const refresh = async (config: object = mockConfig) => {
  const connector = await connectorWith(config);
  if (!connector.getAccessTokenByRefreshToken) {
    throw new Error('The connector does not refresh tokens.');
  }
  return connector.getAccessTokenByRefreshToken('refresh-1');
};

interceptXiaomi();

describe.each(table)('Xiaomi error %i (%s)', (code, name, connectorCode) => {
  const expected = {
    code: connectorCode,
    data: { code, name, description, hint: expect.stringMatching(/\w/) },
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

  it('reports an open API error without a code as General', async () => {
    account().post('/oauth2/token').reply(200, prefixed(mockTokenAnswer));
    openApi().get('/user/profile').query(true).reply(200, { result: 'error' });
    const error = await rejectionOf(signIn());
    expect(error).toMatchObject({ code: General, data: { name: 'UNKNOWN' } });
    expect(error.data).not.toHaveProperty('code', expect.anything());
  });

  it('reports a refresh refused with HTTP 400 and no body as SocialAccessTokenInvalid', async () => {
    account().post('/oauth2/token').reply(400, '');
    expect(await rejectionOf(refresh())).toMatchObject({
      code: SocialAccessTokenInvalid,
      data: { status: 400 },
    });
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
