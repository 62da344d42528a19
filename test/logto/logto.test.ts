/**
 * The package as a Logto admin gets it: packed, installed with the instance's own CLI in place of
 * the official connector (the README's steps), loaded by a real Logto core with its connector-kit
 * version check on, and signed in through Logto's Experience API. Xiaomi's hosts are routed to the
 * stand-in inside core by a preload; the package itself keeps Xiaomi's real URLs.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { atXiaomi, kit, setUpXiaomiSignIn, type XiaomiSignIn } from '../../harness/logto-api.js';
import { packageRoot } from '../../harness/logto-loader.js';
import {
  connectorsDir,
  holdOfficialConnector,
  installAsReadmeSays,
  officialConnectorDir,
  ourConnectorDir,
  packTarball,
  prepareLogto,
  type RunningLogto,
  routeHostsPreload,
  startLogto,
  stopLogto,
} from '../../harness/logto-server.js';
import { routeXiaomiTo } from '../../harness/route-xiaomi.js';
import {
  demoApp,
  type StandInUser,
  seededUsers,
  startXiaomiStandIn,
  type XiaomiStandIn,
} from '../../harness/xiaomi-stand-in.js';

const versions = (process.env.LOGTO_VERSIONS ?? '1.37.1 1.42.0').split(/\s+/).filter(Boolean);

const socialRedirectUri = kit.defaults.socialRedirectUri;
const xiaomiApp = {
  clientId: demoApp.clientId,
  clientSecret: 'logto-e2e-app-secret',
  redirectUris: [socialRedirectUri],
};
const config = {
  clientId: xiaomiApp.clientId,
  clientSecret: xiaomiApp.clientSecret,
  scope: '1 4 6',
  redirectUri: socialRedirectUri,
};
const crowd: StandInUser[] = Array.from({ length: 50 }, (_, index) => ({
  unionId: `u-crowd-${index}`,
  nickname: `Crowd ${index}`,
  icon: `https://cdn.example.com/avatars/crowd-${index}.png`,
}));
const [lei] = seededUsers as [StandInUser];

let tarball: string;

beforeAll(async () => {
  tarball = await packTarball();
}, 120_000);

describe.each(versions)('inside Logto %s', (version) => {
  let logto: RunningLogto;
  let instance: string;
  let standIn: XiaomiStandIn;
  let unroute: () => Promise<void>;
  let tenant: XiaomiSignIn;
  const timings: Record<string, number> = {};

  beforeAll(async () => {
    let started = performance.now();
    instance = await prepareLogto(version);
    timings.prepare = performance.now() - started;
    await holdOfficialConnector(instance);
    await installAsReadmeSays(instance, tarball);

    standIn = await startXiaomiStandIn({ apps: [xiaomiApp], users: [...seededUsers, ...crowd] });
    started = performance.now();
    logto = await startLogto(version, {
      LOGTO_NODE_OPTIONS: `--import ${routeHostsPreload}`,
      LOGTO_ROUTE_HOSTS: `account.xiaomi.com=${standIn.origin},open.account.xiaomi.com=${standIn.origin}`,
      SECRET_VAULT_KEK: randomBytes(32).toString('base64'),
    });
    timings.start = performance.now() - started;
    // This process plays the browser, so it too sends Xiaomi's hosts to the stand-in.
    unroute = routeXiaomiTo(standIn.origin);
    tenant = await setUpXiaomiSignIn(logto, config);
  }, 600_000);

  afterAll(async () => {
    await unroute?.();
    await stopLogto();
    await standIn?.close();
    const seconds = (metric: string) => `${((timings[metric] ?? 0) / 1000).toFixed(1)} s`;
    console.info(
      `Logto ${version}: prepare ${seconds('prepare')}, start ${seconds('start')}, 50 concurrent sign-ins ${seconds('crowd')}`,
    );
  }, 60_000);

  it('is installed as the README says: the official connector gone, nothing installed beside ours', async () => {
    expect(existsSync(officialConnectorDir(instance))).toBe(false);
    expect(existsSync(join(ourConnectorDir(instance), 'lib/index.js'))).toBe(true);
    expect(existsSync(join(ourConnectorDir(instance), 'node_modules'))).toBe(false);
    expect(existsSync(join(connectorsDir(instance), 'node_modules'))).toBe(false);

    const factories = await tenant.api<{ id: string; readme: string }[]>(
      'GET',
      '/connector-factories',
    );
    const ours = factories.find(({ id }) => id === 'xiaomi-universal');
    expect(ours?.readme).toBe(readFileSync(join(packageRoot, 'docs/admin-guide.md'), 'utf8'));
    expect(readFileSync(logto.coreLog, 'utf8')).not.toMatch(/skip connector-xiaomi-plus/);
  });

  it('signs a new user in with profile, email and phone, then the same user again', async () => {
    const first = await tenant.signIn(atXiaomi(lei.unionId));
    expect(first.registered).toBe(true);
    const identity = await tenant.xiaomiIdentity(first.sub);
    expect(identity).toMatchObject({
      userId: lei.unionId,
      details: {
        id: lei.unionId,
        name: lei.nickname,
        avatar: lei.icon,
        email: lei.email,
        phone: '8613800138000',
        rawData: { result: 'ok', data: { unionId: lei.unionId, miliaoNick: lei.nickname } },
      },
    });

    const second = await tenant.signIn(atXiaomi(lei.unionId));
    expect(second).toMatchObject({ registered: false, sub: first.sub });
  });

  it('keeps Xiaomi’s tokens and refreshes an expired one through the connector', async () => {
    standIn.knobs.accessTokenTtlSeconds = 3;
    const { tokens } = await tenant.signIn(atXiaomi(lei.unionId));
    standIn.knobs.accessTokenTtlSeconds = 3 * 24 * 3600;

    const kept = await tenant.storedXiaomiToken(tokens.access_token);
    expect(kept).toMatchObject({ status: 200, body: { token_type: 'mac', scope: '1 4 6' } });
    await sleep(3500);
    const refreshed = await tenant.storedXiaomiToken(tokens.access_token);
    expect(refreshed.status).toBe(200);
    expect(refreshed.body.access_token).not.toBe(kept.body.access_token);

    // Both are real Xiaomi tokens of this user; the kept one has expired, the new one works.
    const profileWith = async (token: unknown) =>
      (await fetch(
        `https://open.account.xiaomi.com/user/profile?clientId=${config.clientId}&token=${token}`,
      ).then((answer) => answer.json())) as { data?: { unionId: string }; code?: number };
    expect(await profileWith(refreshed.body.access_token)).toMatchObject({
      data: { unionId: lei.unionId },
    });
    expect(await profileWith(kept.body.access_token)).toMatchObject({ code: 96008 });
  });

  it('answers a wrong AppSecret with 400 invalid_config carrying Xiaomi’s 96003', async () => {
    await tenant.setConnectorConfig({ ...config, clientSecret: 'not-the-app-secret' });
    try {
      const answer = await tenant.failedSignIn(atXiaomi(lei.unionId));
      expect(answer).toMatchObject({
        status: 400,
        body: {
          code: 'connector.invalid_config',
          data: { code: 96003, name: 'OA_INVALID_CLIENT' },
        },
      });
      expect(JSON.stringify(answer.body)).not.toContain('not-the-app-secret');
    } finally {
      await tenant.setConnectorConfig(config);
    }
  });

  it('answers a user’s refusal with 401 authorization_failed', async () => {
    const answer = await tenant.failedSignIn(atXiaomi(lei.unionId, 'deny'));
    expect(answer).toMatchObject({
      status: 401,
      body: { code: 'connector.authorization_failed', data: { code: 'access_denied' } },
    });
  });

  it('answers a reused code with 401 social_auth_code_invalid', async () => {
    let used: Record<string, string> = {};
    await tenant.signIn(async (context) => {
      used = await atXiaomi(lei.unionId)(context);
      return used;
    });
    const answer = await tenant.failedSignIn(async () => used);
    expect(answer).toMatchObject({
      status: 401,
      body: { code: 'connector.social_auth_code_invalid', data: { code: 96013 } },
    });
  });

  it('answers a hanging Xiaomi with a general connector error within the 5 s timeout', async () => {
    let started = 0;
    try {
      const answer = await tenant.failedSignIn(async (context) => {
        const callback = await atXiaomi(lei.unionId)(context);
        standIn.knobs.hang = true;
        started = performance.now();
        return callback;
      });
      const waited = performance.now() - started;
      expect(answer).toMatchObject({
        status: 400,
        body: {
          code: 'connector.general',
          message: expect.stringMatching(
            /: Xiaomi did not answer account\.xiaomi\.com\/oauth2\/token within 5 s: /,
          ),
          data: { reason: 'timeout' },
        },
      });
      expect(waited).toBeGreaterThanOrEqual(5000);
      expect(waited).toBeLessThan(8000);
    } finally {
      standIn.knobs.hang = false;
    }
  });

  it('signs 50 different Xiaomi users in at once, each to their own Logto user', async () => {
    const started = performance.now();
    const results = await Promise.all(
      crowd.map(async ({ unionId }) => ({ unionId, ...(await tenant.signIn(atXiaomi(unionId))) })),
    );
    timings.crowd = performance.now() - started;

    expect(results.every(({ registered }) => registered)).toBe(true);
    expect(new Set(results.map(({ sub }) => sub)).size).toBe(crowd.length);
    const identities = await Promise.all(results.map(({ sub }) => tenant.xiaomiIdentity(sub)));
    expect(identities.map(({ userId }) => userId)).toEqual(crowd.map(({ unionId }) => unionId));
  });
});
