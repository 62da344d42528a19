/**
 * A running Logto, driven as an app and an admin would: typed access to the Logto kit's example
 * client of the Management and Experience APIs (../shared/logto/examples/experience-sign-in.mjs),
 * the Account API calls it lacks, and the setup of the Xiaomi connector with an app that signs in.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { kitDir, type RunningLogto } from './logto-server.js';
import { authorizeAs } from './xiaomi-browser.js';
import { demoApp, type XiaomiStandIn } from './xiaomi-stand-in.js';

export type ManagementApi = <T = unknown>(
  method: string,
  path: string,
  body?: unknown,
) => Promise<T>;

export type Session = {
  endpoint: string;
  experience: (
    method: string,
    path: string,
    body?: unknown,
  ) => Promise<{ status: number; body: unknown }>;
};

export type ProviderStep = (context: {
  authorizationUri: string;
  state: string;
  redirectUri: string;
}) => Promise<Record<string, string>>;

type Authorization = { verifier: string; redirectUri: string; clientId: string };

/** An error of the Experience API as the kit's client throws it. */
export type ExperienceFailure = Error & { status?: number; body?: unknown };

export type OidcTokens = { access_token: string; id_token: string };

type KitClient = {
  getManagementToken: (options: {
    adminEndpoint: string;
    appId: string;
    secret: string;
  }) => Promise<string>;
  managementApi: (options: { endpoint: string; token: string }) => ManagementApi;
  enableSocialSignIn: (api: ManagementApi, options: { target: string }) => Promise<unknown>;
  createApp: (
    api: ManagementApi,
    options: { type: 'SPA'; name: string; redirectUri?: string },
  ) => Promise<{ id: string }>;
  Session: new (endpoint: string) => Session;
  startAuthorization: (
    session: Session,
    options: { clientId: string; scope: string },
  ) => Promise<Authorization>;
  verifySocial: (
    session: Session,
    options: { connectorId: string; followProvider: ProviderStep; redirectUri?: string },
  ) => Promise<string>;
  identifyAndSubmit: (
    session: Session,
    options: { verificationId: string },
  ) => Promise<{ redirectTo: string; registered: boolean }>;
  finishAuthorization: (
    session: Session,
    options: Authorization & { redirectTo: string },
  ) => Promise<OidcTokens>;
  decodeJwt: (jwt: string) => { sub: string };
  defaults: { socialRedirectUri: string };
};

export const kit = (await import(
  pathToFileURL(join(kitDir, 'examples', 'experience-sign-in.mjs')).href
)) as KitClient;

/** The settings the tests' admin fills in: no redirectUri, which stored tokens no longer need. */
export const connectorConfig = {
  clientId: demoApp.clientId,
  clientSecret: 'logto-e2e-app-secret',
  scope: '1 4 6',
};

/** The Xiaomi app of those settings, for the stand-in; its callback URLs come once Logto has them. */
export const xiaomiAppOfConfig = () => ({
  clientId: connectorConfig.clientId,
  clientSecret: connectorConfig.clientSecret,
  redirectUris: [] as string[],
});

/** Xiaomi's part of a sign-in, as the user's browser goes through it; checks the state. */
export const atXiaomi =
  (user: string, decision: 'approve' | 'deny' = 'approve'): ProviderStep =>
  async ({ authorizationUri, state, redirectUri }) => {
    const { callback } = await authorizeAs(authorizationUri, { user, decision });
    const { state: returned, ...query } = callback;
    expect(returned).toBe(state);
    return { redirectUri, ...query };
  };

/** An Experience API call that must answer one of `statuses`; its body. */
const expectExperience = async (
  session: Session,
  [method, path, body]: [string, string, unknown?],
  ...statuses: number[]
) => {
  const answer = await session.experience(method, path, body);
  if (!statuses.includes(answer.status)) {
    throw Object.assign(
      new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`),
      answer,
    );
  }
  return answer.body as Record<string, unknown> | undefined;
};

/**
 * A Logto tenant set up for Xiaomi sign-in, as an admin does it with the Management API: the
 * connector created with `config` (token storage on, unless `tokenStorage` is false), offered on the sign-in page beside
 * username and password, the Account Center on with social linking, and an SPA app whose users
 * sign in with it. Sign-ins come back to `<endpoint>/callback/<connector id>`, as on Logto's
 * own sign-in page.
 */
export const setUpXiaomiSignIn = async (
  logto: RunningLogto,
  config: Record<string, unknown>,
  { tokenStorage = true } = {},
) => {
  const token = await kit.getManagementToken({
    adminEndpoint: logto.adminEndpoint,
    appId: logto.m2mAppId,
    secret: logto.m2mSecret,
  });
  const api = kit.managementApi({ endpoint: logto.endpoint, token });
  const { id: connectorId, target } = await api<{ id: string; target: string }>(
    'POST',
    '/connectors',
    { connectorId: 'xiaomi-universal', config, enableTokenStorage: tokenStorage },
  );
  await kit.enableSocialSignIn(api, { target });
  await api('PATCH', '/account-center', { enabled: true, fields: { social: 'Edit' } });
  const { id: appId } = await kit.createApp(api, { type: 'SPA', name: 'xiaomi-e2e' });
  const signInCallback = `${logto.endpoint}/callback/${connectorId}`;

  /** Logto's 500 says only "Internal server error."; its cause is in core's log. */
  const explainServerError = (error: ExperienceFailure): never => {
    if (error.status === 500) {
      const log = readFileSync(logto.coreLog, 'utf8').split('\n');
      error.message += `\ncore log:\n${log
        .filter((line) => /error/i.test(line))
        .slice(-5)
        .join('\n')}`;
    }
    throw error;
  };

  /** An app's sign-in through the Experience API, `identify` choosing the user; its tokens. */
  const signInWith = async (
    identify: (session: Session) => Promise<{ redirectTo: string; registered: boolean }>,
  ) => {
    const session = new kit.Session(logto.endpoint);
    const authorization = await kit.startAuthorization(session, {
      clientId: appId,
      scope: 'openid profile identities',
    });
    const { redirectTo, registered } = await identify(session).catch(explainServerError);
    const tokens = await kit.finishAuthorization(session, { ...authorization, redirectTo });
    return { sub: kit.decodeJwt(tokens.id_token).sub, registered, tokens };
  };

  const verifyXiaomi = (session: Session, provider: ProviderStep) =>
    kit.verifySocial(session, {
      connectorId,
      followProvider: provider,
      redirectUri: signInCallback,
    });

  /** One whole Xiaomi sign-in of an app user; registers the user when new. */
  const signIn = (provider: ProviderStep) =>
    signInWith(async (session) =>
      kit.identifyAndSubmit(session, { verificationId: await verifyXiaomi(session, provider) }),
    );

  /**
   * A Xiaomi sign-in of someone Logto knows by the verified email or phone Xiaomi gave, not by
   * Xiaomi: Logto answers 404 naming the related user, and the page links Xiaomi to that user.
   */
  const signInLinkingRelatedUser = (provider: ProviderStep) =>
    signInWith(async (session) => {
      const verificationId = await verifyXiaomi(session, provider);
      const unknown = await expectExperience(
        session,
        ['POST', '/identification', { verificationId }],
        404,
      );
      expect(unknown).toMatchObject({
        code: 'user.identity_not_exist',
        data: { relatedUser: expect.anything() },
      });
      await expectExperience(
        session,
        ['POST', '/identification', { verificationId, linkSocialIdentity: true }],
        204,
      );
      const submitted = await expectExperience(session, ['POST', '/submit'], 200);
      return { redirectTo: String(submitted?.redirectTo), registered: false };
    });

  /** A sign-in with username and password. */
  const signInWithPassword = (username: string, password: string) =>
    signInWith(async (session) => {
      await expectExperience(session, ['PUT', '', { interactionEvent: 'SignIn' }], 204);
      const verified = await expectExperience(
        session,
        [
          'POST',
          '/verification/password',
          { identifier: { type: 'username', value: username }, password },
        ],
        200,
      );
      await expectExperience(
        session,
        ['POST', '/identification', { verificationId: verified?.verificationId }],
        204,
      );
      const submitted = await expectExperience(session, ['POST', '/submit'], 200);
      return { redirectTo: String(submitted?.redirectTo), registered: false };
    });

  /** A sign-in that must fail at verification; resolves to Logto's answer. */
  const failedSignIn = async (provider: ProviderStep) => {
    const failure: ExperienceFailure = await signIn(provider).then(
      () => {
        throw new Error('The sign-in succeeded.');
      },
      (error: ExperienceFailure) => error,
    );
    if (failure.status === undefined) {
      throw failure;
    }
    return { status: failure.status, body: failure.body as Record<string, unknown> };
  };

  const xiaomiIdentity = async (sub: string) => {
    const user = await api<{ identities: Record<string, unknown> }>('GET', `/users/${sub}`);
    return user.identities.xiaomi as { userId: string; details: Record<string, unknown> };
  };

  /** A call of the Account API or the verification API with the user's own access token. */
  const asUser = async (
    userToken: string,
    [method, path, body]: [string, string, unknown?],
    headers: Record<string, string> = {},
  ) => {
    const response = await fetch(`${logto.endpoint}/api${path}`, {
      method,
      headers: {
        authorization: `Bearer ${userToken}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) {
      throw new Error(`${method} ${path}: ${response.status} ${text}`);
    }
    return (text ? JSON.parse(text) : undefined) as Record<string, string> | undefined;
  };

  /**
   * What the Account Center does when a signed-in user links Xiaomi: proves the user with their
   * password, verifies Xiaomi with `redirectUri`, and adds the identity.
   */
  const linkXiaomi = async (
    userToken: string,
    password: string,
    provider: ProviderStep,
    redirectUri: string,
  ) => {
    const identity = await asUser(userToken, ['POST', '/verifications/password', { password }]);
    const state = randomUUID();
    const social = await asUser(userToken, [
      'POST',
      '/verifications/social',
      { connectorId, redirectUri, state },
    ]);
    const connectorData = await provider({
      authorizationUri: String(social?.authorizationUri),
      state,
      redirectUri,
    });
    await asUser(userToken, [
      'POST',
      '/verifications/social/verify',
      { verificationRecordId: social?.verificationRecordId, connectorData },
    ]);
    await asUser(
      userToken,
      [
        'POST',
        '/my-account/identities',
        { newIdentifierVerificationRecordId: social?.verificationRecordId },
      ],
      { 'logto-verification-id': String(identity?.verificationRecordId) },
    );
  };

  /** GET /api/my-account/identities/xiaomi/access-token with the user's own access token. */
  const storedXiaomiToken = async (userToken: string) => {
    const response = await fetch(
      `${logto.endpoint}/api/my-account/identities/xiaomi/access-token`,
      {
        headers: { authorization: `Bearer ${userToken}` },
      },
    );
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  /** `count` reads of the stored token, one every `everyMs`, as an app's users would make them. */
  const storedXiaomiTokens = (userToken: string, count: number, everyMs = 0) =>
    Promise.all(
      Array.from({ length: count }, async (_, index) => {
        await sleep(index * everyMs);
        return storedXiaomiToken(userToken);
      }),
    );

  const setConnectorConfig = (changed: Record<string, unknown>) =>
    api('PATCH', `/connectors/${connectorId}`, { config: changed });

  return {
    api,
    connectorId,
    signInCallback,
    signIn,
    signInLinkingRelatedUser,
    signInWithPassword,
    linkXiaomi,
    failedSignIn,
    xiaomiIdentity,
    storedXiaomiToken,
    storedXiaomiTokens,
    setConnectorConfig,
  };
};

export type XiaomiSignIn = Awaited<ReturnType<typeof setUpXiaomiSignIn>>;

/**
 * The Logto access token of `user`, signed in with Xiaomi access tokens that live `seconds`,
 * once the stored one has expired. The stand-in goes on issuing such tokens until it is reset.
 */
export const signInWithExpiredXiaomiToken = async (
  tenant: XiaomiSignIn,
  standIn: XiaomiStandIn,
  user: string,
  seconds: number,
) => {
  standIn.knobs.accessTokenTtlSeconds = seconds;
  const { tokens } = await tenant.signIn(atXiaomi(user));
  await sleep(seconds * 1000 + 500);
  return tokens.access_token;
};
