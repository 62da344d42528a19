/** `npm run try` against the stand-in: the same routing as the demo, a real callback server. */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeAs } from '../harness/browser.js';
import { routeXiaomiTo } from '../harness/route.js';
import { demoApp, startXiaomiStandIn, type XiaomiStandIn } from '../harness/stand-in.js';
import { runTry } from '../harness/try-app.js';

const freePort = async () => {
  const probe = createServer().listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const { port } = probe.address() as AddressInfo;
  probe.close();
  await once(probe, 'close');
  return port;
};

let port: number;
let standIn: XiaomiStandIn;
let unroute: () => Promise<void>;

beforeAll(async () => {
  port = await freePort();
  standIn = await startXiaomiStandIn({
    apps: [{ ...demoApp, redirectUris: [`http://127.0.0.1:${port}/callback/xiaomi-universal`] }],
  });
  unroute = routeXiaomiTo(standIn.origin);
});

afterAll(async () => {
  await unroute();
  await standIn.close();
});

/** Runs `try`, plays the browser once it prints the authorize URL, and returns what it printed. */
const tryWith = async (clientSecret: string) => {
  const lines: string[] = [];
  let authorizeUrl: (url: string) => void = () => {};
  const printed = new Promise<string>((resolve) => {
    authorizeUrl = resolve;
  });
  const exitCode = runTry(
    { clientId: demoApp.clientId, clientSecret, scope: '1 6', port, waitMs: 10_000 },
    (line) => {
      lines.push(line);
      const url = /https:\/\/account\.xiaomi\.com\/oauth2\/authorize\S+/.exec(line)?.[0];
      if (url) {
        authorizeUrl(url);
      }
    },
  );
  const { callback } = await authorizeAs(await printed, { decision: 'approve' });
  const callbackUrl = new URL(`http://127.0.0.1:${port}/callback/xiaomi-universal`);
  callbackUrl.search = new URLSearchParams(callback).toString();
  await fetch(callbackUrl);
  return { exitCode: await exitCode, output: lines.join('\n') };
};

describe('npm run try', () => {
  it('prints the callback URL, the authorize URL and the signed-in user', async () => {
    const { exitCode, output } = await tryWith(demoApp.clientSecret);
    expect(exitCode).toBe(0);
    expect(output).toContain(`http://127.0.0.1:${port}/callback/xiaomi-universal`);
    expect(output).toContain('"id": "u-mi-10001"');
    expect(output).toContain('"email": "xiaomi.user@example.com"');
    expect(output).toContain('"access_token": "[redacted]"');
    expect(output).not.toContain(demoApp.clientSecret);
  });

  it('names the cause and what to check when the AppSecret is wrong', async () => {
    const { exitCode, output } = await tryWith('wrong-secret');
    expect(exitCode).toBe(1);
    expect(output).toContain('ConnectorError invalid_config');
    expect(output).toContain('OA_INVALID_CLIENT');
    expect(output).toContain('What to check: Check that clientSecret is the AppSecret');
    expect(output).not.toContain('wrong-secret');
  });
});
