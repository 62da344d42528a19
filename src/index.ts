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
  validateConfig,
} from '@logto/connector-kit';
import {
  authorizationEndpoint,
  defaultMetadata,
  defaultScope,
  emailScope,
  phoneAndEmailEndpoint,
  phoneScope,
  profileEndpoint,
  tokenEndpoint,
} from './constant.js';
import { normalizeEmail, normalizePhone } from './contact.js';
import { xiaomiError } from './errors.js';
import { type AnswerRules, callXiaomi } from './http.js';
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
  const config = await getConfig(defaultMetadata.id);
  validateConfig(config, xiaomiConfigGuard);
  return config;
};

const nonBlank = (value: string | undefined) => (value && /\S/.test(value) ? value : undefined);

const configuredScope = (config: XiaomiConfig) => nonBlank(config.scope) ?? defaultScope;

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
      scope: nonBlank(scope) ?? configuredScope(config),
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

const readCallback = (data: unknown) => {
  const refusal = readOauthError(data);
  if (refusal) {
    throw xiaomiError(refusal.code, refusal.description);
  }

  const callback = callbackGuard.safeParse(data);
  if (!callback.success) {
    throw new ConnectorError(ConnectorErrorCodes.General, {
      reason: 'The callback carries neither an error nor a code with its redirectUri.',
    });
  }

  return callback.data;
};

const tokenRules = (clientErrorCode: ConnectorErrorCodes): AnswerRules<TokenAnswer> => ({
  readError: readOauthError,
  clientErrorCode: () => clientErrorCode,
  guard: tokenAnswerGuard,
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

const requestToken = async (
  config: XiaomiConfig,
  grant: Record<string, string>,
  clientErrorCode: ConnectorErrorCodes,
) => {
  // Loaded on first use: it would add about a fifth to the package's import time at Logto's start.
  const { default: snakecaseKeys } = await import('snakecase-keys');
  const params = snakecaseKeys({
    clientId: config.clientId,
    clientSecret: config.clientSecret,
    ...grant,
  });
  return callXiaomi({ method: 'post', url: tokenEndpoint, params }, tokenRules(clientErrorCode));
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

const grantsContact = (scope: string) =>
  scope.split(/\s+/).some((id) => id === phoneScope || id === emailScope);

const signIn = async (getConfig: GetConnectorConfig, data: unknown) => {
  const { code, redirectUri } = readCallback(data);
  const config = await loadConfig(getConfig);
  const token = await requestToken(
    config,
    { grantType: 'authorization_code', code, redirectUri },
    ConnectorErrorCodes.SocialAuthCodeInvalid,
  );
  const grantedScope = token.scope ?? configuredScope(config);
  const [{ profile, rawData }, contact] = await Promise.all([
    fetchProfile(config, token.access_token),
    grantsContact(grantedScope) ? fetchContact(config, token.access_token) : {},
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

const getAccessTokenByRefreshToken =
  (getConfig: GetConnectorConfig) =>
  async (refreshToken: string): Promise<TokenResponse> => {
    const config = await loadConfig(getConfig);
    return requestToken(
      config,
      {
        grantType: 'refresh_token',
        refreshToken,
        ...(config.redirectUri ? { redirectUri: config.redirectUri } : {}),
      },
      ConnectorErrorCodes.SocialAccessTokenInvalid,
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
