/**
 * The one fixtures module of the tests: Xiaomi's values and answers, the connector made from a
 * config, and its calls as Logto makes them. It imports no stand-in; see docs/development.md.
 */
import type { ConnectorError } from '@logto/connector-kit';
import { authorizationRequest, createConnectorWith } from '../harness/logto-loader.js';
import { isXiaomiError, type XiaomiErrorData } from '../src/errors.js';
import createConnector from '../src/index.js';
import { wrapRefreshToken } from '../src/refresh-token.js';

/** A realistic AppID: longer than JavaScript's safe integers, so it must stay a string. */
export const mockClientId = '2882303761520251711';
export const mockClientSecret = 'mock-app-secret-Qw3rTy';
export const mockAccessToken = 'mock-access-token-V1.abc';
export const mockRefreshToken = 'mock-refresh-token-R1.xyz';
export const mockCode = 'mock-code-C0DE';
export const mockRedirectUri = authorizationRequest.redirectUri;

export const mockConfig = { clientId: mockClientId, clientSecret: mockClientSecret };
export const mockCallback = { code: mockCode, redirectUri: mockRedirectUri };

/** Xiaomi's answer to a code exchange (sent behind `prefixed`). */
export const mockTokenResponse = {
  access_token: mockAccessToken,
  expires_in: 259_200,
  refresh_token: mockRefreshToken,
  scope: '1',
  token_type: 'mac',
  mac_key: 'mock-mac-key',
  mac_algorithm: 'HmacSha1',
  openId: 'mock-open-id',
  union_id: 'mock-union-id',
};

export const mockProfileResponse = {
  result: 'ok',
  code: 0,
  description: 'success',
  data: {
    unionId: 'mock-union-id',
    miliaoNick: 'Lei',
    miliaoIcon: 'https://cdn.cnbj1.fds.api.mi-img.com/user-avatar/mock.jpg',
    miliaoIcon_orig: 'https://cdn.cnbj1.fds.api.mi-img.com/user-avatar/mock_orig.jpg',
  },
};

/** Xiaomi's framing of token endpoint answers. */
export const prefixed = (body: unknown) => `&&&START&&&${JSON.stringify(body)}`;

/** Xiaomi's error as the token endpoint sends it. */
export const oauthError = (error: number | string, description?: string) =>
  prefixed({ error, error_description: description });

/** Xiaomi's error as the open API sends it. */
export const openApiError = (code: number | string, description?: string) => ({
  result: 'error',
  code,
  description,
});

/** The secrets of the fixtures, which no error may carry. */
export const secrets = [mockClientSecret, mockAccessToken, mockRefreshToken];

const noSession = async () => ({});

/** A connector of the source reading `config`, as Logto creates one for a request. */
export const connectorWith = (config: unknown = mockConfig) =>
  createConnectorWith(createConnector, config);

/** Logto's call for the authorize URL, parsed; `request` overrides what Logto passes. */
export const authorize = async (
  config: unknown = mockConfig,
  request: { state?: string; redirectUri?: string; scope?: string } = {},
) => {
  const connector = await connectorWith(config);
  return new URL(
    await connector.getAuthorizationUri(
      { ...authorizationRequest, ...request },
      async () => undefined,
    ),
  );
};

/** Logto's call with the callback's data: the user, as getUserInfo returns it. */
export const signIn = async (data: unknown = mockCallback, config: unknown = mockConfig) =>
  (await connectorWith(config)).getUserInfo(data, noSession);

/** The same call with token storage on: the tokens Logto keeps beside the user. */
export const signInWithTokens = async (
  data: unknown = mockCallback,
  config: unknown = mockConfig,
) => (await connectorWith(config)).getTokenResponseAndUserInfo(data, noSession);

let refreshTokensIssued = 0;
/**
 * A refresh token of Xiaomi's that no other test uses: the connector keeps the answer of a
 * successful refresh for a while, so a test that reused one would get an earlier test's answer.
 */
export const uniqueRefreshToken = () => {
  refreshTokensIssued += 1;
  return `${mockRefreshToken}-${refreshTokensIssued}`;
};

/** A refresh token as this connector gives it to Logto, wrapped with the sign-in's redirect URI. */
export const storedRefreshToken = (refreshToken = uniqueRefreshToken()) =>
  wrapRefreshToken({ refreshToken, redirectUri: mockRedirectUri });

/** Logto's call when a stored access token has expired. */
export const refresh = async (stored = storedRefreshToken(), config: unknown = mockConfig) =>
  (await connectorWith(config)).getAccessTokenByRefreshToken(stored);

/**
 * Awaits a promise that must reject with one of this connector's ConnectorErrors and returns it,
 * after checking that its data is declared (`XiaomiErrorData`), carries the sentence Logto shows
 * (`errorDescription`), and that neither its message nor its data carries a secret of `hidden`.
 */
export const rejectionOf = async (
  promise: Promise<unknown>,
  hidden: readonly string[] = secrets,
): Promise<ConnectorError & { data: XiaomiErrorData }> => {
  const error: unknown = await promise.then(
    () => {
      throw new Error('Expected a rejection, but the promise resolved.');
    },
    (reason: unknown) => reason,
  );
  if (!isXiaomiError(error) || !/\S/.test(error.data.errorDescription)) {
    throw new Error(`Expected a ConnectorError of this connector, got ${String(error)}`);
  }
  const exposed = `${error.message} ${JSON.stringify(error.data)}`;
  for (const secret of hidden) {
    if (exposed.includes(secret)) {
      throw new Error(`A secret leaked into a ConnectorError: ${exposed}`);
    }
  }
  return error;
};
