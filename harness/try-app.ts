/**
 * The heart of `npm run try`: signs in once against a real Xiaomi app from a terminal, with a
 * callback server on 127.0.0.1, and tells the admin what to check when it fails.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectorError } from '@logto/connector-kit';
import { mockAuthorizationRequest } from '../src/mock.js';
import { createThroughLogto } from './logto.js';
import { redact } from './redact.js';

export type TryOptions = {
  clientId: string;
  clientSecret: string;
  scope?: string;
  skipConfirm?: boolean;
  /** 0 picks a free port. */
  port: number;
  /** How long to wait for the browser to come back. */
  waitMs?: number;
};

const callbackPath = '/callback/xiaomi-universal';

const hintOf = (data: unknown) =>
  data && typeof data === 'object' && 'hint' in data && typeof data.hint === 'string'
    ? data.hint
    : undefined;

export const runTry = async (
  { clientId, clientSecret, scope, skipConfirm, port, waitMs = 5 * 60 * 1000 }: TryOptions,
  print: (line: string) => void = console.log,
): Promise<number> => {
  let deliver: (query: Record<string, string>) => void = () => {};
  const arrived = new Promise<Record<string, string>>((resolve) => {
    deliver = resolve;
  });
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== callbackPath) {
      response.writeHead(404).end();
      return;
    }
    response
      .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
      .end('Xiaomi came back. You can close this tab and read the terminal.');
    deliver(Object.fromEntries(url.searchParams));
  });
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  const callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}${callbackPath}`;

  try {
    const connector = await createThroughLogto({
      clientId,
      clientSecret,
      scope,
      skipConfirm,
      redirectUri: callbackUrl,
    });
    const authorizationUri = await connector.getAuthorizationUri(
      { ...mockAuthorizationRequest, state: `try-${Date.now()}`, redirectUri: callbackUrl },
      async () => undefined,
    );
    print(`Callback URL to register in the Xiaomi console: ${callbackUrl}`);
    print(`Open this URL in a browser and sign in:\n${authorizationUri}`);
    print(
      'If Xiaomi shows error 96010 instead of a consent page, register the callback URL above.',
    );

    const timer = setTimeout(() => deliver({}), waitMs);
    const query = await arrived;
    clearTimeout(timer);
    if (Object.keys(query).length === 0) {
      print('No callback arrived in time.');
      return 1;
    }

    const { userInfo, tokenResponse } = await connector.getTokenResponseAndUserInfo(
      { ...query, redirectUri: callbackUrl },
      async () => ({}),
    );
    print(`Signed in. The user Logto would store:\n${JSON.stringify(userInfo, null, 2)}`);
    print(`Tokens (redacted):\n${JSON.stringify(redact(tokenResponse), null, 2)}`);
    return 0;
  } catch (error) {
    if (!(error instanceof ConnectorError)) {
      throw error;
    }
    print(`Sign-in failed: ConnectorError ${error.code}`);
    print(JSON.stringify(redact(error.data), null, 2));
    print(`What to check: ${hintOf(error.data) ?? 'see the error above.'}`);
    return 1;
  } finally {
    server.closeAllConnections();
    server.close();
  }
};
