import { ConnectorErrorCodes } from '@logto/connector-kit';
import nock from 'nock';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  authorize,
  connectorWith,
  mockAccessToken,
  mockCallback,
  mockClientId,
  mockClientSecret,
  mockCode,
  mockConfig,
  mockProfileResponse,
  mockRedirectUri,
  mockTokenResponse,
  oauthError,
  openApiError,
  prefixed,
  refresh,
  rejectionOf,
  signIn,
  storedRefreshToken,
  uniqueRefreshToken,
} from '../test/fixtures.js';
import {
  account,
  interceptXiaomi,
  leftUnsent,
  openApi,
  replyContact,
  replyProfile,
  replyToken,
  type Stumble,
  stumbles,
} from '../test/xiaomi-nock.js';
import { logNotes } from './errors.js';

// A hang ends an attempt after 0.2 s here, not 5 s.
vi.mock('./constant.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./constant.js')>()),
  timeLimits: { attempt: 200, request: 1000 },
}));

interceptXiaomi();

const everyStumble = Object.keys(stumbles) as Stumble[];
const spendingStumbles = everyStumble.filter((stumble) => !leftUnsent(stumble));
/** What the error says of each attempt that met `stumble`. */
const attemptsOf = (stumble: Stumble, count: number) => {
  const met: Record<Stumble, string> = {
    'a 502 gateway page': 'HTTP 502',
    'a 503 gateway page': 'HTTP 503',
    'a 504 gateway page': 'HTTP 504',
    'a reset connection': 'ECONNRESET',
    'a hang': 'timeout',
    'a refused connection': 'ECONNREFUSED',
  };
  return Array(count).fill(met[stumble]);
};
const token = () => account().post('/oauth2/token');
const profile = () => openApi().get('/user/profile').query(true);
const contact = () => openApi().get('/user/phoneAndEmail').query(true);
const contactAnswer = {
  result: 'ok',
  data: { phone: '+8613800138000', email: 'lei@example.com' },
};

describe('the authorize URL', () => {
  it('sends the user to Xiaomi with every parameter Xiaomi reads', async () => {
    const url = await authorize();
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
    const url = await authorize();
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
    const url = await authorize(mockConfig, { state, redirectUri });
    expect(url.searchParams.get('state')).toBe(state);
    expect(url.searchParams.get('redirect_uri')).toBe(redirectUri);
  });
});

describe('the callback', () => {
  it('reports a refusal as AuthorizationFailed and asks Xiaomi nothing', async () => {
    const token = replyToken(200, prefixed(mockTokenResponse));
    const error = await rejectionOf(
      signIn({ error: 'access_denied', error_description: 'user denied', state: 's' }),
    );
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.AuthorizationFailed,
      data: { reason: 'xiaomi_error', code: 'access_denied', description: 'user denied' },
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
      const token = replyToken(200, prefixed(mockTokenResponse));
      const error = await rejectionOf(signIn(data));
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.General,
        data: {
          reason: 'unusable_callback',
          received: held,
          hint: expect.stringContaining('each Redirect URI the Console shows'),
          errorDescription: `Logto passed a callback without Xiaomi’s code or error (it held ${held}): ${error.data.hint}`,
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

describe('the code exchange', () => {
  it('posts the code grant with the callback’s redirect URI', async () => {
    const token = account()
      .post('/oauth2/token', {
        client_id: mockClientId,
        client_secret: mockClientSecret,
        code: mockCode,
        grant_type: 'authorization_code',
        redirect_uri: mockRedirectUri,
      })
      .reply(200, prefixed(mockTokenResponse));
    replyProfile(200, mockProfileResponse);
    await signIn();
    expect(token.isDone()).toBe(true);
  });

  it('needs nothing from the answer but access_token, whatever the other fields hold', async () => {
    replyToken(
      200,
      prefixed({ access_token: mockAccessToken, expires_in: 'soon', scope: null, token_type: 7 }),
    );
    replyProfile(200, mockProfileResponse);
    await expect(signIn()).resolves.toMatchObject({ id: 'mock-union-id' });
  });

  it.each([400, 401, 499])(
    'reports HTTP %i without Xiaomi’s error as SocialAuthCodeInvalid',
    async (status) => {
      replyToken(status, '<html>no</html>');
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.SocialAuthCodeInvalid,
        data: { reason: 'http_status', endpoint: '/oauth2/token', status },
      });
    },
  );

  it.each([
    ['no access_token', { expires_in: 3600 }],
    ['an empty access_token', { access_token: '' }],
    ['a numeric access_token', { access_token: 42 }],
  ])('reports an answer with %s as InvalidResponse', async (_, body) => {
    replyToken(200, prefixed(body));
    const error = await rejectionOf(signIn());
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.InvalidResponse,
      data: { reason: 'unexpected_shape', endpoint: '/oauth2/token' },
    });
  });

  it('reports a socket error as General, never a raw fetch TypeError', async () => {
    account().post('/oauth2/token').replyWithError({ code: 'ECONNRESET', message: 'hang up' });
    const error = await rejectionOf(signIn());
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { reason: 'network', endpoint: '/oauth2/token' },
    });
  });
});

describe('the refresh', () => {
  const refreshed = {
    ...mockTokenResponse,
    access_token: 'new-access',
    refresh_token: 'new-refresh',
  };
  it('posts the refresh grant with the redirect URI of the sign-in', async () => {
    const refreshToken = uniqueRefreshToken();
    const token = account()
      .post('/oauth2/token', {
        client_id: mockClientId,
        client_secret: mockClientSecret,
        grant_type: 'refresh_token',
        refresh_token: refreshToken,
        redirect_uri: mockRedirectUri,
      })
      .reply(200, prefixed(refreshed));
    await expect(refresh(storedRefreshToken(refreshToken))).resolves.toMatchObject({
      access_token: 'new-access',
      expires_in: refreshed.expires_in,
    });
    expect(token.isDone()).toBe(true);
  });

  it('reports HTTP 400 without a body as SocialAccessTokenInvalid', async () => {
    replyToken(400, '');
    expect(await rejectionOf(refresh())).toMatchObject({
      code: ConnectorErrorCodes.SocialAccessTokenInvalid,
      data: { reason: 'http_status', status: 400 },
    });
  });

  it('reports a rejected refresh token as SocialAccessTokenInvalid without the token', async () => {
    const refreshToken = uniqueRefreshToken();
    replyToken(200, oauthError(96009, `invalid ${refreshToken}`));
    const error = await rejectionOf(refresh(storedRefreshToken(refreshToken)));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.SocialAccessTokenInvalid,
      data: { code: 96009, description: 'invalid [redacted]' },
    });
  });
});

describe.each([
  ['the code exchange', 'code', signIn, { id: 'mock-union-id' }],
  ['the refresh', 'refresh token', refresh, { access_token: mockAccessToken }],
])('a stumble on %s', (_, spent, call, outcome) => {
  beforeEach(() => {
    replyProfile(200, mockProfileResponse);
  });

  it(`sends the ${spent} again when the connection never carried it`, async () => {
    stumbles['a refused connection'](token());
    replyToken(200, prefixed(mockTokenResponse));
    await expect(call()).resolves.toMatchObject(outcome);
  });

  it.each(spendingStumbles)(
    `never sends the ${spent} again after %s: Xiaomi may have spent it`,
    async (stumble) => {
      stumbles[stumble](token());
      const again = replyToken(200, prefixed(mockTokenResponse));
      const error = await rejectionOf(call());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.General,
        data: { endpoint: '/oauth2/token', attempts: attemptsOf(stumble, 1) },
      });
      expect(again.isDone()).toBe(false);
    },
  );
});

describe('a stumble on the profile', () => {
  beforeEach(() => {
    replyToken(200, prefixed(mockTokenResponse));
  });

  it.each(everyStumble)('asks again after %s, and the user signs in', async (stumble) => {
    stumbles[stumble](profile());
    replyProfile(200, mockProfileResponse);
    await expect(signIn()).resolves.toMatchObject({ id: 'mock-union-id', name: 'Lei' });
  });

  it.each(everyStumble)(
    'fails the sign-in with General after %s on each of three attempts',
    async (stumble) => {
      stumbles[stumble](profile().times(3));
      const fourth = replyProfile(200, mockProfileResponse);
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.General,
        data: { endpoint: '/user/profile', attempts: attemptsOf(stumble, 3) },
      });
      expect(fourth.isDone()).toBe(false);
    },
  );
});

describe('the profile', () => {
  beforeEach(() => {
    replyToken(200, prefixed(mockTokenResponse));
  });

  it('is asked with the AppID and the access token', async () => {
    const profile = openApi()
      .get('/user/profile')
      .query({ clientId: mockClientId, token: mockAccessToken })
      .reply(200, mockProfileResponse);
    await signIn();
    expect(profile.isDone()).toBe(true);
  });

  it('reports an expired token (96008) as SocialAccessTokenInvalid with Xiaomi’s words', async () => {
    replyProfile(200, openApiError(96008, 'token 已过期'));
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
        data: { reason: 'http_status', endpoint: '/user/profile', status },
      });
    },
  );

  it.each([400, 404, 500, 502])('reports HTTP %i without a body as General', async (status) => {
    profile().times(3).reply(status, '<html>down</html>');
    const error = await rejectionOf(signIn());
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { reason: 'http_status', status },
    });
  });

  it('reports another result "error" as General with Xiaomi’s code and words', async () => {
    replyProfile(200, openApiError(96002, 'bad request'));
    const error = await rejectionOf(signIn());
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { code: 96002, description: 'bad request' },
    });
  });

  it.each([
    ['a blank unionId', { result: 'ok', data: { unionId: ' ' } }, 'unexpected_shape'],
    ['an empty unionId', { result: 'ok', data: { unionId: '' } }, 'unexpected_shape'],
    ['no unionId', { result: 'ok', data: { miliaoNick: 'Lei' } }, 'unexpected_shape'],
    ['no data', { result: 'ok' }, 'unexpected_shape'],
    ['an unknown result', { result: 'maybe', data: { unionId: 'u' } }, 'unexpected_shape'],
    ['an HTML page', '<html>maintenance</html>', 'not_json'],
    ['a truncated body', '{"result":"ok","data":{"unionId":"u', 'not_json'],
  ])('reports %s as InvalidResponse', async (_, body, reason) => {
    replyProfile(200, body);
    const error = await rejectionOf(signIn());
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.InvalidResponse,
      data: { reason, endpoint: '/user/profile' },
    });
  });

  it('signs the user in without name or avatar when Xiaomi gives null or odd values', async () => {
    const answer = {
      ...mockProfileResponse,
      data: { unionId: 'u-1', miliaoNick: null, miliaoIcon: 42 },
    };
    replyProfile(200, answer);
    const user = await signIn();
    expect(user).toMatchObject({ id: 'u-1', rawData: answer });
    expect(user.name).toBeUndefined();
    expect(user.avatar).toBeUndefined();
  });
});

describe('email and phone', () => {
  const grant = (scope?: string) => replyToken(200, prefixed({ ...mockTokenResponse, scope }));

  beforeEach(() => {
    replyProfile(200, mockProfileResponse);
  });

  it('fills email and phone when scopes 4 and 6 were granted, keeping rawData the profile', async () => {
    grant('1 4 6');
    const contact = openApi()
      .get('/user/phoneAndEmail')
      .query({ clientId: mockClientId, token: mockAccessToken })
      .reply(200, { result: 'ok', data: { phone: '+8613800138000', email: 'lei@example.com' } });
    await expect(signIn()).resolves.toMatchObject({
      id: 'mock-union-id',
      email: 'lei@example.com',
      phone: '8613800138000',
      rawData: mockProfileResponse,
    });
    expect(contact.isDone()).toBe(true);
  });

  it('asks in parallel with the profile, not after it', async () => {
    nock.cleanAll();
    grant('1 6');
    let contactAsked = () => {};
    const contactArrived = new Promise<void>((resolve) => {
      contactAsked = resolve;
    });
    // The profile answers only once the contact request has arrived: in sequence, this would hang.
    openApi()
      .get('/user/profile')
      .query(true)
      .reply(async () => {
        await contactArrived;
        return [200, mockProfileResponse];
      });
    openApi()
      .get('/user/phoneAndEmail')
      .query(true)
      .reply(() => {
        contactAsked();
        return [200, { result: 'ok', data: { phone: '', email: 'lei@example.com' } }];
      });
    await expect(signIn()).resolves.toMatchObject({ email: 'lei@example.com' });
  });

  it('falls back to the configured scope when Xiaomi does not echo one', async () => {
    grant(undefined);
    const contact = replyContact(200, { result: 'ok', data: { phone: '', email: '' } });
    const user = await signIn(mockCallback, { ...mockConfig, scope: '1 4' });
    expect(contact.isDone()).toBe(true);
    expect(user).not.toHaveProperty('email', expect.anything());
    expect(user).not.toHaveProperty('phone', expect.anything());
  });

  it('leaves masked values out', async () => {
    grant('1 4 6');
    replyContact(200, { result: 'ok', data: { phone: '138****0000', email: 'l***@example.com' } });
    const user = await signIn();
    expect(user.phone).toBeUndefined();
    expect(user.email).toBeUndefined();
  });

  it('tells Logto’s log once for each kind of refusal, whatever Xiaomi’s words', async () => {
    const warn = vi.spyOn(console, 'warn').mockReturnValue();
    const refusals: [number, string | object][] = [
      [200, openApiError(96099, 'not allowed')],
      [200, openApiError(96099, 'still not allowed')],
      [410, '<html>Gone</html>'],
      [451, '<html>Unavailable</html>'],
    ];
    for (const [status, body] of refusals) {
      grant('1 4 6');
      replyContact(status, body);
      replyProfile(200, mockProfileResponse);
      await signIn();
    }
    expect(warn).toHaveBeenCalledTimes(3);
  });

  it.each([
    ['its own error', 200, openApiError(96005, 'no permission')],
    ['HTTP 404', 404, '<html>Not Found</html>'],
    ['a malformed body', 200, '{"result":"ok","data":'],
  ])(
    'signs the user in without them when Xiaomi answers with %s, and tells Logto’s log once',
    async (_, status, body) => {
      grant('1 4 6');
      const warn = vi.spyOn(console, 'warn').mockReturnValue();
      contact().times(2).reply(status, body);
      replyProfile(200, mockProfileResponse);
      const first = await signIn();
      replyToken(200, prefixed({ ...mockTokenResponse, scope: '1 4 6' }));
      const second = await signIn();

      for (const user of [first, second]) {
        expect(user).toMatchObject({ id: 'mock-union-id', name: 'Lei' });
        expect(user.email).toBeUndefined();
        expect(user.phone).toBeUndefined();
      }
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn.mock.calls[0]?.[0]).toMatch(
        `[connector-xiaomi-plus] ${logNotes.contactRefused.line} Xiaomi`,
      );
    },
  );

  it.each(everyStumble)('asks again after %s, and fills them', async (stumble) => {
    grant('1 4 6');
    stumbles[stumble](contact());
    contact().reply(200, contactAnswer);
    await expect(signIn()).resolves.toMatchObject({
      email: 'lei@example.com',
      phone: '8613800138000',
    });
  });

  it.each(everyStumble)(
    'fails the sign-in after %s on each of three attempts, rather than lose them',
    async (stumble) => {
      grant('1 4 6');
      stumbles[stumble](contact().times(3));
      const error = await rejectionOf(signIn());
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.General,
        data: { endpoint: '/user/phoneAndEmail', attempts: attemptsOf(stumble, 3) },
      });
    },
  );

  it('does not ask without scope 4 or 6', async () => {
    grant('1 3 40');
    const contact = replyContact(200, {});
    await signIn();
    expect(contact.isDone()).toBe(false);
  });
});

describe('a 19-digit App ID', () => {
  it('reaches Xiaomi unchanged in the authorize URL, the token form and the profile query', async () => {
    expect(Number.isSafeInteger(Number(mockClientId))).toBe(false);
    expect((await authorize()).searchParams.get('client_id')).toBe(mockClientId);

    const token = account()
      .post('/oauth2/token', (body) => body.client_id === mockClientId)
      .reply(200, prefixed(mockTokenResponse));
    const profile = openApi()
      .get('/user/profile')
      .query({ clientId: mockClientId, token: mockAccessToken })
      .reply(200, mockProfileResponse);
    await (await connectorWith()).getUserInfo(mockCallback, async () => ({}));
    expect(token.isDone() && profile.isDone()).toBe(true);
  });
});
