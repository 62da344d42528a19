import {
  ConnectorError,
  ConnectorErrorCodes,
  ConnectorType,
  type CreateConnector,
  type GetAuthorizationUri,
  type GetConnectorConfig,
  type SocialConnector,
  type SocialUserInfo,
  type TokenResponse,
} from '@logto/connector-kit';
import {
  authorizationEndpoint,
  defaultMetadata,
  emailScope,
  phoneAndEmailEndpoint,
  phoneScope,
  profileEndpoint,
  profileScope,
  tokenEndpoint,
} from './constant.js';
import { normalizeEmail, normalizePhone } from './contact.js';
import { type HintOverrides, invalidSettings, unusableCallback, xiaomiError } from './errors.js';
import { type AnswerRules, callXiaomi } from './http.js';
import { onFirstUse } from './lazy.js';
import {
  callbackGuard,
  oauthErrorGuard,
  openApiErrorGuard,
  phoneAndEmailAnswerGuard,
  profileAnswerGuard,
  type TokenAnswer,
  tokenAnswerGuard,
  type XiaomiConfig,
  xiaomiConfigGuard,
} from './types.js';

const loadConfig = async (getConfig: GetConnectorConfig): Promise<XiaomiConfig> => {
  const result = xiaomiConfigGuard.safeParse(await getConfig(defaultMetadata.id));
  if (!result.success) {
    throw invalidSettings(
      result.error.issues.map(({ path, message }) => ({ path: path.join('.'), message })),
    );
  }
  return result.data;
};

/** The ids of a space-separated scope. */
const scopeIds = (scope: string | undefined) => scope?.match(/\S+/g) ?? [];

/** The scope ids of `scope`, once each and in order, with the profile's in front when missing. */
const withProfileScope = (scope: string | undefined) => {
  const ids = new Set(scopeIds(scope));
  return (ids.has(profileScope) ? [...ids] : [profileScope, ...ids]).join(' ');
};

const getAuthorizationUri =
  (getConfig: GetConnectorConfig): GetAuthorizationUri =>
  async ({ state, redirectUri, scope }) => {
    const config = await loadConfig(getConfig);
    // Xiaomi's parameter names are written out: snakecase-keys would cost more than the rest of
    // this call, which Logto makes on every sign-in page view.
    const query = new URLSearchParams({
      client_id: config.clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      state,
      scope: withProfileScope(scope?.trim() || config.scope),
      skip_confirm: String(config.skipConfirm ?? false),
    });

    return `${authorizationEndpoint}?${query.toString()}`;
  };

/** One field of a JSON object, read without zod: a failing parse costs far more than a lookup. */
const fieldOf = (value: unknown, key: string): unknown =>
  typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;

/** Xiaomi's OAuth error, as sent to the callback or by the token endpoint, if there is one. */
const readOauthError = (value: unknown) => {
  if (fieldOf(value, 'error') === undefined) {
    return undefined;
  }
  const failure = oauthErrorGuard.safeParse(value);
  return failure.success
    ? { code: failure.data.error, description: failure.data.error_description }
    : undefined;
};

/** What a callback held, for the admin: its keys, never its values. */
const describeCallback = (data: unknown) => {
  if (typeof data !== 'object' || data === null) {
    return data === null ? 'null' : `a ${typeof data}`;
  }
  const keys = Object.keys(data);
  return keys.length === 0 ? 'no fields' : `only ${keys.slice(0, 10).join(', ')}`;
};

const readCallback = (data: unknown) => {
  const refusal = readOauthError(data);
  if (refusal) {
    throw xiaomiError(refusal);
  }

  const callback = callbackGuard.safeParse(data);
  if (!callback.success) {
    throw unusableCallback(describeCallback(data));
  }

  return callback.data;
};

/** How a token answer's failures read: the code for a bare 4xx, and hints fit for the grant. */
type TokenFailures = { clientErrorCode: ConnectorErrorCodes; hintOverrides?: HintOverrides };

const tokenRules = ({
  clientErrorCode,
  hintOverrides,
}: TokenFailures): AnswerRules<TokenAnswer> => ({
  readError: readOauthError,
  clientErrorCode: () => clientErrorCode,
  guard: tokenAnswerGuard,
  hintOverrides,
});

const openApiRules = <T>(guard: AnswerRules<T>['guard']): AnswerRules<T> => ({
  readError: (body) =>
    fieldOf(body, 'result') === 'error' ? openApiErrorGuard.parse(body) : undefined,
  clientErrorCode: (status) =>
    status === 401 || status === 403
      ? ConnectorErrorCodes.SocialAccessTokenInvalid
      : ConnectorErrorCodes.General,
  guard,
});

const loadSnakecaseKeys = onFirstUse(() => import('snakecase-keys'));

const requestToken = async (
  config: XiaomiConfig,
  grant: Record<string, string>,
  failures: TokenFailures,
) => {
  const { default: snakecaseKeys } = await loadSnakecaseKeys();
  const params = snakecaseKeys({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    ...grant,
  });
  return callXiaomi({ method: 'post', url: tokenEndpoint, params }, tokenRules(failures));
};

const openApiRequest = (url: string, config: XiaomiConfig, accessToken: string) =>
  ({ method: 'get', url, params: { clientId: config.clientId, token: accessToken } }) as const;

const fetchProfile = (config: XiaomiConfig, accessToken: string) =>
  callXiaomi(
    openApiRequest(profileEndpoint, config, accessToken),
    openApiRules(profileAnswerGuard),
  );

/** Xiaomi opens phone and email to few apps, so any failure here leaves them out, never the user. */
const fetchContact = async (
  config: XiaomiConfig,
  accessToken: string,
): Promise<Pick<SocialUserInfo, 'email' | 'phone'>> => {
  try {
    const { data } = await callXiaomi(
      openApiRequest(phoneAndEmailEndpoint, config, accessToken),
      openApiRules(phoneAndEmailAnswerGuard),
    );
    return { email: normalizeEmail(data.email), phone: await normalizePhone(data.phone) };
  } catch (error) {
    if (error instanceof ConnectorError) {
      return {};
    }
    throw error;
  }
};

const grantsContact = (scope: string | undefined) =>
  scopeIds(scope).some((id) => id === phoneScope || id === emailScope);

const signIn = async (getConfig: GetConnectorConfig, data: unknown) => {
  const { code, redirectUri } = readCallback(data);
  const config = await loadConfig(getConfig);
  const token = await requestToken(
    config,
    { grantType: 'authorization_code', code, redirectUri },
    { clientErrorCode: ConnectorErrorCodes.SocialAuthCodeInvalid },
  );
  const [{ profile, rawData }, contact] = await Promise.all([
    fetchProfile(config, token.access_token),
    grantsContact(token.scope ?? config.scope) ? fetchContact(config, token.access_token) : {},
  ]);
  const userInfo: SocialUserInfo = {
    id: profile.data.unionId,
    name: profile.data.miliaoNick,
    avatar: profile.data.miliaoIcon,
    ...contact,
    rawData,
  };

  return { tokenResponse: token satisfies TokenResponse, userInfo };
};

/** Xiaomi wants the registered callback URL on a refresh too, and says only 96002 without it. */
const missingRedirectUri: HintOverrides = new Map([
  [
    '96002',
    'Set redirectUri in the connector settings to the callback URL registered at Xiaomi: Xiaomi needs it to refresh a token.',
  ],
]);

const getAccessTokenByRefreshToken =
  (getConfig: GetConnectorConfig) =>
  async (refreshToken: string): Promise<TokenResponse> => {
    const config = await loadConfig(getConfig);
    const { redirectUri } = config;
    return requestToken(
      config,
      { grantType: 'refresh_token', refreshToken, ...(redirectUri ? { redirectUri } : {}) },
      {
        clientErrorCode: ConnectorErrorCodes.SocialAccessTokenInvalid,
        hintOverrides: redirectUri ? undefined : missingRedirectUri,
      },
    );
  };

const createXiaomiConnector: CreateConnector<SocialConnector> = async ({ getConfig }) => ({
  metadata: defaultMetadata,
  type: ConnectorType.Social,
  configGuard: xiaomiConfigGuard,
  getAuthorizationUri: getAuthorizationUri(getConfig),
  getUserInfo: async (data) => (await signIn(getConfig, data)).userInfo,
  getTokenResponseAndUserInfo: async (data) => signIn(getConfig, data),
  getAccessTokenByRefreshToken: getAccessTokenByRefreshToken(getConfig),
});

export default createXiaomiConnector;
