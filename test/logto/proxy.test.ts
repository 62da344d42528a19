/**
 * Xiaomi reached the way a company's Logto reaches it: Logto on Node 22 with NODE_USE_ENV_PROXY,
 * HTTPS_PROXY pointing at a CONNECT proxy this test owns, and real TLS to a stand-in whose
 * certificate for Xiaomi's hosts comes from a test CA that Logto trusts through
 * NODE_EXTRA_CA_CERTS. No routing preload: the connector's own fetch goes through the proxy.
 */

import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConnectProxy, startConnectProxy } from '../../harness/connect-proxy.js';
import {
  atXiaomi,
  connectorConfig,
  setUpXiaomiSignIn,
  type XiaomiSignIn,
  xiaomiAppOfConfig,
} from '../../harness/logto-api.js';
import {
  holdOfficialConnector,
  installAsReadmeSays,
  packTarball,
} from '../../harness/logto-install.js';
import {
  logtoVersions,
  prepareLogto,
  type RunningLogto,
  startLogto,
  stopLogto,
} from '../../harness/logto-server.js';
import { routeXiaomiThroughProxy } from '../../harness/route-xiaomi.js';
import { issueTestCertificates, type TestCertificates } from '../../harness/test-ca.js';
import {
  type StandInUser,
  seededUsers,
  startXiaomiStandIn,
  type XiaomiStandIn,
} from '../../harness/xiaomi-stand-in.js';
import { dataOf } from '../../scripts/error-tables.js';
import { tokenEndpoint } from '../../src/constant.js';
import { failureHints, networkError } from '../../src/errors.js';

const xiaomiHosts = ['account.xiaomi.com', 'open.account.xiaomi.com'];
const config = connectorConfig;
const [lei] = seededUsers as [StandInUser];

let certificates: TestCertificates;
let tarball: string;

beforeAll(async () => {
  certificates = await issueTestCertificates(xiaomiHosts);
  tarball = await packTarball();
}, 120_000);

describe.each(logtoVersions)('Logto %s behind an outbound proxy, over TLS', (version) => {
  const xiaomiApp = xiaomiAppOfConfig();
  let standIn: XiaomiStandIn;
  let proxy: ConnectProxy;
  let logto: RunningLogto;
  let tenant: XiaomiSignIn;
  let unroute: () => Promise<void>;
  let started = 0;

  beforeAll(async () => {
    const instance = await prepareLogto(version);
    await holdOfficialConnector(instance);
    await installAsReadmeSays(instance, tarball);

    standIn = await startXiaomiStandIn({
      apps: [xiaomiApp],
      users: seededUsers,
      tls: certificates,
    });
    proxy = await startConnectProxy({ xiaomiPort: standIn.port });
    started = performance.now();
    logto = await startLogto(version, {
      NODE_USE_ENV_PROXY: '1',
      HTTPS_PROXY: proxy.url,
      NO_PROXY: 'localhost,127.0.0.1',
      NODE_EXTRA_CA_CERTS: certificates.caFile,
      SECRET_VAULT_KEK: randomBytes(32).toString('base64'),
    });
    // This process plays the browser, which reaches Xiaomi through the same proxy.
    unroute = routeXiaomiThroughProxy(proxy.url, certificates.ca);
    tenant = await setUpXiaomiSignIn(logto, config);
    xiaomiApp.redirectUris.push(tenant.signInCallback);
  }, 600_000);

  afterAll(async () => {
    console.info(
      `Logto ${version} behind the proxy: ${((performance.now() - started) / 1000).toFixed(1)} s, CONNECTs seen: ${[...new Set(proxy?.connects)].join(', ')}`,
    );
    await stopLogto();
    await unroute?.();
    await proxy?.close();
    await standIn?.close();
  }, 60_000);

  it('runs core without the routing preload', () => {
    expect(readFileSync(logto.coreLog, 'utf8')).not.toContain('[route-hosts]');
  });

  it('signs in with profile, email and phone, and refreshes a stored token', async () => {
    standIn.knobs.accessTokenTtlSeconds = 2;
    try {
      const { sub, tokens } = await tenant.signIn(atXiaomi(lei.unionId));
      expect(await tenant.xiaomiIdentity(sub)).toMatchObject({
        userId: lei.unionId,
        details: { name: lei.nickname, email: lei.email, phone: '8613800138000' },
      });
      const kept = await tenant.storedXiaomiToken(tokens.access_token);
      await sleep(2500);
      const refreshed = await tenant.storedXiaomiToken(tokens.access_token);
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.access_token).not.toBe(kept.body.access_token);
    } finally {
      standIn.reset();
    }
  });

  it('answers a wrong AppSecret with 400 invalid_config carrying Xiaomi’s 96003', async () => {
    await tenant.setConnectorConfig({ ...config, clientSecret: 'not-the-app-secret' });
    try {
      expect(await tenant.failedSignIn(atXiaomi(lei.unionId))).toMatchObject({
        status: 400,
        body: { code: 'connector.invalid_config', data: { code: 96003 } },
      });
    } finally {
      await tenant.setConnectorConfig(config);
    }
  });

  it('answers a hanging Xiaomi with a general timeout error', async () => {
    try {
      const answer = await tenant.failedSignIn(async (context) => {
        const callback = await atXiaomi(lei.unionId)(context);
        standIn.knobs.hang = true;
        return callback;
      });
      expect(answer).toMatchObject({
        status: 400,
        body: { code: 'connector.general', data: { reason: 'timeout', endpoint: '/oauth2/token' } },
      });
    } finally {
      standIn.reset();
    }
  });

  it('signs in when the proxy refuses the first tunnel of the code exchange', async () => {
    let armedAt = 0;
    const { sub } = await tenant.signIn(async (context) => {
      const callback = await atXiaomi(lei.unionId)(context);
      armedAt = proxy.connects.length;
      proxy.refuseNextTunnels('account.xiaomi.com:443', 1);
      return callback;
    });
    expect(await tenant.xiaomiIdentity(sub)).toMatchObject({ userId: lei.unionId });
    // The refused tunnel, then the one that carried the code.
    const toToken = proxy.connects.slice(armedAt).filter((target) => target.startsWith('account.'));
    expect(toToken).toEqual(['account.xiaomi.com:443', 'account.xiaomi.com:443']);
  });

  it('answers a proxy that refuses the tunnel with the network error the guide names', async () => {
    try {
      const answer = await tenant.failedSignIn(async (context) => {
        const callback = await atXiaomi(lei.unionId)(context);
        proxy.refuseTunnels(true);
        return callback;
      });
      expect(answer).toMatchObject({
        status: 400,
        body: {
          code: 'connector.general',
          message: expect.stringContaining(
            // Nothing reached Xiaomi, so the code was sent again, twice.
            dataOf(
              networkError(
                new URL(tokenEndpoint),
                'UND_ERR_ABORTED',
                Array(3).fill('UND_ERR_ABORTED'),
              ),
            ).errorDescription,
          ),
          data: {
            reason: 'network',
            cause: 'UND_ERR_ABORTED',
            attempts: Array(3).fill('UND_ERR_ABORTED'),
            hint: failureHints.network,
          },
        },
      });
    } finally {
      proxy.refuseTunnels(false);
    }
  });

  it('sent nothing through the proxy but tunnels to Xiaomi’s two hosts on 443', () => {
    expect(new Set(proxy.connects)).toEqual(new Set(xiaomiHosts.map((host) => `${host}:443`)));
  });
});
