/**
 * The package as a Logto admin gets it: packed, installed with the instance's own CLI in place of
 * the official connector (the README's steps), loaded by a real Logto core with its connector-kit
 * version check on, and signed in through Logto's Experience API. Xiaomi's hosts are routed to the
 * stand-in inside core by a preload; the package itself keeps Xiaomi's real URLs.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeAs } from '../../harness/browser.js';
import { packageRoot } from '../../harness/logto.js';
import {
  type ExperienceFailure,
  loadKitClient,
  type ManagementApi,
  type ProviderStep,
  storedProviderToken,
} from '../../harness/logto-client.js';
import {
  prepareLogto,
  type RunningLogto,
  routeHostsPreload,
  startLogto,
  stopLogto,
} from '../../harness/logto-kit.js';
import { routeXiaomiTo } from '../../harness/route.js';
import {
  demoApp,
  type StandInUser,
  seededUsers,
  startXiaomiStandIn,
  type XiaomiStandIn,
} from '../../harness/stand-in.js';

const versions = (process.env.LOGTO_VERSIONS ?? '1.37.1 1.42.0').split(/\s+/).filter(Boolean);
const { version: packageVersion } = JSON.parse(
  readFileSync(join(packageRoot, 'package.json'), 'utf8'),
) as { version: string };

const kit = await loadKitClient();
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

/** A shell command as the README gives it, run in `cwd` with this process's Node on PATH. */
const run = (command: string, args: string[], cwd: string) =>
  promisify(execFile)(command, args, { cwd, maxBuffer: 16 * 1024 * 1024 });

let tarball: string;

beforeAll(async () => {
  // README: `npm pack` in this repository (prepack builds lib/ first).
  await run('npm', ['pack', '--silent'], packageRoot);
  tarball = join(packageRoot, `connector-xiaomi-plus-${packageVersion}.tgz`);
}, 120_000);

describe.each(versions)('inside Logto %s', (version) => {
  let logto: RunningLogto;
  let instance: string;
  let standIn: XiaomiStandIn;
  let unroute: () => Promise<void>;
  let api: ManagementApi;
  let connectorId: string;
  let appId: string;
  const timings: Record<string, number> = {};

  const connectorDir = () => join(instance, 'packages/core/connectors/connector-xiaomi-plus');

  /** Puts the instance where an admin starts from: Logto with the official Xiaomi connector. */
  const holdOfficialConnector = async () => {
    if (existsSync(connectorDir())) {
      await run('npm', ['run', 'cli', 'connector', 'remove', 'connector-xiaomi-plus'], instance);
    }
    await run('npm', ['run', 'cli', 'connector', 'add', '@logto/connector-xiaomi'], instance);
    expect(existsSync(join(instance, 'packages/core/connectors/@logto-connector-xiaomi'))).toBe(
      true,
    );
  };

  /** The README's install steps, in the instance folder, as written there. */
  const installAsReadmeSays = async () => {
    await run('npm', ['run', 'cli', 'connector', 'remove', '@logto/connector-xiaomi'], instance);
    await run('npm', ['run', 'cli', 'connector', 'add', tarball], instance);
  };

  beforeAll(async () => {
    let started = performance.now();
    instance = await prepareLogto(version);
    timings.prepare = performance.now() - started;
    await holdOfficialConnector();
    await installAsReadmeSays();

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

    const token = await kit.getManagementToken({
      adminEndpoint: logto.adminEndpoint,
      appId: logto.m2mAppId,
      secret: logto.m2mSecret,
    });
    api = kit.managementApi({ endpoint: logto.endpoint, token });
    const connector = await api<{ id: string; target: string }>('POST', '/connectors', {
      connectorId: 'xiaomi-universal',
      config,
      enableTokenStorage: true,
    });
    connectorId = connector.id;
    await kit.enableSocialSignIn(api, { target: connector.target });
    await api('PATCH', '/account-center', { enabled: true });
    ({ id: appId } = await kit.createApp(api, { type: 'SPA', name: `xiaomi-e2e-${version}` }));
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

  /** Xiaomi's part of a sign-in, as the user's browser goes through it. */
  const atXiaomi =
    (user: string, decision: 'approve' | 'deny' = 'approve'): ProviderStep =>
    async ({ authorizationUri, state, redirectUri }) => {
      const { callback } = await authorizeAs(authorizationUri, { user, decision });
      const { state: returned, ...query } = callback;
      expect(returned).toBe(state);
      return { redirectUri, ...query };
    };

  /** One whole sign-in of an app user through the Experience API; resolves to the Logto user. */
  const signIn = async (provider: ProviderStep) => {
    const session = new kit.Session(logto.endpoint);
    const authorization = await kit.startAuthorization(session, {
      clientId: appId,
      scope: 'openid profile identities',
    });
    const verificationId = await kit.verifySocial(session, {
      connectorId,
      followProvider: provider,
    });
    const { redirectTo, registered } = await kit.identifyAndSubmit(session, { verificationId });
    const tokens = await kit.finishAuthorization(session, { ...authorization, redirectTo });
    return { sub: kit.decodeJwt(tokens.id_token).sub, registered, tokens };
  };

  /** A sign-in that must fail at verification; resolves to Logto's answer. */
  const failedSignIn = async (provider: ProviderStep) => {
    const failure: ExperienceFailure = await signIn(provider).then(
      () => {
        throw new Error('The sign-in succeeded.');
      },
      (error: ExperienceFailure) => error,
    );
    if (failure.status === undefined) {
      throw failure;
    }
    return { status: failure.status, body: failure.body as Record<string, unknown> };
  };

  const xiaomiIdentity = async (sub: string) => {
    const user = await api<{ identities: Record<string, unknown> }>('GET', `/users/${sub}`);
    return user.identities.xiaomi as { userId: string; details: Record<string, unknown> };
  };

  it('is installed as the README says: the official connector gone, nothing installed beside ours', async () => {
    const connectors = join(instance, 'packages/core/connectors');
    expect(existsSync(join(connectors, '@logto-connector-xiaomi'))).toBe(false);
    expect(existsSync(join(connectorDir(), 'lib/index.js'))).toBe(true);
    expect(existsSync(join(connectorDir(), 'node_modules'))).toBe(false);

    const factories = await api<{ id: string; readme: string }[]>('GET', '/connector-factories');
    const ours = factories.find(({ id }) => id === 'xiaomi-universal');
    expect(ours?.readme).toBe(readFileSync(join(packageRoot, 'docs/admin-guide.md'), 'utf8'));
    expect(readFileSync(logto.coreLog, 'utf8')).not.toMatch(/skip connector-xiaomi-plus/);
  });

  it('signs a new user in with profile, email and phone, then the same user again', async () => {
    const first = await signIn(atXiaomi(lei.unionId));
    expect(first.registered).toBe(true);
    const identity = await xiaomiIdentity(first.sub);
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

    const second = await signIn(atXiaomi(lei.unionId));
    expect(second).toMatchObject({ registered: false, sub: first.sub });
  });

  it('keeps Xiaomi’s tokens and refreshes an expired one through the connector', async () => {
    standIn.knobs.accessTokenTtlSeconds = 3;
    const { tokens } = await signIn(atXiaomi(lei.unionId));
    standIn.knobs.accessTokenTtlSeconds = 3 * 24 * 3600;

    const kept = await storedProviderToken(logto.endpoint, tokens.access_token, 'xiaomi');
    expect(kept).toMatchObject({ status: 200, body: { token_type: 'mac', scope: '1 4 6' } });
    await sleep(3500);
    const refreshed = await storedProviderToken(logto.endpoint, tokens.access_token, 'xiaomi');
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
    await api('PATCH', `/connectors/${connectorId}`, {
      config: { ...config, clientSecret: 'not-the-app-secret' },
    });
    try {
      const answer = await failedSignIn(atXiaomi(lei.unionId));
      expect(answer).toMatchObject({
        status: 400,
        body: {
          code: 'connector.invalid_config',
          data: { code: 96003, name: 'OA_INVALID_CLIENT' },
        },
      });
      expect(JSON.stringify(answer.body)).not.toContain('not-the-app-secret');
    } finally {
      await api('PATCH', `/connectors/${connectorId}`, { config });
    }
  });

  it('answers a user’s refusal with 401 authorization_failed', async () => {
    const answer = await failedSignIn(atXiaomi(lei.unionId, 'deny'));
    expect(answer).toMatchObject({
      status: 401,
      body: { code: 'connector.authorization_failed', data: { code: 'access_denied' } },
    });
  });

  it('answers a reused code with 401 social_auth_code_invalid', async () => {
    let used: Record<string, string> = {};
    await signIn(async (context) => {
      used = await atXiaomi(lei.unionId)(context);
      return used;
    });
    const answer = await failedSignIn(async () => used);
    expect(answer).toMatchObject({
      status: 401,
      body: { code: 'connector.social_auth_code_invalid', data: { code: 96013 } },
    });
  });

  it('answers a hanging Xiaomi with a general connector error within the 5 s timeout', async () => {
    let started = 0;
    try {
      const answer = await failedSignIn(async (context) => {
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
      crowd.map(async ({ unionId }) => ({ unionId, ...(await signIn(atXiaomi(unionId))) })),
    );
    timings.crowd = performance.now() - started;

    expect(results.every(({ registered }) => registered)).toBe(true);
    expect(new Set(results.map(({ sub }) => sub)).size).toBe(crowd.length);
    const identities = await Promise.all(results.map(({ sub }) => xiaomiIdentity(sub)));
    expect(identities.map(({ userId }) => userId)).toEqual(crowd.map(({ unionId }) => unionId));
  });
});
