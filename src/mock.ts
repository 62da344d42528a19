import { ConnectorError, type SocialConnector } from '@logto/connector-kit';

/** A realistic AppID: longer than JavaScript's safe integers, so it must stay a string. */
export const mockClientId = '2882303761520251711';
export const mockClientSecret = 'mock-app-secret-Qw3rTy';
export const mockAccessToken = 'mock-access-token-V1.abc';
export const mockRefreshToken = 'mock-refresh-token-R1.xyz';
export const mockCode = 'mock-code-C0DE';
export const mockRedirectUri = 'https://logto.example.com/callback/xiaomi-connector';

export const mockConfig = { clientId: mockClientId, clientSecret: mockClientSecret };

export const mockTokenAnswer = {
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

export const mockProfileAnswer = {
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

export const secrets = [mockClientSecret, mockAccessToken, mockRefreshToken];

/**
 * Awaits a promise that must reject with a ConnectorError and returns that error, after checking
 * that it carries the sentence Logto shows (`errorDescription`) and that neither its message nor
 * its data carries a secret.
 */
export const rejectionOf = async (promise: Promise<unknown>): Promise<ConnectorError> => {
  const error: unknown = await promise.then(
    () => {
      throw new Error('Expected a rejection, but the promise resolved.');
    },
    (reason: unknown) => reason,
  );
  if (!(error instanceof ConnectorError)) {
    throw new Error(`Expected a ConnectorError, got ${String(error)}`);
  }
  const { errorDescription } = (error.data ?? {}) as { errorDescription?: unknown };
  if (typeof errorDescription !== 'string' || !/\S/.test(errorDescription)) {
    throw new Error(`The ConnectorError has no errorDescription: ${JSON.stringify(error.data)}`);
  }
  const exposed = `${error.message} ${JSON.stringify(error.data)}`;
  for (const secret of secrets) {
    if (exposed.includes(secret)) {
      throw new Error(`A secret leaked into a ConnectorError: ${exposed}`);
    }
  }
  return error;
};

/** What Logto passes to getAuthorizationUri. */
export const mockAuthorizationRequest = {
  state: 'state-1',
  redirectUri: mockRedirectUri,
  connectorId: 'connector-id',
  connectorFactoryId: 'xiaomi-universal',
  jti: 'jti-1',
  headers: {},
};

/** Narrows a connector to one whose token storage methods are present, failing the test if not. */
export const withTokenStorage = (connector: SocialConnector) => {
  const { getTokenResponseAndUserInfo, getAccessTokenByRefreshToken } = connector;
  if (!getTokenResponseAndUserInfo || !getAccessTokenByRefreshToken) {
    throw new Error('The connector does not support token storage.');
  }
  return { ...connector, getTokenResponseAndUserInfo, getAccessTokenByRefreshToken };
};
