/**
 * The heart of `npm run try`: signs in once against a real Xiaomi app from a terminal, with a
 * callback server on 127.0.0.1, and tells the admin what to check when it fails.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConnectorError } from '@logto/connector-kit';
import { mockAuthorizationRequest } from '../src/mock.js';
import { createFromBuild } from './logto.js';
import { redact } from './redact.js';

export type TryOptions = {
  clientId: string;
  clientSecret: string;
  scope?: string;
  skipConfirm?: boolean;
  /** 0 picks a free port. */
  port: number;
  /** How long to wait for the browser to come back. */
  waitMs: number;
};

/** A mistake in how `try` was called: shown as one sentence with the usage, exit code 2. */
export class TryUsageError extends Error {}

const callbackPath = '/callback/xiaomi-universal';

const listenOn = async (server: Server, port: number) => {
  server.listen(port, '127.0.0.1');
  try {
    await once(server, 'listening');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new TryUsageError(
      code === 'EADDRINUSE'
        ? `Port ${port} is already in use; choose another with --port.`
        : `Port ${port} cannot be used (${code}); choose another with --port.`,
    );
  }
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}${callbackPath}`;
};

const dataOf = (error: ConnectorError) =>
  (error.data ?? {}) as { code?: unknown; reason?: unknown; hint?: unknown };

/** What to check, said for someone at this terminal rather than for a Logto admin. */
export const terminalHint = (error: ConnectorError, callbackUrl: string) => {
  const { code, reason, hint } = dataOf(error);
  if (code === 96010) {
    return `Register ${callbackUrl} (the callback URL printed above) in the Xiaomi console.`;
  }
  if (reason === 'network') {
    return 'This machine could not reach Xiaomi: check its network connection, DNS and proxy.';
  }
  if (reason === 'timeout') {
    return 'Xiaomi did not answer this machine in time: check its network connection, then try again.';
  }
  return typeof hint === 'string' ? hint : 'See the error above.';
};

/** A wait for people: `5 minutes`, `1 minute`, `30 seconds`. */
export const describeWait = (ms: number) => {
  const [count, unit] = ms >= 60_000 ? [ms / 60_000, 'minute'] : [ms / 1000, 'second'];
  const rounded = Math.round(count * 10) / 10;
  return `${rounded} ${unit}${rounded === 1 ? '' : 's'}`;
};

export const runTry = async (
  { clientId, clientSecret, scope, skipConfirm, port, waitMs }: TryOptions,
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
  const callbackUrl = await listenOn(server, port);

  try {
    const connector = await createFromBuild({
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
    print(
      `Waiting up to ${describeWait(waitMs)} for Xiaomi to send the browser back; Ctrl-C stops.`,
    );

    const timer = setTimeout(() => deliver({}), waitMs);
    const query = await arrived;
    clearTimeout(timer);
    if (Object.keys(query).length === 0) {
      print(`No callback arrived within ${describeWait(waitMs)}.`);
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
    print(`What to check: ${terminalHint(error, callbackUrl)}`);
    return 1;
  } finally {
    server.closeAllConnections();
    server.close();
  }
};
