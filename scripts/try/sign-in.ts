/**
 * The heart of `npm run try`: signs in once against a real Xiaomi app from a terminal, with a
 * callback server on 127.0.0.1, and tells the admin what to check when it fails.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { authorizationRequest, createFromBuild } from '../../harness/logto-loader.js';
import { isXiaomiError, type XiaomiErrorData } from '../../src/errors.js';
import { redactSecretFields } from '../../src/secrets.js';
import { type TryOptions, TryUsageError } from './options.js';

/** Not Logto's `/callback/<ID>`: this address is the check's own, and is not to be kept at Xiaomi. */
const callbackPath = '/xiaomi-plus-try/callback';

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

/**
 * A line for this terminal after the connector's own hint, where that hint speaks of a Logto
 * server and its callback URLs: in this run, this machine and the callback server stand in for them.
 */
export const terminalNote = (data: XiaomiErrorData, callbackUrl: string) => {
  if (data.reason === 'xiaomi_error' && data.code === 96010) {
    return `In this run the callback URL is ${callbackUrl} (printed above): register it in the Xiaomi console.`;
  }
  if (data.reason === 'network' || data.reason === 'timeout') {
    return 'In this run, this machine is the Logto server: check its network connection, DNS and proxy.';
  }
  return undefined;
};

/** A wait for people: `5 minutes`, `1 minute`, `30 seconds`. */
export const describeWait = (ms: number) => {
  const [count, unit] = ms >= 60_000 ? [ms / 60_000, 'minute'] : [ms / 1000, 'second'];
  const rounded = Math.round(count * 10) / 10;
  return `${rounded} ${unit}${rounded === 1 ? '' : 's'}`;
};

/** What a tab that comes back with another state is told. */
export const otherSignIn =
  'This is not the sign-in that npm run try is waiting for: open the URL printed in the terminal, which is still waiting.';

const send = (response: ServerResponse, status: number, text: string) =>
  response.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(text);

/**
 * Serves the callback URL until the browser comes back with `state`, and resolves to Xiaomi's
 * query without it, or to nothing after `waitMs`. A callback with another state (a stray tab, an
 * old bookmark) is told so in its tab, and the wait goes on.
 */
const awaitCallback = (
  server: Server,
  { state, waitMs, print }: { state: string; waitMs: number; print: (line: string) => void },
) =>
  new Promise<Record<string, string> | undefined>((resolve) => {
    const timer = setTimeout(() => resolve(undefined), waitMs);
    server.on('request', (request, response) => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1');
      if (url.pathname !== callbackPath) {
        response.writeHead(404).end();
        return;
      }
      const { state: returned, ...answer } = Object.fromEntries(url.searchParams);
      if (returned !== state) {
        send(response, 400, otherSignIn);
        print('A callback of another sign-in arrived (another tab or an old link); still waiting.');
        return;
      }
      send(response, 200, 'Xiaomi came back. You can close this tab and read the terminal.');
      clearTimeout(timer);
      resolve(answer);
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
    });
    // As Logto does: a state nobody can guess, checked when the browser comes back.
    const state = randomBytes(16).toString('base64url');
    const authorizationUri = await connector.getAuthorizationUri(
      { ...authorizationRequest, state, redirectUri: callbackUrl },
      async () => undefined,
    );
    const callback = awaitCallback(server, { state, waitMs, print });
    print(`Callback URL to register in the Xiaomi console for this check: ${callbackUrl}`);
    print(
      "(Logto's own callback URLs are the Redirect URIs its Console shows on the connector's page.)",
    );
    print(`Open this URL in a browser and sign in:\n${authorizationUri}`);
    print(
      'If Xiaomi shows error 96010 instead of a consent page, register the callback URL above.',
    );
    print(
      `Waiting up to ${describeWait(waitMs)} for Xiaomi to send the browser back; Ctrl-C stops.`,
    );

    const answer = await callback;
    if (!answer) {
      print(`No callback arrived within ${describeWait(waitMs)}.`);
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
    print(`What to check: ${error.data.hint}`);
    const note = terminalNote(error.data, callbackUrl);
    if (note) {
      print(note);
    }
    return 1;
  } finally {
    server.closeAllConnections();
    server.close();
  }
};
