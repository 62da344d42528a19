import {
  ConnectorType,
  type CreateConnector,
  type GetAuthorizationUri,
  type GetConnectorConfig,
  type GetUserInfo,
  type SocialConnector,
  type SocialUserInfo,
  type TokenResponse,
} from '@logto/connector-kit';
import { defaultMetadata } from './constant.js';
import { invalidSettingsError, redirectUriUnknownError } from './errors.js';
import { onFirstUse } from './lazy.js';
import {
  refreshGraceMs,
  refreshOnce,
  unwrapRefreshToken,
  wrapRefreshToken,
} from './refresh-token.js';
import { type XiaomiConfig, type XiaomiTokenResponse, xiaomiConfigGuard } from './types.js';
import {
  createAuthorizationUri,
  exchangeCode,
  fetchContact,
  fetchProfile,
  grantsContact,
  readCallback,
  refreshAccessToken,
} from './xiaomi-api.js';

export type { XiaomiErrorData, XiaomiErrorReason } from './errors.js';

const parseConfig = (config: unknown): XiaomiConfig => {
  const result = xiaomiConfigGuard.safeParse(config);
  if (!result.success) {
    throw invalidSettingsError(
      result.error.issues.map(({ path, message }) => ({ path: path.join('.'), message })),
    );
  }
  return result.data;
};

const getAuthorizationUri =
  (getConfig: GetConnectorConfig): GetAuthorizationUri =>
  async (request) =>
    createAuthorizationUri(parseConfig(await getConfig(defaultMetadata.id)), request);

/** Xiaomi's tokens as Logto stores them: the refresh token wrapped with its redirect URI. */
const tokensToStore = (token: XiaomiTokenResponse, redirectUri: string): TokenResponse =>
  token.refresh_token
    ? {
        ...token,
        refresh_token: wrapRefreshToken({ refreshToken: token.refresh_token, redirectUri }),
      }
    : token;

/** Xiaomi's tokens for the callback's code, and the user they belong to. */
const signIn = async (getConfig: GetConnectorConfig, data: unknown) => {
  const { code, redirectUri } = readCallback(data);
  const config = parseConfig(await getConfig(defaultMetadata.id));
  const token = await exchangeCode(config, code, redirectUri);
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

  return { tokenResponse: tokensToStore(token, redirectUri), userInfo };
};

const getUserInfo =
  (getConfig: GetConnectorConfig): GetUserInfo =>
  async (data) =>
    (await signIn(getConfig, data)).userInfo;

/** How long a refreshed response is kept: the grace, never past the new access token's life. */
const keepRefreshedFor = ({ expires_in }: TokenResponse) => {
  const lifetimeMs = Number(expires_in) * 1000;
  return Number.isNaN(lifetimeMs) ? refreshGraceMs : Math.min(refreshGraceMs, lifetimeMs);
};

/** Refreshes are rare; the code that shares them, and node:crypto, load with the first one. */
const loadSharedRefresh = onFirstUse(() => import('./shared-refresh.js'));

/**
 * Refreshes with the redirect URI stored with the token, once per token: within this process,
 * and across every Logto process on Logto's Redis where there is one. A token not of ours is
 * refused.
 */
const getAccessTokenByRefreshToken =
  (getConfig: GetConnectorConfig) =>
  async (storedRefreshToken: string): Promise<TokenResponse> => {
    const config = parseConfig(await getConfig(defaultMetadata.id));
    const grant = unwrapRefreshToken(storedRefreshToken);
    if (!grant) {
      throw redirectUriUnknownError();
    }
    const { refreshToken, redirectUri } = grant;
    const spent = { clientId: config.clientId, clientSecret: config.clientSecret, refreshToken };
    const refreshAtXiaomi = async () =>
      tokensToStore(await refreshAccessToken(config, refreshToken, redirectUri), redirectUri);
    const { tokenId, refreshEverywhere } = await loadSharedRefresh();
    return refreshOnce(
      tokenId(spent),
      () => refreshEverywhere(spent, refreshAtXiaomi, keepRefreshedFor),
      keepRefreshedFor,
    );
  };

const createXiaomiConnector: CreateConnector<SocialConnector> = async ({ getConfig }) => ({
  metadata: defaultMetadata,
  type: ConnectorType.Social,
  configGuard: xiaomiConfigGuard,
  getAuthorizationUri: getAuthorizationUri(getConfig),
  getUserInfo: getUserInfo(getConfig),
  getTokenResponseAndUserInfo: async (data) => signIn(getConfig, data),
  getAccessTokenByRefreshToken: getAccessTokenByRefreshToken(getConfig),
});

export default createXiaomiConnector;
