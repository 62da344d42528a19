import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ConnectorConfigFormItemType,
  ConnectorErrorCodes,
  ConnectorPlatform,
  ConnectorType,
} from '@logto/connector-kit';
import { describe, expect, it } from 'vitest';
import { authorizationRequest } from '../harness/logto-loader.js';
import {
  connectorWith,
  mockAccessToken,
  mockCallback,
  mockClientId,
  mockClientSecret,
  mockConfig,
  mockProfileAnswer,
  mockRedirectUri,
  mockTokenAnswer,
  prefixed,
  rejectionOf,
  signIn,
  signInWithTokens,
} from '../test/fixtures.js';
import {
  account,
  interceptXiaomi,
  openApi,
  replyProfile,
  replyToken,
} from '../test/xiaomi-nock.js';

const noSession = async () => undefined;

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
      {
        key: 'redirectUri',
        type: ConnectorConfigFormItemType.Text,
        label: 'Callback URL for token refresh',
        required: false,
        placeholder: 'https://your.logto.endpoint/callback/<connector-id>',
        description: expect.stringMatching(/token storage.*refreshing a token/),
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
  it('accepts a config saved by the official connector, redirectUri included', async () => {
    const { configGuard } = await connectorWith();
    const saved = { ...mockConfig, scope: '1 3', skipConfirm: true, redirectUri: mockRedirectUri };
    expect(configGuard.parse(saved)).toEqual(saved);
  });

  it.each([
    ['no clientSecret', { clientId: mockClientId }, 'clientSecret: Required'],
    ['an empty clientId', { clientId: '', clientSecret: mockClientSecret }, 'clientId: String'],
    [
      'a numeric clientId',
      { clientId: Number(mockClientId), clientSecret: mockClientSecret },
      'clientId: Expected string, received number',
    ],
    ['skipConfirm as text', { ...mockConfig, skipConfirm: 'yes' }, 'skipConfirm: Expected boolean'],
    ['no config at all', null, 'settings: Expected object, received null'],
  ])('refuses %s with InvalidConfig naming the setting', async (_, config, issue) => {
    const connector = await connectorWith(config);
    const error = await rejectionOf(connector.getAuthorizationUri(authorizationRequest, noSession));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.InvalidConfig,
      data: {
        reason: 'invalid_settings',
        hint: 'Fill in clientId and clientSecret with the AppID and AppSecret of the Xiaomi app, as text.',
        errorDescription: expect.stringMatching(
          new RegExp(`^The Xiaomi connector settings are invalid \\(.*${issue}.*\\): Fill in`),
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
    replyToken(200, prefixed(mockTokenAnswer));
    replyProfile(200, mockProfileAnswer);
    await expect(signIn()).resolves.toStrictEqual({
      id: 'mock-union-id',
      name: 'Lei',
      avatar: mockProfileAnswer.data.miliaoIcon,
      rawData: mockProfileAnswer,
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
    replyToken(200, prefixed({ ...mockTokenAnswer, access_token: accessToken }));
    openApi()
      .get('/user/profile')
      .query({ clientId: mockClientId, token: accessToken })
      .reply(200, mockProfileAnswer);
    const user = await signIn(mockCallback, { ...mockConfig, ...config });
    expect(user).toMatchObject({ id: 'mock-union-id', name: 'Lei' });
    expect(user.rawData).toStrictEqual(mockProfileAnswer);
  });
});

describe('getTokenResponseAndUserInfo', () => {
  it('returns Xiaomi’s tokens as given beside the same user info as getUserInfo', async () => {
    account().post('/oauth2/token').times(2).reply(200, prefixed(mockTokenAnswer));
    openApi().get('/user/profile').query(true).times(2).reply(200, mockProfileAnswer);

    const { tokenResponse, userInfo } = await signInWithTokens();

    expect(tokenResponse).toStrictEqual({
      access_token: mockTokenAnswer.access_token,
      refresh_token: mockTokenAnswer.refresh_token,
      expires_in: mockTokenAnswer.expires_in,
      scope: mockTokenAnswer.scope,
      token_type: mockTokenAnswer.token_type,
    });
    expect(userInfo).toEqual(await signIn());
  });
});
