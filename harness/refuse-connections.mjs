// Preload for a Logto core under test, imported after the Logto kit's route-hosts.mjs: the next
// requests for chosen Xiaomi paths go to a port where nothing listens, so the kernel refuses
// their connections, as when a host is down for a moment. A test asks for it by writing
// {"<path>": <count>} to the file XIAOMI_REFUSALS names (see harness/logto-server.ts); each such
// request takes one from the count.
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';

const file = process.env.XIAOMI_REFUSALS;
const xiaomiHosts = new Set(['account.xiaomi.com', 'open.account.xiaomi.com']);

/** A port that was just listened on and closed: nothing listens there now. */
const closedPort = async () => {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address();
  probe.close();
  await once(probe, 'close');
  return port;
};

const readRefusals = () => {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
};

/** Whether a request for `path` is to be refused, counting it if so. */
const takeRefusal = (path) => {
  const refusals = readRefusals();
  if (!(refusals[path] > 0)) {
    return false;
  }
  refusals[path] -= 1;
  writeFileSync(file, JSON.stringify(refusals));
  return true;
};

if (file) {
  // Not a low port such as 1: fetch refuses the ports the Fetch standard blocks before connecting.
  const refusingOrigin = `http://127.0.0.1:${await closedPort()}`;
  const routedFetch = globalThis.fetch;
  globalThis.fetch = function refusingFetch(input, init) {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (!xiaomiHosts.has(url.host) || !takeRefusal(url.pathname)) {
      return routedFetch(input, init);
    }
    process.stderr.write(`[refuse-connections] ${url.host}${url.pathname} -> ${refusingOrigin}\n`);
    // A plain GET will do: the connection is refused before anything would be sent.
    return routedFetch(`${refusingOrigin}${url.pathname}`, { signal: init?.signal });
  };
}
