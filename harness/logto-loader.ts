/**
 * Plays Logto's part around the connector in one process: loads the built package (lib/), either
 * through Logto's own loader (`@logto/cli`) or directly, and creates connectors the way Logto
 * does for a request.
 */
import { fileURLToPath } from 'node:url';
import type { CreateConnector, SocialConnector } from '@logto/connector-kit';

export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** What Logto passes to getAuthorizationUri; callers replace the state and redirect URI. */
export const authorizationRequest = {
  state: 'state-1',
  redirectUri: 'https://logto.example.com/callback/xiaomi-connector',
  connectorId: 'connector-id',
  connectorFactoryId: 'xiaomi-universal',
  jti: 'jti-1',
  headers: {},
};

export const loadFactoryThroughLogto = async () => {
  // Loaded on demand: Logto's CLI takes over half a second to import.
  const { loadConnectorFactories } = await import('@logto/cli/lib/connector/index.js');
  const [factory] = await loadConnectorFactories(
    [{ path: packageRoot, name: 'connector-xiaomi-plus' }],
    false,
  );
  if (!factory) {
    throw new Error('Logto skipped the connector; is it built (npm run build)?');
  }
  return factory;
};

/**
 * A connector of `factory` reading `config`, as Logto creates one for a request, with its token
 * storage methods checked to be there.
 */
export const createConnectorWith = async (
  factory: CreateConnector<SocialConnector>,
  config: unknown,
) => {
  const connector = await factory({ getConfig: async () => config });
  const { getTokenResponseAndUserInfo, getAccessTokenByRefreshToken } = connector;
  if (!getTokenResponseAndUserInfo || !getAccessTokenByRefreshToken) {
    throw new Error('The connector does not support token storage.');
  }
  return { ...connector, getTokenResponseAndUserInfo, getAccessTokenByRefreshToken };
};

export type LoadedConnector = Awaited<ReturnType<typeof createConnectorWith>>;

export const createThroughLogto = async (config: unknown) => {
  const factory = await loadFactoryThroughLogto();
  // Logto only loads social factories as social connectors; the cast states what Logto knows.
  return createConnectorWith(factory.createConnector as CreateConnector<SocialConnector>, config);
};

/** The built package imported as it is, without Logto's loader: for `npm run try`'s quick start. */
export const createFromBuild = async (config: unknown) => {
  const { default: factory } = (await import(`${packageRoot}lib/index.js`)) as {
    default: CreateConnector<SocialConnector>;
  };
  return createConnectorWith(factory, config);
};
