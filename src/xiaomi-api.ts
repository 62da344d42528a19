/**
 * Xiaomi's account API as the connector uses it: the authorize URL, the callback, the token
 * endpoint (code and refresh grants) and the open API (profile, phone and email).
 */
import { ConnectorErrorCodes, type SocialUserInfo } from '@logto/connector-kit';
import {
  authorizationEndpoint,
  emailScope,
  phoneAndEmailEndpoint,
  phoneScope,
  profileEndpoint,
  profileScope,
  tokenEndpoint,
} from './constant.js';
import { normalizeEmail, normalizePhone } from './contact.js';
import {
  isXiaomiError,
  logNotes,
  unusableCallbackError,
  type XiaomiErrorData,
  type XiaomiFailure,
  xiaomiError,
} from './errors.js';
import { callXiaomi, isPassingFailure, type ResponseReading } from './http.js';
import {
  callbackGuard,
  oauthErrorGuard,
  openApiErrorGuard,
  phoneAndEmailResponseGuard,
  profileResponseGuard,
  tokenResponseGuard,
  type XiaomiConfig,
} from './types.js';

/** The ids of a space-separated scope. */
const scopeIds = (scope: string | undefined) => scope?.match(/\S+/g) ?? [];

/** The scope ids of `scope`, once each and in order, with the profile's in front when missing. */
const withProfileScope = (scope: string | undefined) => {
  const ids = new Set(scopeIds(scope));
  return (ids.has(profileScope) ? [...ids] : [profileScope, ...ids]).join(' ');
};

/**
 * The scope last sent and what it was made from. Nearly every sign-in page view asks with the
 * same configured scope, so this saves normalising it again on a path Logto takes for each view.
 */
let lastScope = { given: '', sent: profileScope };

const resolveScope = (scope: string | undefined = '') => {
  if (scope !== lastScope.given) {
    lastScope = { given: scope, sent: withProfileScope(scope) };
  }
  return lastScope.sent;
};

export const grantsContact = (scope: string | undefined) =>
  scopeIds(scope).some((id) => id === phoneScope || id === emailScope);

export type AuthorizationRequest = { state: string; redirectUri: string; scope?: string };

export const createAuthorizationUri = (
  config: XiaomiConfig,
  { state, redirectUri, scope }: AuthorizationRequest,
) => {
  const query = new URLSearchParams({
    client_id: config.clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    state,
    scope: resolveScope(scope?.trim() || config.scope),
    skip_confirm: String(config.skipConfirm ?? false),
  });
  return `${authorizationEndpoint}?${query.toString()}`;
};

/** One field of a JSON object, read without zod: a failing parse costs far more than a lookup. */
const fieldOf = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

/** Xiaomi's OAuth error, as sent to the callback or by the token endpoint, if there is one. */
const readOauthError = (value: unknown): XiaomiFailure | undefined => {
  if (fieldOf(value, 'error') === undefined) {
    return undefined;
  }
  const failure = oauthErrorGuard.safeParse(value);
  return failure.success
    ? { code: failure.data.error, description: failure.data.error_description }
    : undefined;
};

/** Xiaomi's open API error (`result: "error"`), if there is one. */
const readOpenApiError = (value: unknown): XiaomiFailure | undefined => {
  if (fieldOf(value, 'result') !== 'error') {
    return undefined;
  }
  return openApiErrorGuard.safeParse(value).data;
};

/** What a callback held, for the admin: its keys, never its values. */
const describeCallback = (data: unknown) => {
  if (typeof data !== 'object' || data === null) {
    return data === null ? 'null' : `a ${typeof data}`;
  }
  const keys = Object.keys(data);
  return keys.length === 0 ? 'no fields' : `only ${keys.slice(0, 10).join(', ')}`;
};

/** Xiaomi's code and the redirect URI it was sent to, or the refusal Xiaomi sent instead. */
export const readCallback = (data: unknown) => {
  const refusal = readOauthError(data);
  if (refusal) {
    throw xiaomiError(refusal);
  }

  const callback = callbackGuard.safeParse(data);
  if (!callback.success) {
    throw unusableCallbackError(describeCallback(data));
  }

  return callback.data;
};

const requestToken = (params: Record<string, string>, refusedCode: ConnectorErrorCodes) =>
  callXiaomi(
    { method: 'post', url: tokenEndpoint, params },
    { readError: readOauthError, refusedCode: () => refusedCode, guard: tokenResponseGuard },
  );

export const exchangeCode = (config: XiaomiConfig, code: string, redirectUri: string) =>
  requestToken(
    {
      client_id: config.clientId,
      client_secret: config.clientSecret,
      grant_type: 'authorization_code',
      code,
      redirect_uri: redirectUri,
    },
    ConnectorErrorCodes.SocialAuthCodeInvalid,
  );

/** Xiaomi wants the redirect URI of the sign-in again on a refresh, and says only 96002 without it. */
export const refreshAccessToken = (
  config: XiaomiConfig,
  refreshToken: string,
  redirectUri: string,
) =>
  requestToken(
    {
      client_id: config.clientId,
      client_secret: config.clientSecret,
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      redirect_uri: redirectUri,
    },
    ConnectorErrorCodes.SocialAccessTokenInvalid,
  );

/** An open API refusal of the token itself is 401 or 403; any other refusal is General. */
const openApiRefusedCode = (status: number) =>
  status === 401 || status === 403
    ? ConnectorErrorCodes.SocialAccessTokenInvalid
    : ConnectorErrorCodes.General;

const openApiRequest = <T>(
  url: string,
  config: XiaomiConfig,
  accessToken: string,
  guard: ResponseReading<T>['guard'],
) =>
  callXiaomi(
    { method: 'get', url, params: { clientId: config.clientId, token: accessToken } },
    { readError: readOpenApiError, refusedCode: openApiRefusedCode, guard },
  );

export const fetchProfile = (config: XiaomiConfig, accessToken: string) =>
  openApiRequest(profileEndpoint, config, accessToken, profileResponseGuard);

/**
 * Xiaomi's refusals of phone and email already told to the admin: by Xiaomi's code, the HTTP
 * status or the reason, never Xiaomi's words, which may differ each time.
 */
const toldRefusals = new Set<string>();

/** Tells the admin once per process and kind of refusal, in Logto's log. */
const tellRefusalOnce = (data: XiaomiErrorData) => {
  const kind =
    data.reason === 'xiaomi_error'
      ? `${data.code}`
      : data.reason === 'http_status'
        ? `${data.status}`
        : data.reason;
  if (!toldRefusals.has(kind)) {
    toldRefusals.add(kind);
    console.warn(
      `[connector-xiaomi-plus] ${logNotes.contactRefused.line} ${data.errorDescription}`,
    );
  }
};

/**
 * Phone and email, when Xiaomi gives them. A failure that asking again could cure (a network
 * failure, a timeout, a passing HTTP status) and that outlasted every attempt fails the sign-in:
 * signed in without them, a user would miss the account Logto links by phone or email, for good
 * where Logto syncs profiles only at sign-up; a moment later the sign-in goes through whole.
 * Xiaomi opens phone and email to few apps, so its refusal (its own error, another status, an
 * response without them) leaves them out, never the user, and is told to the admin.
 */
export const fetchContact = async (
  config: XiaomiConfig,
  accessToken: string,
): Promise<Pick<SocialUserInfo, 'email' | 'phone'>> => {
  try {
    const { data } = await openApiRequest(
      phoneAndEmailEndpoint,
      config,
      accessToken,
      phoneAndEmailResponseGuard,
    );
    return { email: normalizeEmail(data.email), phone: await normalizePhone(data.phone) };
  } catch (error) {
    if (!isXiaomiError(error) || isPassingFailure(error.data)) {
      throw error;
    }
    tellRefusalOnce(error.data);
    return {};
  }
};
