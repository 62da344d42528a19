import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConnectorType } from '@logto/connector-kit';
import { describe, expect, it } from 'vitest';
import {
  authorizationRequest,
  createThroughLogto,
  loadFactoryThroughLogto,
  packageRoot,
} from '../harness/logto-loader.js';

describe('loading through Logto’s own connector loader', () => {
  it('accepts the built package and reads its logo and the admin guide', async () => {
    const factory = await loadFactoryThroughLogto();
    expect(factory.type).toBe(ConnectorType.Social);
    expect(factory.metadata.id).toBe('xiaomi-universal');
    const logo = readFileSync(join(packageRoot, 'logo.svg')).toString('base64');
    expect(factory.metadata.logo).toBe(`data:image/svg+xml;base64,${logo}`);
    expect(factory.metadata.readme).toBe(
      readFileSync(join(packageRoot, 'docs/admin-guide.md'), 'utf8'),
    );
    expect(factory.configGuard.safeParse({ clientId: '1', clientSecret: 's' }).success).toBe(true);
  });

  it('drives the loaded connector', async () => {
    const connector = await createThroughLogto({
      clientId: '2882303761520251711',
      clientSecret: 's',
    });
    const uri = await connector.getAuthorizationUri(authorizationRequest, async () => undefined);
    expect(new URL(uri).searchParams.get('client_id')).toBe('2882303761520251711');
  });
});
