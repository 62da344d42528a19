/** Whole sign-ins over real sockets: Logto's loader, the built package and the Xiaomi stand-in. */
import { ConnectorErrorCodes, type SocialConnector } from '@logto/connector-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorizationRequest, createThroughLogto } from '../harness/logto-loader.js';
import { routeXiaomiTo } from '../harness/route-xiaomi.js';
import { authorizeAs } from '../harness/xiaomi-browser.js';
import {
  demoApp,
  type StandInUser,
  seededUsers,
  startXiaomiStandIn,
  type XiaomiStandIn,
} from '../harness/xiaomi-stand-in.js';
import { timeLimits } from '../src/constant.js';
import { unwrapRefreshToken, wrapRefreshToken } from '../src/refresh-token.js';
import { rejectionOf } from './fixtures.js';

const redirectUri = demoApp.redirectUris[0] ?? '';
const manyUsers: StandInUser[] = Array.from({ length: 200 }, (_, index) => ({
  unionId: `u-load-${index}`,
  nickname: `User ${index}`,
  icon: `https://cdn.example.com/avatars/load-${index}.png`,
}));

let standIn: XiaomiStandIn;
let unroute: () => Promise<void>;

/** The built package through Logto's loader, set up for the stand-in's demo app. */
const demoConnector = (config: object = {}) =>
  createThroughLogto({ clientId: demoApp.clientId, clientSecret: demoApp.clientSecret, ...config });

const authorizationUri = (connector: SocialConnector, state = 'state-1', uri = redirectUri) =>
  connector.getAuthorizationUri(
    { ...authorizationRequest, state, redirectUri: uri },
    async () => undefined,
  );

/** Authorizes as `user` and returns what Logto's callback route would hand the connector. */
const callbackFor = async (connector: SocialConnector, user?: string, state = 'state-1') => {
  const { callback } = await authorizeAs(await authorizationUri(connector, state), { user });
  return { ...callback, redirectUri };
};

const noSession = async () => ({});

beforeAll(async () => {
  standIn = await startXiaomiStandIn({ users: [...seededUsers, ...manyUsers] });
  unroute = routeXiaomiTo(standIn.origin);
});

afterAll(async () => {
  await unroute();
  await standIn.close();
});

afterEach(() => {
  standIn.reset();
});

describe('a whole sign-in', () => {
  it('returns the seeded user after the consent page, with email and phone when granted', async () => {
    const connector = await demoConnector({ scope: '1 4 6' });
    const uri = await authorizationUri(connector, 'state ü&1');
    const { callback, steps } = await authorizeAs(uri, { user: 'u-mi-10001' });

    expect(steps.map(({ status }) => status)).toEqual([200, 302]);
    expect(steps[0]?.page).toContain('Approve');
    expect(callback.state).toBe('state ü&1');

    const user = await connector.getUserInfo({ ...callback, redirectUri }, noSession);
    expect(user).toMatchObject({
      id: 'u-mi-10001',
      name: '雷小米',
      avatar: 'https://cdn.example.com/avatars/10001.png',
      email: 'xiaomi.user@example.com',
      phone: '8613800138000',
      rawData: { result: 'ok', data: { unionId: 'u-mi-10001' } },
    });
  });

  it('skips the consent page when skipConfirm is on', async () => {
    const connector = await demoConnector({ skipConfirm: true });
    const { steps, callback } = await authorizeAs(await authorizationUri(connector));
    expect(steps.map(({ status }) => status)).toEqual([302]);
    await expect(
      connector.getUserInfo({ ...callback, redirectUri }, noSession),
    ).resolves.toMatchObject({ id: seededUsers[0]?.unionId });
  });

  it('keeps 200 concurrent sign-ins of different users apart', async () => {
    const connector = await demoConnector({ skipConfirm: true });
    const users = await Promise.all(
      manyUsers.map(async ({ unionId }) =>
        connector.getUserInfo(await callbackFor(connector, unionId), noSession),
      ),
    );
    expect(users.map(({ id }) => id)).toEqual(manyUsers.map(({ unionId }) => unionId));
  });

  it('stores tokens and refreshes them with no setting, each refresh token once', async () => {
    const connector = await demoConnector({ skipConfirm: true });
    const { tokenResponse } = await connector.getTokenResponseAndUserInfo(
      await callbackFor(connector),
      noSession,
    );
    expect(tokenResponse).toMatchObject({ token_type: 'mac', scope: '1' });
    const stored = tokenResponse?.refresh_token ?? '';
    const refreshed = await connector.getAccessTokenByRefreshToken(stored);
    expect(refreshed.access_token).not.toBe(tokenResponse?.access_token);
    const again = await connector.getAccessTokenByRefreshToken(refreshed.refresh_token ?? '');
    expect(again.access_token).not.toBe(refreshed.access_token);

    // Within the grace, the spent token still gets the answer its refresh had.
    await expect(connector.getAccessTokenByRefreshToken(stored)).resolves.toBe(refreshed);
  });

  it('refuses a wrapped token Xiaomi does not know, and a token it did not wrap', async () => {
    const connector = await demoConnector({ skipConfirm: true });
    const unknown = wrapRefreshToken({ refreshToken: 'never-issued', redirectUri });
    const refused = await rejectionOf(connector.getAccessTokenByRefreshToken(unknown), [unknown]);
    expect(refused).toMatchObject({
      code: ConnectorErrorCodes.SocialAccessTokenInvalid,
      data: { code: 96009 },
    });

    const { tokenResponse } = await connector.getTokenResponseAndUserInfo(
      await callbackFor(connector),
      noSession,
    );
    const xiaomis = unwrapRefreshToken(tokenResponse?.refresh_token ?? '')?.refreshToken ?? '';
    const error = await rejectionOf(connector.getAccessTokenByRefreshToken(xiaomis), [xiaomis]);
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.SocialAccessTokenInvalid,
      data: { reason: 'redirect_uri_unknown' },
    });
  });
});

describe('failures over real sockets', () => {
  it('refuses a reused code', async () => {
    const connector = await demoConnector({ skipConfirm: true });
    const callback = await callbackFor(connector);
    await connector.getUserInfo(callback, noSession);
    const error = await rejectionOf(connector.getUserInfo(callback, noSession));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.SocialAuthCodeInvalid,
      data: { code: 96013 },
    });
  });

  it('refuses a redirect URI other than the authorized one', async () => {
    const connector = await demoConnector({ skipConfirm: true });
    const callback = await callbackFor(connector);
    const error = await rejectionOf(
      connector.getUserInfo({ ...callback, redirectUri: `${redirectUri}/other` }, noSession),
    );
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.SocialAuthCodeInvalid,
      data: { code: 96004 },
    });
  });

  it('reports a denial as AuthorizationFailed', async () => {
    const connector = await demoConnector();
    const { callback } = await authorizeAs(await authorizationUri(connector), {
      decision: 'deny',
    });
    const error = await rejectionOf(connector.getUserInfo({ ...callback, redirectUri }, noSession));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.AuthorizationFailed,
      data: { code: 'access_denied' },
    });
  });

  it('reports a scope Xiaomi refuses at authorization as InvalidConfig, state kept', async () => {
    // The settings refuse such a scope on save; a scope Logto passes with the request is not checked.
    const connector = await demoConnector();
    const uri = await connector.getAuthorizationUri(
      { ...authorizationRequest, state: 'state-7', redirectUri, scope: '1 profile' },
      async () => undefined,
    );
    const { callback } = await authorizeAs(uri);
    expect(callback).toMatchObject({ error: '96007', state: 'state-7' });
    const error = await rejectionOf(connector.getUserInfo({ ...callback, redirectUri }, noSession));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.InvalidConfig,
      data: { code: 96007, name: 'OA_INVALID_SCOPE' },
    });
  });

  it('reports an expired access token as SocialAccessTokenInvalid', async () => {
    standIn.knobs.accessTokenTtlSeconds = 0;
    const connector = await demoConnector({ skipConfirm: true });
    const error = await rejectionOf(connector.getUserInfo(await callbackFor(connector), noSession));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.SocialAccessTokenInvalid,
      data: { code: 96008 },
    });
  });

  it.each([
    ['a 5xx', 'serverError', ConnectorErrorCodes.General],
    ['an HTML error page', 'htmlError', ConnectorErrorCodes.InvalidResponse],
  ] as const)('reports %s from Xiaomi', async (_, knob, code) => {
    const connector = await demoConnector({ skipConfirm: true });
    const callback = await callbackFor(connector);
    standIn.knobs[knob] = true;
    expect(await rejectionOf(connector.getUserInfo(callback, noSession))).toMatchObject({ code });
  });

  // The one test that waits out a real time limit: the built package's attempt limit.
  it('gives up on a hanging Xiaomi at the attempt’s time limit', async () => {
    const connector = await demoConnector({ skipConfirm: true });
    const callback = await callbackFor(connector);
    standIn.knobs.hang = true;
    const started = Date.now();
    const error = await rejectionOf(connector.getUserInfo(callback, noSession));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { endpoint: '/oauth2/token', reason: 'timeout' },
    });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(timeLimits.attempt);
    expect(waited).toBeLessThan(timeLimits.request);
  });
});
