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
import { invalidSettings } from './errors.js';
import { type XiaomiConfig, xiaomiConfigGuard } from './types.js';
import {
  authorizationUri,
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
    throw invalidSettings(
      result.error.issues.map(({ path, message }) => ({ path: path.join('.'), message })),
    );
  }
  return result.data;
};

const getAuthorizationUri =
  (getConfig: GetConnectorConfig): GetAuthorizationUri =>
  async (request) =>
    authorizationUri(parseConfig(await getConfig(defaultMetadata.id)), request);

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

  return { tokenResponse: token satisfies TokenResponse, userInfo };
};

const getUserInfo =
  (getConfig: GetConnectorConfig): GetUserInfo =>
  async (data) =>
    (await signIn(getConfig, data)).userInfo;

const getAccessTokenByRefreshToken =
  (getConfig: GetConnectorConfig) =>
  async (refreshToken: string): Promise<TokenResponse> => {
    const config = parseConfig(await getConfig(defaultMetadata.id));
    return refreshAccessToken(config, refreshToken, config.redirectUri);
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
