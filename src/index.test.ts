import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  ConnectorConfigFormItemType,
  ConnectorErrorCodes,
  ConnectorPlatform,
  ConnectorType,
} from '@logto/connector-kit';
import { beforeEach, describe, expect, it } from 'vitest';
import createConnector from './index.js';
import {
  mockAccessToken,
  mockAuthorizationRequest,
  mockClientId,
  mockClientSecret,
  mockCode,
  mockConfig,
  mockProfileAnswer,
  mockRedirectUri,
  mockTokenAnswer,
  prefixed,
  rejectionOf,
} from './mock.js';
import { account, interceptXiaomi, openApi } from './mock-xiaomi.js';

const connectorWith = (config: unknown = mockConfig) =>
  createConnector({ getConfig: async () => config });

const callback = { code: mockCode, redirectUri: mockRedirectUri };

const replyToken = (status: number, body: string | object) =>
  account().post('/oauth2/token').reply(status, body);

const replyProfile = (status: number, body: string | object) =>
  openApi().get('/user/profile').query(true).reply(status, body);

const noSession = async () => undefined;

const signIn = async (data: unknown = callback, config: unknown = mockConfig) =>
  (await connectorWith(config)).getUserInfo(data, async () => ({}));

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
    const error = await rejectionOf(
      connector.getAuthorizationUri(mockAuthorizationRequest, async () => undefined),
    );
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.InvalidConfig,
      data: {
        hint: 'Fill in clientId and clientSecret with the AppID and AppSecret of the Xiaomi app, as text.',
        errorDescription: expect.stringMatching(
          new RegExp(`^The Xiaomi connector settings are invalid \\(.*${issue}.*\\): Fill in`),
        ),
      },
    });
  });

  it('lists every setting that is wrong, separated by semicolons', async () => {
    const connector = await connectorWith({ clientId: 7 });
    const error = await rejectionOf(
      connector.getAuthorizationUri(mockAuthorizationRequest, noSession),
    );
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

describe('getAuthorizationUri', () => {
  const authorize = async (config: object, request: { state?: string; scope?: string } = {}) => {
    const connector = await connectorWith(config);
    const uri = await connector.getAuthorizationUri(
      { ...mockAuthorizationRequest, ...request },
      async () => undefined,
    );
    return new URL(uri);
  };

  it('sends the user to Xiaomi with every parameter Xiaomi reads', async () => {
    const url = await authorize(mockConfig);
    expect(`${url.origin}${url.pathname}`).toBe('https://account.xiaomi.com/oauth2/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: mockClientId,
      redirect_uri: mockRedirectUri,
      response_type: 'code',
      state: 'state-1',
      scope: '1',
      skip_confirm: 'false',
    });
  });

  it('puts nothing secret in the URL', async () => {
    const url = await authorize(mockConfig);
    expect(url.href).not.toContain(mockClientSecret);
  });

  it.each([
    ['the request scope first', { scope: '1 3' }, { scope: '1 6' }, '1 6'],
    ['the configured scope next', { scope: '1 3' }, {}, '1 3'],
    ['the configured scope when the request’s is blank', { scope: '1 3' }, { scope: ' ' }, '1 3'],
    ['scope 1 when none is set', {}, {}, '1'],
    ['scope 1 when the configured one is blank', { scope: '  ' }, {}, '1'],
    ['scope 1 in front of a configured scope without it', { scope: '3' }, {}, '1 3'],
    ['scope 1 in front of a requested scope without it', {}, { scope: '6 4' }, '1 6 4'],
    ['the given order when 1 is there', { scope: '3 1 6' }, {}, '3 1 6'],
    ['each id once, spaces tidied', { scope: '  3  3\t6 1 6 ' }, {}, '3 6 1'],
  ])('uses %s', async (_, config, request, expected) => {
    const url = await authorize({ ...mockConfig, ...config }, request);
    expect(url.searchParams.get('scope')).toBe(expected);
  });

  it('asks Xiaomi to skip its consent page when configured', async () => {
    const url = await authorize({ ...mockConfig, skipConfirm: true });
    expect(url.searchParams.get('skip_confirm')).toBe('true');
  });

  it('round-trips state and redirect URI whatever characters they hold', async () => {
    const state = 'a b&c=d/é?#%+中';
    const redirectUri = 'https://logto.example.com/callback/x?tenant=a&b=é #';
    const connector = await connectorWith();
    const uri = await connector.getAuthorizationUri(
      { ...mockAuthorizationRequest, state, redirectUri },
      async () => undefined,
    );
    const url = new URL(uri);
    expect(url.searchParams.get('state')).toBe(state);
    expect(url.searchParams.get('redirect_uri')).toBe(redirectUri);
  });
});

describe('getUserInfo', () => {
  it('exchanges the code, reads the profile and returns the unionId as the user id', async () => {
    const token = account()
      .post('/oauth2/token', {
        client_id: mockClientId,
        client_secret: mockClientSecret,
        code: mockCode,
        grant_type: 'authorization_code',
        redirect_uri: mockRedirectUri,
      })
      .reply(200, prefixed(mockTokenAnswer));
    const profile = openApi()
      .get('/user/profile')
      .query({ clientId: mockClientId, token: mockAccessToken })
      .reply(200, mockProfileAnswer);

    await expect(signIn()).resolves.toStrictEqual({
      id: 'mock-union-id',
      name: 'Lei',
      avatar: mockProfileAnswer.data.miliaoIcon,
      rawData: mockProfileAnswer,
    });
    expect(token.isDone() && profile.isDone()).toBe(true);
  });

  it('accepts a token answer without the prefix', async () => {
    replyToken(200, mockTokenAnswer);
    replyProfile(200, mockProfileAnswer);
    await expect(signIn()).resolves.toMatchObject({ id: 'mock-union-id' });
  });

  it('needs nothing from the token answer but access_token, whatever the other fields hold', async () => {
    replyToken(
      200,
      prefixed({ access_token: mockAccessToken, expires_in: 'soon', scope: null, token_type: 7 }),
    );
    replyProfile(200, mockProfileAnswer);
    await expect(signIn()).resolves.toMatchObject({ id: 'mock-union-id' });
  });

  it('signs the user in without name or avatar when Xiaomi gives null or odd values', async () => {
    const answer = {
      ...mockProfileAnswer,
      data: { unionId: 'u-1', miliaoNick: null, miliaoIcon: 42 },
    };
    replyToken(200, prefixed(mockTokenAnswer));
    replyProfile(200, answer);
    const user = await signIn();
    expect(user).toMatchObject({ id: 'u-1', rawData: answer });
    expect(user.name).toBeUndefined();
    expect(user.avatar).toBeUndefined();
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
    const tokenAnswer = { ...mockTokenAnswer, access_token: accessToken };
    replyToken(200, prefixed(tokenAnswer));
    openApi()
      .get('/user/profile')
      .query({ clientId: mockClientId, token: accessToken })
      .reply(200, mockProfileAnswer);
    const user = await signIn(callback, { ...mockConfig, ...config });
    expect(user).toMatchObject({ id: 'mock-union-id', name: 'Lei' });
    expect(user.rawData).toStrictEqual(mockProfileAnswer);
  });

  describe('callback', () => {
    it('reports a refusal as AuthorizationFailed and asks Xiaomi nothing', async () => {
      const token = replyToken(200, prefixed(mockTokenAnswer));
      const error = await rejectionOf(
        signIn({ error: 'access_denied', error_description: 'user denied', state: 's' }),
      );
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.AuthorizationFailed,
        data: { code: 'access_denied', description: 'user denied' },
      });
      expect(token.isDone()).toBe(false);
    });

    it.each([
      ['an empty object', {}, 'no fields'],
      ['no code', { redirectUri: mockRedirectUri, state: 's' }, 'only redirectUri, state'],
      ['no redirectUri', { code: mockCode }, 'only code'],
      ['an empty code', { code: '', redirectUri: mockRedirectUri }, 'only code, redirectUri'],
      ['a numeric code', { code: 123, redirectUri: mockRedirectUri }, 'only code, redirectUri'],
      ['null', null, 'null'],
      ['a string', 'code=abc', 'a string'],
    ])(
      'refuses %s with General, says what it held and asks Xiaomi nothing',
      async (_, data, held) => {
        const token = replyToken(200, prefixed(mockTokenAnswer));
        const error = await rejectionOf(signIn(data));
        expect(error).toMatchObject({
          code: ConnectorErrorCodes.General,
          data: {
            received: held,
            hint: expect.stringContaining('/callback/<connector id>'),
            errorDescription: `Logto passed a callback without Xiaomi’s code or error (it held ${held}): ${
              (error.data as { hint: string }).hint
            }`,
          },
        });
        expect(token.isDone()).toBe(false);
      },
    );

    it('names at most ten fields of a crowded callback, never their values', async () => {
      const crowded = Object.fromEntries(
        Array.from({ length: 12 }, (_, index) => [`f${index}`, `value-${index}`]),
      );
      const error = await rejectionOf(signIn(crowded));
      expect(error.data).toMatchObject({ received: 'only f0, f1, f2, f3, f4, f5, f6, f7, f8, f9' });
      expect(JSON.stringify(error.data)).not.toContain('value-');
    });
  });

  describe('token exchange failures', () => {
    const refused = 'Xiaomi refused the request without saying why; try signing in again.';
    const serverError = 'Xiaomi had a server error; try again later.';

    it.each([
      ['HTTP 400 without a body', 400, '', ConnectorErrorCodes.SocialAuthCodeInvalid, refused],
      [
        'HTTP 401 with an HTML page',
        401,
        '<html>no</html>',
        ConnectorErrorCodes.SocialAuthCodeInvalid,
        refused,
      ],
      ['HTTP 499', 499, '', ConnectorErrorCodes.SocialAuthCodeInvalid, refused],
      ['HTTP 500', 500, '<html>oops</html>', ConnectorErrorCodes.General, serverError],
      [
        'HTTP 503 with JSON',
        503,
        prefixed({ message: 'busy' }),
        ConnectorErrorCodes.General,
        serverError,
      ],
    ])('maps %s', async (_, status, body, code, hint) => {
      replyToken(status, body);
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code,
        data: {
          endpoint: '/oauth2/token',
          status,
          hint,
          errorDescription: `Xiaomi answered account.xiaomi.com/oauth2/token with HTTP ${status} and no error of its own: ${hint}`,
        },
      });
    });

    it.each([
      ['an HTML error page', '<!DOCTYPE html><html><body>502</body></html>'],
      ['a truncated body', '&&&START&&&{"access_token":"abc","expi'],
      ['the prefix alone', '&&&START&&&'],
      ['an empty body', ''],
    ])('reports %s with HTTP 200 as InvalidResponse', async (_, body) => {
      replyToken(200, body);
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.InvalidResponse,
        data: {
          endpoint: '/oauth2/token',
          reason: 'the body is not JSON',
          hint: 'Xiaomi may be having trouble; try again later, and report it if it persists.',
          errorDescription:
            'Xiaomi’s answer from account.xiaomi.com/oauth2/token could not be read (the body is not JSON): Xiaomi may be having trouble; try again later, and report it if it persists.',
        },
      });
    });

    it.each([
      ['no access_token', { expires_in: 3600 }],
      ['an empty access_token', { access_token: '' }],
      ['a numeric access_token', { access_token: 42 }],
      ['a JSON array', [mockTokenAnswer]],
    ])('reports a token answer with %s as InvalidResponse', async (_, body) => {
      replyToken(200, prefixed(body));
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.InvalidResponse,
        data: { reason: 'the body lacks the expected fields' },
      });
    });

    it('reports a socket error as General, never a raw fetch TypeError', async () => {
      account()
        .post('/oauth2/token')
        .replyWithError({ code: 'ECONNRESET', message: 'socket hang up' });
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.General,
        data: { endpoint: '/oauth2/token', reason: 'network' },
      });
    });
  });

  describe('profile failures', () => {
    beforeEach(() => {
      replyToken(200, prefixed(mockTokenAnswer));
    });

    it('reports an expired token (96008) as SocialAccessTokenInvalid with Xiaomi’s words', async () => {
      replyProfile(200, { result: 'error', code: 96008, description: 'token 已过期' });
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.SocialAccessTokenInvalid,
        data: { code: 96008, name: 'OA_INVALID_TOKEN', description: 'token 已过期' },
      });
    });

    it.each([401, 403])(
      'reports HTTP %i without a body as SocialAccessTokenInvalid',
      async (status) => {
        replyProfile(status, '');
        const error = await rejectionOf(signIn());
        expect(error).toMatchObject({
          code: ConnectorErrorCodes.SocialAccessTokenInvalid,
          data: { endpoint: '/user/profile', status },
        });
      },
    );

    it('reports another result "error" as General with Xiaomi’s code and words', async () => {
      replyProfile(200, { result: 'error', code: 96002, description: 'bad request' });
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.General,
        data: { code: 96002, description: 'bad request' },
      });
    });

    it.each([
      ['a blank unionId', { result: 'ok', data: { unionId: ' ' } }],
      ['an empty unionId', { result: 'ok', data: { unionId: '' } }],
      ['no unionId', { result: 'ok', data: { miliaoNick: 'Lei' } }],
      ['no data', { result: 'ok' }],
      ['an unknown result', { result: 'maybe', data: { unionId: 'u' } }],
      ['an HTML page', '<html>maintenance</html>'],
      ['a truncated body', '{"result":"ok","data":{"unionId":"u'],
    ])('reports %s as InvalidResponse', async (_, body) => {
      replyProfile(200, body);
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.InvalidResponse,
        data: { endpoint: '/user/profile' },
      });
    });

    it.each([404, 500, 502])('reports HTTP %i as General', async (status) => {
      replyProfile(status, '<html>down</html>');
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({ code: ConnectorErrorCodes.General, data: { status } });
    });

    it('reports a socket error as General', async () => {
      openApi().get('/user/profile').query(true).replyWithError('connect ECONNREFUSED');
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.General,
        data: { endpoint: '/user/profile', reason: 'network' },
      });
    });
  });
});
