import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ConnectorConfigFormItemType,
  ConnectorErrorCodes,
  ConnectorPlatform,
  ConnectorType,
} from '@logto/connector-kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { authorizationRequest } from '../harness/logto-loader.js';
import {
  connectorWith,
  mockAccessToken,
  mockCallback,
  mockClientId,
  mockClientSecret,
  mockConfig,
  mockProfileResponse,
  mockRedirectUri,
  mockRefreshToken,
  mockTokenResponse,
  oauthError,
  prefixed,
  refresh,
  rejectionOf,
  secrets,
  signIn,
  signInWithTokens,
  uniqueRefreshToken,
} from '../test/fixtures.js';
import { memoryStore } from '../test/memory-store.js';
import {
  account,
  interceptXiaomi,
  openApi,
  replyProfile,
  replyToken,
} from '../test/xiaomi-nock.js';
import { sharedRefreshTiming } from './constant.js';
import { failureHints } from './errors.js';
import type { SharedStore } from './redis.js';
import { refreshGraceMs, wrapRefreshToken } from './refresh-token.js';
import { refreshShared } from './shared-refresh.js';
import { scopeFormat } from './types.js';

const noSession = async () => undefined;

/** Logto's Redis as this file's tests have it: none, unless a test puts one there. */
const redis = vi.hoisted(() => ({ store: undefined as SharedStore | undefined }));
vi.mock('./redis.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./redis.js')>()),
  sharedStore: async () => redis.store,
}));

interceptXiaomi();

describe('metadata', () => {
  it('matches the official connector so Logto treats it as the same connector', async () => {
    const connector = await connectorWith();
    expect(connector.type).toBe(ConnectorType.Social);
    expect(connector.metadata).toMatchObject({
      id: 'xiaomi-universal',
      target: 'xiaomi',
      platform: ConnectorPlatform.Universal,
      logo: './logo.svg',
      logoDark: null,
      readme: './docs/admin-guide.md',
      isTokenStorageSupported: true,
    });
  });

  it('names Xiaomi in each language of the Console, and describes it in each', async () => {
    const { name, description } = (await connectorWith()).metadata;
    expect(name).toEqual({
      en: 'Xiaomi',
      'zh-CN': '小米',
      'tr-TR': 'Xiaomi',
      ko: '샤오미',
      ja: 'シャオミ',
    });
    expect(description).toEqual({
      en: expect.stringContaining('Xiaomi account'),
      'zh-CN': expect.stringContaining('小米账号'),
      'tr-TR': expect.stringContaining('Xiaomi hesabı'),
      ko: expect.stringContaining('샤오미 계정'),
      ja: expect.stringContaining('Xiaomi アカウント'),
    });
  });

  it('declares the settings of the official connector, masks the secret and explains each', async () => {
    const { formItems } = (await connectorWith()).metadata;
    expect(formItems).toEqual([
      {
        key: 'clientId',
        type: ConnectorConfigFormItemType.Text,
        label: 'Client ID',
        required: true,
        placeholder: '<AppID>',
        description: expect.stringContaining('AppID'),
      },
      {
        key: 'clientSecret',
        type: ConnectorConfigFormItemType.Text,
        label: 'Client Secret',
        required: true,
        isConfidential: true,
        placeholder: '<AppSecret>',
        description: expect.stringContaining('AppSecret'),
      },
      {
        key: 'scope',
        type: ConnectorConfigFormItemType.MultilineText,
        label: 'Scope',
        required: false,
        placeholder: '1',
        description: expect.stringMatching(/separated by spaces.*Scope 1 .* always requested/),
      },
      {
        key: 'skipConfirm',
        type: ConnectorConfigFormItemType.Switch,
        label: 'Skip Xiaomi consent page',
        required: false,
        defaultValue: false,
        description: expect.stringContaining('skip the consent page'),
      },
    ]);
  });

  it('ships the logo and the guide it names', () => {
    const packageFile = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));
    expect(readFileSync(packageFile('logo.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    expect(existsSync(packageFile('docs/admin-guide.md'))).toBe(true);
  });
});

describe('settings', () => {
  it('accepts a config saved by the official connector, and drops its redirectUri', async () => {
    const { configGuard } = await connectorWith();
    const settings = { ...mockConfig, scope: '1 3', skipConfirm: true };
    expect(configGuard.parse({ ...settings, redirectUri: mockRedirectUri })).toStrictEqual(
      settings,
    );
  });

  it.each(['', '  ', '1', ' 1  4\n6 ', '1000 16000', '12 3'])(
    'accepts the scope %j',
    async (scope) => {
      const { configGuard } = await connectorWith();
      expect(configGuard.safeParse({ ...mockConfig, scope }).success).toBe(true);
    },
  );

  it.each(['1,4,6', '1;4', 'profile', '1 x', '-1'])(
    'refuses the scope %j on save, naming the setting with an example',
    async (scope) => {
      const { configGuard } = await connectorWith();
      expect(configGuard.safeParse({ ...mockConfig, scope }).error?.issues).toEqual([
        expect.objectContaining({ path: ['scope'], message: scopeFormat }),
      ]);
    },
  );

  it.each([
    ['no clientSecret', { clientId: mockClientId }, 'clientSecret: Required'],
    ['an empty clientId', { clientId: '', clientSecret: mockClientSecret }, 'clientId: String'],
    [
      'a numeric clientId',
      { clientId: Number(mockClientId), clientSecret: mockClientSecret },
      'clientId: Expected string, received number',
    ],
    ['skipConfirm as text', { ...mockConfig, skipConfirm: 'yes' }, 'skipConfirm: Expected boolean'],
    ['scope with commas', { ...mockConfig, scope: '1,4,6' }, 'scope: The scope setting takes'],
    ['no config at all', null, 'settings: Expected object, received null'],
  ])('refuses %s with InvalidConfig naming the setting', async (_, config, issue) => {
    const connector = await connectorWith(config);
    const error = await rejectionOf(connector.getAuthorizationUri(authorizationRequest, noSession));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.InvalidConfig,
      data: {
        reason: 'invalid_settings',
        hint: failureHints.invalidSettings,
        errorDescription: expect.stringMatching(
          new RegExp(`^The Xiaomi connector settings are invalid \\(.*${issue}.*\\): Correct`),
        ),
      },
    });
  });

  it('lists every setting that is wrong, separated by semicolons', async () => {
    const connector = await connectorWith({ clientId: 7 });
    const error = await rejectionOf(connector.getAuthorizationUri(authorizationRequest, noSession));
    expect(error.data).toMatchObject({
      issues: [
        { path: 'clientId', message: 'Expected string, received number' },
        { path: 'clientSecret', message: 'Required' },
      ],
      errorDescription: expect.stringContaining(
        '(clientId: Expected string, received number; clientSecret: Required)',
      ),
    });
  });
});

describe('getUserInfo', () => {
  it('exchanges the code, reads the profile and returns the unionId as the user id', async () => {
    replyToken(200, prefixed(mockTokenResponse));
    replyProfile(200, mockProfileResponse);
    await expect(signIn()).resolves.toStrictEqual({
      id: 'mock-union-id',
      name: 'Lei',
      avatar: mockProfileResponse.data.miliaoIcon,
      rawData: mockProfileResponse,
    });
  });

  it('keeps sign-ins that run at once apart', async () => {
    const users = ['alice', 'bob'];
    for (const user of users) {
      account()
        .post('/oauth2/token', (body) => body.code === `code-${user}`)
        .delay(user === 'alice' ? 30 : 0)
        .reply(200, prefixed({ access_token: `token-${user}` }));
      openApi()
        .get('/user/profile')
        .query({ clientId: mockClientId, token: `token-${user}` })
        .reply(200, { result: 'ok', data: { unionId: user } });
    }
    const connector = await connectorWith();
    const results = await Promise.all(
      users.map((user) =>
        connector.getUserInfo(
          { code: `code-${user}`, redirectUri: mockRedirectUri },
          async () => ({}),
        ),
      ),
    );
    expect(results.map(({ id }) => id)).toEqual(users);
  });

  it.each([
    ['a one-letter AppSecret', { clientSecret: 's' }, mockAccessToken],
    ['a two-letter AppSecret', { clientSecret: 'ac' }, mockAccessToken],
    [
      'an AppSecret equal to a key of the answer',
      { clientSecret: 'access_token' },
      mockAccessToken,
    ],
    ['a one-letter access token', {}, 'a'],
    ['a two-letter access token', {}, 'da'],
    ['an access token that occurs in the profile', {}, 'mock-union-id'],
  ])('signs in with %s, rawData exactly as Xiaomi sent it', async (_, config, accessToken) => {
    replyToken(200, prefixed({ ...mockTokenResponse, access_token: accessToken }));
    openApi()
      .get('/user/profile')
      .query({ clientId: mockClientId, token: accessToken })
      .reply(200, mockProfileResponse);
    const user = await signIn(mockCallback, { ...mockConfig, ...config });
    expect(user).toMatchObject({ id: 'mock-union-id', name: 'Lei' });
    expect(user.rawData).toStrictEqual(mockProfileResponse);
  });
});

describe('getTokenResponseAndUserInfo', () => {
  it('returns Xiaomi’s tokens, the refresh token wrapped with the redirect URI', async () => {
    account().post('/oauth2/token').times(2).reply(200, prefixed(mockTokenResponse));
    openApi().get('/user/profile').query(true).times(2).reply(200, mockProfileResponse);

    const { tokenResponse, userInfo } = await signInWithTokens();

    expect(tokenResponse).toStrictEqual({
      access_token: mockTokenResponse.access_token,
      refresh_token: wrapRefreshToken({
        refreshToken: mockTokenResponse.refresh_token,
        redirectUri: mockRedirectUri,
      }),
      expires_in: mockTokenResponse.expires_in,
      scope: mockTokenResponse.scope,
      token_type: mockTokenResponse.token_type,
    });
    expect(userInfo).toEqual(await signIn());
  });

  it('leaves a token answer without a refresh token as it is', async () => {
    replyToken(200, prefixed({ access_token: mockAccessToken }));
    replyProfile(200, mockProfileResponse);
    const { tokenResponse } = await signInWithTokens();
    expect(tokenResponse).toStrictEqual({ access_token: mockAccessToken });
  });
});

describe('getAccessTokenByRefreshToken', () => {
  const otherDomain = 'https://auth.example.org/callback/xiaomi-connector';
  const storedFor = (refreshToken: string) =>
    wrapRefreshToken({ refreshToken, redirectUri: otherDomain });
  const refreshed = {
    ...mockTokenResponse,
    access_token: 'new-access',
    refresh_token: 'new-refresh',
  };
  const refreshGrant = (refreshToken: string) => ({
    client_id: mockClientId,
    client_secret: mockClientSecret,
    grant_type: 'refresh_token',
    refresh_token: refreshToken,
    redirect_uri: otherDomain,
  });
  const replyRefresh = (refreshToken: string, answer: object = refreshed) =>
    account().post('/oauth2/token', refreshGrant(refreshToken)).reply(200, prefixed(answer));

  afterEach(() => {
    vi.useRealTimers();
  });

  it('refreshes a wrapped token with its own redirect URI, no setting needed', async () => {
    const refreshToken = uniqueRefreshToken();
    const token = replyRefresh(refreshToken);
    await expect(refresh(storedFor(refreshToken))).resolves.toStrictEqual({
      access_token: 'new-access',
      refresh_token: wrapRefreshToken({ refreshToken: 'new-refresh', redirectUri: otherDomain }),
      expires_in: refreshed.expires_in,
      scope: refreshed.scope,
      token_type: refreshed.token_type,
    });
    expect(token.isDone()).toBe(true);
  });

  it('ignores a redirectUri in the stored settings', async () => {
    const refreshToken = uniqueRefreshToken();
    const token = replyRefresh(refreshToken);
    await refresh(storedFor(refreshToken), { ...mockConfig, redirectUri: mockRedirectUri });
    expect(token.isDone()).toBe(true);
  });

  it('refuses a token it did not wrap at once, and asks Xiaomi nothing', async () => {
    const token = replyToken(200, prefixed(refreshed));
    const error = await rejectionOf(refresh(mockRefreshToken));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.SocialAccessTokenInvalid,
      data: {
        reason: 'redirect_uri_unknown',
        hint: failureHints.refreshTokenNotOurs,
        errorDescription: expect.stringMatching(
          /^This stored Xiaomi token was not stored by this connector and cannot be refreshed: /,
        ),
      },
    });
    expect(token.isDone()).toBe(false);
  });

  it('keeps the wrapped token and Xiaomi’s out of an error', async () => {
    const refreshToken = uniqueRefreshToken();
    const stored = storedFor(refreshToken);
    replyToken(200, oauthError(96009, `no such token ${refreshToken}`));
    const error = await rejectionOf(refresh(stored), [...secrets, refreshToken, stored]);
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.SocialAccessTokenInvalid,
      data: { code: 96009, description: 'no such token [redacted]' },
    });
  });

  describe('for the same token, at once or soon after', () => {
    it('calls Xiaomi once and gives every caller its answer', async () => {
      const refreshToken = uniqueRefreshToken();
      // One answer only: a second request would find no interceptor and fail.
      const token = account()
        .post('/oauth2/token', refreshGrant(refreshToken))
        .delay(50)
        .reply(200, prefixed(refreshed));
      const connector = await connectorWith();
      const answers = await Promise.all(
        [1, 2, 3].map(() => connector.getAccessTokenByRefreshToken(storedFor(refreshToken))),
      );
      expect(token.isDone()).toBe(true);
      expect(answers.map(({ access_token }) => access_token)).toEqual(Array(3).fill('new-access'));
      expect(new Set(answers).size).toBe(1);
    });

    it('gives a caller that comes after the refresh its answer, without asking Xiaomi', async () => {
      const refreshToken = uniqueRefreshToken();
      replyRefresh(refreshToken);
      const connector = await connectorWith();
      const first = await connector.getAccessTokenByRefreshToken(storedFor(refreshToken));
      // No interceptor is left: a second request to Xiaomi would fail.
      await expect(connector.getAccessTokenByRefreshToken(storedFor(refreshToken))).resolves.toBe(
        first,
      );
    });

    it.each([
      ['the grace', refreshed.expires_in, refreshGraceMs],
      ['the new access token’s life when shorter', 3, 3000],
      ['the new access token’s life given as text', '2', 2000],
      ['the grace when Xiaomi gives no life', undefined, refreshGraceMs],
    ])('keeps that answer for %s', async (_, expiresIn, keptMs) => {
      vi.useFakeTimers({ toFake: ['setTimeout'] });
      const refreshToken = uniqueRefreshToken();
      replyRefresh(refreshToken, { ...refreshed, expires_in: expiresIn });
      const connector = await connectorWith();
      const first = await connector.getAccessTokenByRefreshToken(storedFor(refreshToken));
      vi.advanceTimersByTime(keptMs - 1);
      await expect(connector.getAccessTokenByRefreshToken(storedFor(refreshToken))).resolves.toBe(
        first,
      );
      vi.advanceTimersByTime(1);
      const again = replyRefresh(refreshToken, { ...refreshed, access_token: 'again' });
      await expect(
        connector.getAccessTokenByRefreshToken(storedFor(refreshToken)),
      ).resolves.toMatchObject({ access_token: 'again' });
      expect(again.isDone()).toBe(true);
    });

    it('fails every caller with the same error, keeps no failure, and calls Xiaomi again next time', async () => {
      const refreshToken = uniqueRefreshToken();
      account()
        .post('/oauth2/token')
        .delay(50)
        .reply(200, oauthError(96009, 'invalid refresh token'));
      const connector = await connectorWith();
      const errors = await Promise.all(
        [1, 2, 3].map(() =>
          rejectionOf(connector.getAccessTokenByRefreshToken(storedFor(refreshToken))),
        ),
      );
      expect(new Set(errors).size).toBe(1);
      expect(errors[0]).toMatchObject({
        code: ConnectorErrorCodes.SocialAccessTokenInvalid,
        data: { code: 96009 },
      });

      const again = replyRefresh(refreshToken);
      await expect(
        connector.getAccessTokenByRefreshToken(storedFor(refreshToken)),
      ).resolves.toMatchObject({ access_token: 'new-access' });
      expect(again.isDone()).toBe(true);
    });

    it('keeps different tokens apart', async () => {
      const [one, other] = [uniqueRefreshToken(), uniqueRefreshToken()];
      const first = account()
        .post('/oauth2/token', refreshGrant(one))
        .delay(30)
        .reply(200, prefixed(refreshed));
      const second = replyRefresh(other, { ...refreshed, access_token: 'other-access' });
      const connector = await connectorWith();
      const answers = await Promise.all([
        connector.getAccessTokenByRefreshToken(storedFor(one)),
        connector.getAccessTokenByRefreshToken(storedFor(other)),
      ]);
      expect(answers.map(({ access_token }) => access_token)).toEqual([
        'new-access',
        'other-access',
      ]);
      expect(first.isDone() && second.isDone()).toBe(true);
    });

    it('shares the refresh through Logto’s Redis where there is one, with the answer for other processes', async () => {
      const { store, writes } = memoryStore();
      redis.store = store;
      try {
        const refreshToken = uniqueRefreshToken();
        const token = replyRefresh(refreshToken);
        const answer = await refresh(storedFor(refreshToken));
        expect(token.isDone()).toBe(true);
        await vi.waitFor(() =>
          expect(writes.map(({ key }) => key.split(':').at(-1))).toEqual(['claim', 'answer']),
        );
        expect(writes[0]?.ttlMs).toBe(sharedRefreshTiming.claimMs);

        // Another Logto process presenting the spent token gets the same answer from Redis.
        const xiaomi = vi.fn();
        const elsewhere = await refreshShared(
          store,
          { clientId: mockClientId, clientSecret: mockClientSecret, refreshToken },
          xiaomi,
          () => 1000,
          { claimMs: 1000, pollMs: 10, landMs: 100 },
        );
        expect(elsewhere).toEqual(answer);
        expect(xiaomi).not.toHaveBeenCalled();
      } finally {
        redis.store = undefined;
      }
    });

    it('keeps the same token of two Xiaomi apps apart', async () => {
      const refreshToken = uniqueRefreshToken();
      replyRefresh(refreshToken);
      await refresh(storedFor(refreshToken));
      const otherApp = account()
        .post('/oauth2/token', { ...refreshGrant(refreshToken), client_id: 'another-app' })
        .reply(200, prefixed({ ...refreshed, access_token: 'other-app-access' }));
      await expect(
        refresh(storedFor(refreshToken), { ...mockConfig, clientId: 'another-app' }),
      ).resolves.toMatchObject({ access_token: 'other-app-access' });
      expect(otherApp.isDone()).toBe(true);
    });
  });
});
