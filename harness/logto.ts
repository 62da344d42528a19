/** Loads the built package (lib/), either as Logto does, through `@logto/cli`'s loader, or directly. */
import { fileURLToPath } from 'node:url';
import type { CreateConnector, SocialConnector } from '@logto/connector-kit';
import { withTokenStorage } from '../src/mock.js';

export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

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

/** A connector of the given factory reading `config`, as Logto creates it for a sign-in. */
const instantiate = async (createConnector: CreateConnector<SocialConnector>, config: unknown) =>
  withTokenStorage(await createConnector({ getConfig: async () => config }));

export const createThroughLogto = async (config: unknown) => {
  const factory = await loadFactoryThroughLogto();
  // Logto only loads social factories as social connectors; the cast states what Logto knows.
  return instantiate(factory.createConnector as CreateConnector<SocialConnector>, config);
};

/** The built package imported as it is, without Logto's loader: for `npm run try`'s quick start. */
export const createFromBuild = async (config: unknown) => {
  const { default: createConnector } = (await import(`${packageRoot}lib/index.js`)) as {
    default: CreateConnector<SocialConnector>;
  };
  return instantiate(createConnector, config);
};
