/** Loads this package the way a Logto instance does, through `@logto/cli`'s connector loader. */
import { fileURLToPath } from 'node:url';
import { loadConnectorFactories } from '@logto/cli/lib/connector/index.js';
import type { SocialConnector } from '@logto/connector-kit';
import { withTokenStorage } from '../src/mock.js';

export const packageRoot = fileURLToPath(new URL('..', import.meta.url));

export const loadFactoryThroughLogto = async () => {
  const [factory] = await loadConnectorFactories(
    [{ path: packageRoot, name: 'connector-xiaomi-plus' }],
    false,
  );
  if (!factory) {
    throw new Error('Logto skipped the connector; is it built (npm run build)?');
  }
  return factory;
};

export const createThroughLogto = async (config: unknown) => {
  const factory = await loadFactoryThroughLogto();
  // Logto only loads social factories as social connectors; the cast states what Logto knows.
  const connector = (await factory.createConnector({
    getConfig: async () => config,
  })) as SocialConnector;
  return withTokenStorage(connector);
};
