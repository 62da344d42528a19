/**
 * The heart of `npm run try`: signs in once against a real Xiaomi app from a terminal, with a
 * callback server on 127.0.0.1, and tells the admin what to check when it fails.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorizationRequest, createFromBuild } from '../../harness/logto-loader.js';
import { isXiaomiError, type XiaomiErrorData } from '../../src/errors.js';
import { redactSecretFields } from '../../src/secrets.js';
import { type TryOptions, TryUsageError } from './options.js';

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

/** What to check, said for someone at this terminal rather than for a Logto admin. */
export const terminalHint = (data: XiaomiErrorData, callbackUrl: string) => {
  if (data.reason === 'xiaomi_error' && data.code === 96010) {
    return `Register ${callbackUrl} (the callback URL printed above) in the Xiaomi console.`;
  }
  if (data.reason === 'network') {
    return 'This machine could not reach Xiaomi: check its network connection, DNS and proxy.';
  }
  if (data.reason === 'timeout') {
    return 'Xiaomi did not answer this machine in time: check its network connection, then try again.';
  }
  return data.hint;
};

/** A wait for people: `5 minutes`, `1 minute`, `30 seconds`. */
export const describeWait = (ms: number) => {
  const [count, unit] = ms >= 60_000 ? [ms / 60_000, 'minute'] : [ms / 1000, 'second'];
  const rounded = Math.round(count * 10) / 10;
  return `${rounded} ${unit}${rounded === 1 ? '' : 's'}`;
};

/** Serves the callback URL once and resolves to Xiaomi's query, or to nothing after `waitMs`. */
const awaitCallback = (server: Server, waitMs: number) =>
  new Promise<Record<string, string> | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), waitMs);
    server.on('request', (request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== callbackPath) {
        response.writeHead(404).end();
        return;
      }
      response
        .writeHead(200, { 'content-type': 'text/plain; charset=utf-8' })
        .end('Xiaomi came back. You can close this tab and read the terminal.');
      clearTimeout(timer);
      resolve(Object.fromEntries(url.searchParams));
    });
  });

export const runTry = async (
  {
    clientId,
    clientSecret,
    scope,
    skipConfirm,
    port,
    waitMs,
  }: TryOptions & { clientSecret: string },
  print: (line: string) => void = console.log,
): Promise<number> => {
  const server = createServer();
  const callbackUrl = await listenOn(server, port);

  try {
    const connector = await createFromBuild({
      clientId,
      clientSecret,
      scope,
      skipConfirm,
      redirectUri: callbackUrl,
    });
    // As Logto does: a state nobody can guess, checked when the browser comes back.
    const state = randomBytes(16).toString('base64url');
    const authorizationUri = await connector.getAuthorizationUri(
      { ...authorizationRequest, state, redirectUri: callbackUrl },
      async () => undefined,
    );
    const callback = awaitCallback(server, waitMs);
    print(`Callback URL to register in the Xiaomi console: ${callbackUrl}`);
    print(`Open this URL in a browser and sign in:\n${authorizationUri}`);
    print(
      'If Xiaomi shows error 96010 instead of a consent page, register the callback URL above.',
    );
    print(
      `Waiting up to ${describeWait(waitMs)} for Xiaomi to send the browser back; Ctrl-C stops.`,
    );

    const query = await callback;
    if (!query) {
      print(`No callback arrived within ${describeWait(waitMs)}.`);
      return 1;
    }
    const { state: returned, ...answer } = query;
    if (returned !== state) {
      print('The callback did not carry the state of this sign-in; open the URL printed above.');
      return 1;
    }

    const { userInfo, tokenResponse } = await connector.getTokenResponseAndUserInfo(
      { ...answer, redirectUri: callbackUrl },
      async () => ({}),
    );
    print(`Signed in. The user Logto would store:\n${JSON.stringify(userInfo, null, 2)}`);
    print(`Tokens (redacted):\n${JSON.stringify(redactSecretFields(tokenResponse), null, 2)}`);
    return 0;
  } catch (error) {
    if (!isXiaomiError(error)) {
      throw error;
    }
    print(`Sign-in failed: ConnectorError ${error.code}`);
    print(JSON.stringify(redactSecretFields(error.data), null, 2));
    print(`What to check: ${terminalHint(error.data, callbackUrl)}`);
    return 1;
  } finally {
    server.closeAllConnections();
    server.close();
  }
};
