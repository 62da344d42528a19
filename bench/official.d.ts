declare module '@logto/connector-xiaomi' {
  import type { CreateConnector, SocialConnector } from '@logto/connector-kit';

  const createConnector: CreateConnector<SocialConnector>;
  export default createConnector;
}
