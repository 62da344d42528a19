/**
 * One Logto core as the refresh sharing meets it: a process of its own that loads the built
 * package through Logto's loader, with REDIS_URL from its environment and Xiaomi's hosts routed to
 * the stand-in at XIAOMI_ORIGIN. It reads one JSON command a line on stdin and answers each with
 * one JSON line on stdout: `{ id, refresh: <stored refresh token> }` refreshes it, and
 * `{ id, stall: <ms> }` keeps the event loop busy that long, as a long garbage collection does.
 * The connector's log lines go to stderr, as in Logto. Plain JavaScript, run by Node alone as
 * Logto runs: a loader such as tsx would also rewrite the package's own chunks.
 */
import { createInterface } from 'node:readline';
import { loadConnectorFactories } from '@logto/cli/lib/connector/index.js';
import { Agent, setGlobalDispatcher } from 'undici';

const packageRoot = new URL('..', import.meta.url).pathname;
const xiaomiOrigins = new Set(['https://account.xiaomi.com', 'https://open.account.xiaomi.com']);

class XiaomiRouter extends Agent {
  dispatch(options, handler) {
    return super.dispatch(
      xiaomiOrigins.has(String(options.origin))
        ? { ...options, origin: process.env.XIAOMI_ORIGIN }
        : options,
      handler,
    );
  }
}
setGlobalDispatcher(new XiaomiRouter());

const [factory] = await loadConnectorFactories(
  [{ path: packageRoot, name: 'connector-xiaomi-plus' }],
  false,
);
const config = JSON.parse(process.env.CONNECTOR_CONFIG ?? '{}');
const connector = await factory.createConnector({ getConfig: async () => config });

// stdout carries the answers: what the connector tells Logto's log goes to stderr, all of it.
console.info = console.error;

const answer = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

const refresh = async (id, stored) => {
  try {
    const { access_token, refresh_token } = await connector.getAccessTokenByRefreshToken(stored);
    answer({ id, ok: true, accessToken: access_token, refreshToken: refresh_token });
  } catch (error) {
    answer({ id, ok: false, error: error?.data ?? String(error) });
  }
};

const stall = (id, ms) => {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // The event loop stands still.
  }
  answer({ id, ok: true });
};

for await (const line of createInterface({ input: process.stdin })) {
  const { id, refresh: stored, stall: ms } = JSON.parse(line);
  if (stored !== undefined) {
    void refresh(id, stored);
  } else {
    setImmediate(() => stall(id, ms ?? 0));
  }
}
