/**
 * A running Logto, driven as an app and an admin would: typed access to the Logto kit's example
 * client of the Management and Experience APIs (../shared/logto/examples/experience-sign-in.mjs),
 * the Account API calls it lacks, and the setup of the Xiaomi connector with an app that signs in.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'vitest';
import { kitDir, type RunningLogto } from './logto-server.js';
import { authorizeAs } from './xiaomi-browser.js';

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
    options: { type: 'SPA'; name: string },
  ) => Promise<{ id: string }>;
  Session: new (endpoint: string) => Session;
  startAuthorization: (
    session: Session,
    options: { clientId: string; scope: string },
  ) => Promise<Authorization>;
  verifySocial: (
    session: Session,
    options: { connectorId: string; followProvider: ProviderStep },
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

/** Xiaomi's part of a sign-in, as the user's browser goes through it; checks the state. */
export const atXiaomi =
  (user: string, decision: 'approve' | 'deny' = 'approve'): ProviderStep =>
  async ({ authorizationUri, state, redirectUri }) => {
    const { callback } = await authorizeAs(authorizationUri, { user, decision });
    const { state: returned, ...query } = callback;
    expect(returned).toBe(state);
    return { redirectUri, ...query };
  };

/**
 * A Logto tenant set up for Xiaomi sign-in, as an admin does it with the Management API: the
 * connector created with `config` (token storage on), offered on the sign-in page, the Account
 * Center on, and an SPA app whose users sign in with it.
 */
export const setUpXiaomiSignIn = async (logto: RunningLogto, config: Record<string, unknown>) => {
  const token = await kit.getManagementToken({
    adminEndpoint: logto.adminEndpoint,
    appId: logto.m2mAppId,
    secret: logto.m2mSecret,
  });
  const api = kit.managementApi({ endpoint: logto.endpoint, token });
  const { id: connectorId, target } = await api<{ id: string; target: string }>(
    'POST',
    '/connectors',
    { connectorId: 'xiaomi-universal', config, enableTokenStorage: true },
  );
  await kit.enableSocialSignIn(api, { target });
  await api('PATCH', '/account-center', { enabled: true });
  const { id: appId } = await kit.createApp(api, { type: 'SPA', name: 'xiaomi-e2e' });

  /** One whole sign-in of an app user through the Experience API; resolves to the Logto user. */
  const signIn = async (provider: ProviderStep) => {
    const session = new kit.Session(logto.endpoint);
    const authorization = await kit.startAuthorization(session, {
      clientId: appId,
      scope: 'openid profile identities',
    });
    const verificationId = await kit.verifySocial(session, {
      connectorId,
      followProvider: provider,
    });
    const { redirectTo, registered } = await kit.identifyAndSubmit(session, { verificationId });
    const tokens = await kit.finishAuthorization(session, { ...authorization, redirectTo });
    return { sub: kit.decodeJwt(tokens.id_token).sub, registered, tokens };
  };

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

  const setConnectorConfig = (changed: Record<string, unknown>) =>
    api('PATCH', `/connectors/${connectorId}`, { config: changed });

  return {
    api,
    connectorId,
    signIn,
    failedSignIn,
    xiaomiIdentity,
    storedXiaomiToken,
    setConnectorConfig,
  };
};

export type XiaomiSignIn = Awaited<ReturnType<typeof setUpXiaomiSignIn>>;
