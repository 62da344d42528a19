import { ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it } from 'vitest';
import createConnector from './index.js';
import {
  mockClientId,
  mockClientSecret,
  mockConfig,
  mockProfileAnswer,
  mockRedirectUri,
  mockRefreshToken,
  mockTokenAnswer,
  prefixed,
  rejectionOf,
  withTokenStorage,
} from './mock.js';
import { account, interceptXiaomi, openApi } from './mock-xiaomi.js';

const connectorWith = async (config: object = mockConfig) =>
  withTokenStorage(await createConnector({ getConfig: async () => config }));

interceptXiaomi();

describe('getTokenResponseAndUserInfo', () => {
  it('returns Xiaomi’s tokens as given beside the same user info as getUserInfo', async () => {
    account().post('/oauth2/token').times(2).reply(200, prefixed(mockTokenAnswer));
    openApi().get('/user/profile').query(true).times(2).reply(200, mockProfileAnswer);
    const connector = await connectorWith();
    const callback = { code: 'code-1', redirectUri: mockRedirectUri };

    const { tokenResponse, userInfo } = await connector.getTokenResponseAndUserInfo(
      callback,
      async () => ({}),
    );

    expect(tokenResponse).toStrictEqual({
      access_token: mockTokenAnswer.access_token,
      refresh_token: mockTokenAnswer.refresh_token,
      expires_in: mockTokenAnswer.expires_in,
      scope: mockTokenAnswer.scope,
      token_type: mockTokenAnswer.token_type,
    });
    expect(userInfo).toEqual(await connector.getUserInfo(callback, async () => ({})));
  });
});

describe('getAccessTokenByRefreshToken', () => {
  const refreshed = {
    ...mockTokenAnswer,
    access_token: 'new-access',
    refresh_token: 'new-refresh',
  };

  it('posts the refresh grant with the configured callback URL', async () => {
    const scope = account()
      .post('/oauth2/token', {
        client_id: mockClientId,
        client_secret: mockClientSecret,
        grant_type: 'refresh_token',
        refresh_token: mockRefreshToken,
        redirect_uri: mockRedirectUri,
      })
      .reply(200, prefixed(refreshed));
    const connector = await connectorWith({ ...mockConfig, redirectUri: mockRedirectUri });

    await expect(connector.getAccessTokenByRefreshToken(mockRefreshToken)).resolves.toMatchObject({
      access_token: 'new-access',
      refresh_token: 'new-refresh',
      expires_in: refreshed.expires_in,
    });
    expect(scope.isDone()).toBe(true);
  });

  it('leaves redirect_uri out when none is configured', async () => {
    const scope = account()
      .post(
        '/oauth2/token',
        (body) => !('redirect_uri' in body) && body.grant_type === 'refresh_token',
      )
      .reply(200, prefixed(refreshed));
    const connector = await connectorWith();
    await connector.getAccessTokenByRefreshToken(mockRefreshToken);
    expect(scope.isDone()).toBe(true);
  });

  it('reports a rejected refresh token as SocialAccessTokenInvalid without the token', async () => {
    account()
      .post('/oauth2/token')
      .reply(200, prefixed({ error: 96009, error_description: `invalid ${mockRefreshToken}` }));
    const connector = await connectorWith();
    const error = await rejectionOf(connector.getAccessTokenByRefreshToken(mockRefreshToken));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.SocialAccessTokenInvalid,
      data: { code: 96009, description: 'invalid [redacted]' },
    });
  });
});
