/**
 * Typed access to the Logto kit's example client of the Management and Experience APIs
 * (../shared/logto/examples/experience-sign-in.mjs), plus the Account API call it lacks.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { kitDir } from './logto-kit.js';

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

export const loadKitClient = async () =>
  (await import(
    pathToFileURL(join(kitDir, 'examples', 'experience-sign-in.mjs')).href
  )) as KitClient;

/** GET /api/my-account/identities/:target/access-token with the user's own access token. */
export const storedProviderToken = async (endpoint: string, userToken: string, target: string) => {
  const response = await fetch(`${endpoint}/api/my-account/identities/${target}/access-token`, {
    headers: { authorization: `Bearer ${userToken}` },
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};
