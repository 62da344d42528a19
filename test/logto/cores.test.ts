/**
 * Logto as bigger deployments run it: two core processes on one database behind a round-robin
 * balancer, with Logto's REDIS_URL (the Logto kit's LOGTO_CORES=2 and LOGTO_REDIS): a plain
 * Redis, one on TLS with a password as managed services sell it, a Redis Cluster, and a cluster
 * whose replicas lag. Consecutive requests land on different cores, so only Redis can make their
 * refreshes of one stored token one. On the plain Redis, Redis then goes away, hangs and comes
 * back, and no read may fail with a 500 for it.
 */
import { readFileSync } from 'node:fs';
import { createClient } from '@redis/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectorConfig,
  setUpXiaomiSignIn,
  signInWithExpiredXiaomiToken,
  type XiaomiSignIn,
  xiaomiAppOfConfig,
} from '../../harness/logto-api.js';
import {
  holdOfficialConnector,
  installAsReadmeSays,
  packTarball,
} from '../../harness/logto-install.js';
import {
  connectorClients,
  freezeRedis,
  lagReplicas,
  logtoVersions,
  prepareLogto,
  type RunningLogto,
  routedToStandIn,
  startLogto,
  startRedisAgain,
  stopLogto,
  stopRedis,
} from '../../harness/logto-server.js';
import { routeXiaomiTo } from '../../harness/route-xiaomi.js';
import {
  type StandInUser,
  seededUsers,
  startXiaomiStandIn,
  type XiaomiStandIn,
} from '../../harness/xiaomi-stand-in.js';
import { sharedRefreshTiming } from '../../src/constant.js';
import { logNotes } from '../../src/errors.js';

const [lei] = seededUsers as [StandInUser];

let tarball: string;

beforeAll(async () => {
  tarball = await packTarball();
}, 120_000);

/** Redis as admins run it, by the kit's LOGTO_REDIS, and the REDIS_URL each core gets. */
const redisModes = [
  { redis: 'one plain Redis', mode: '1', url: /^redis:\/\/127\.0\.0\.1:\d+$/, lagging: false },
  {
    redis: 'a Redis on TLS with a password',
    mode: 'tls',
    url: /^rediss:\/\/:[^@]+@127\.0\.0\.1:\d+\?certroot=.+&reject_unauthorized=1$/,
    lagging: false,
  },
  { redis: 'a Redis Cluster', mode: 'cluster', url: /[?&]cluster=1&host=/, lagging: false },
  {
    redis: 'a Redis Cluster whose replicas lag',
    mode: 'cluster',
    url: /[?&]cluster=1&host=/,
    lagging: true,
  },
];

describe.each(logtoVersions)('two Logto %s cores', (version) => {
  let instance: string;
  let standIn: XiaomiStandIn;
  let unroute: () => Promise<void>;
  const xiaomiApp = xiaomiAppOfConfig();
  /** Each refresh the stand-in answered: the refresh token it spent, and the body it sent. */
  const refreshes: { spent: string; body: string }[] = [];

  beforeAll(async () => {
    instance = await prepareLogto(version);
    await holdOfficialConnector(instance);
    await installAsReadmeSays(instance, tarball);
    standIn = await startXiaomiStandIn({
      apps: [xiaomiApp],
      users: seededUsers,
      onAnswer: ({ path, params, body }) => {
        if (path === '/oauth2/token' && params.grant_type === 'refresh_token') {
          refreshes.push({ spent: params.refresh_token ?? '', body });
        }
      },
    });
    unroute = routeXiaomiTo(standIn.origin);
  }, 600_000);

  afterAll(async () => {
    await unroute?.();
    await standIn?.close();
  }, 60_000);

  describe.each(redisModes)('on $redis', ({ mode, url, lagging }) => {
    let logto: RunningLogto;
    let tenant: XiaomiSignIn;

    beforeAll(async () => {
      logto = await startLogto(version, {
        ...routedToStandIn(standIn.origin),
        LOGTO_CORES: '2',
        LOGTO_REDIS: mode,
      });
      tenant = await setUpXiaomiSignIn(logto, connectorConfig);
      xiaomiApp.redirectUris.push(tenant.signInCallback);
      if (lagging) {
        await lagReplicas(logto, 600_000);
      }
    }, 600_000);

    afterAll(async () => {
      await stopLogto();
    }, 60_000);

    const coreLogs = () => logto.coreLogs.map((log) => readFileSync(log, 'utf8'));

    /**
     * The Logto access token of a user whose stored Xiaomi token lived a second and has expired;
     * the tokens its refresh brings live on while the reads go on.
     */
    const expiredXiaomiToken = async () => {
      const userToken = await signInWithExpiredXiaomiToken(tenant, standIn, lei.unionId, 1);
      standIn.knobs.accessTokenTtlSeconds = 3600;
      return userToken;
    };

    /** Reads of the stored token; the balancer spreads them over both cores. */
    const reads = (userToken: string, count: number, everyMs?: number) =>
      tenant.storedXiaomiTokens(userToken, count, everyMs);

    it('runs two cores, each with REDIS_URL and the connector loaded', () => {
      expect(logto.coreLogs).toHaveLength(2);
      expect(logto.redisUrl).toMatch(url);
      for (const log of coreLogs()) {
        expect(log).not.toMatch(/skip connector-xiaomi-plus/);
      }
    });

    /** Ten reads of one expired token at once, on both cores: all answered by one refresh. */
    const tenReadsShareOneRefresh = async () => {
      try {
        const userToken = await expiredXiaomiToken();
        standIn.knobs.latencyMs = 800;
        const before = refreshes.length;
        const answers = await reads(userToken, 10);
        expect(answers.map(({ status }) => status)).toEqual(Array(10).fill(200));
        expect(new Set(answers.map(({ body }) => body.access_token)).size).toBe(1);
        expect(refreshes.length - before).toBe(1);
      } finally {
        standIn.reset();
      }
    };

    it('refreshes once for ten reads of one expired token at once, on both cores', async () => {
      await tenReadsShareOneRefresh();
    });

    it('answers every read spread across one refresh on both cores, with one Xiaomi refresh', async () => {
      try {
        const userToken = await expiredXiaomiToken();
        standIn.knobs.latencyMs = 600;
        const before = refreshes.length;
        const answers = await reads(userToken, 120, 10);
        expect(answers.map(({ status }) => status).filter((status) => status !== 200)).toEqual([]);
        expect(new Set(answers.map(({ body }) => body.access_token)).size).toBe(1);
        expect(refreshes.length - before).toBe(1);
      } finally {
        standIn.reset();
      }
    });

    it.runIf(mode === '1')(
      'keeps no token in Redis: hashed keys, sealed values, each with a time to live',
      async () => {
        const userToken = await expiredXiaomiToken();
        const [read] = await reads(userToken, 1);
        const redis = createClient({ url: logto.redisUrl });
        await redis.connect();
        try {
          const keys = await redis.keys('connector-xiaomi-plus:*');
          expect(keys.length).toBeGreaterThan(0);
          for (const key of keys) {
            expect(key).toMatch(/^connector-xiaomi-plus:refresh:\{[\w-]{43}\}:answer$/);
            const ttl = await redis.pTTL(key);
            expect(ttl).toBeGreaterThan(0);
            expect(ttl).toBeLessThanOrEqual(sharedRefreshTiming.claimMs);
            const value = (await redis.get(key)) ?? '';
            const last = refreshes.at(-1);
            const issued = JSON.parse(last?.body.replace('&&&START&&&', '') ?? '{}');
            for (const secret of [read?.body.access_token, last?.spent, issued.refresh_token]) {
              expect(typeof secret).toBe('string');
              expect(key).not.toContain(secret);
              expect(value).not.toContain(secret);
            }
          }
        } finally {
          await redis.quit();
        }
      },
    );

    it.runIf(mode === '1')(
      'answers every read, never 500, when Redis is stopped, and each core tells its log once',
      async () => {
        stopRedis(logto);
        const userToken = await expiredXiaomiToken();
        const started = performance.now();
        const [first] = await reads(userToken, 1);
        expect(first?.status).toBe(200);
        expect(performance.now() - started).toBeLessThan(2000);

        const another = await expiredXiaomiToken();
        standIn.knobs.latencyMs = 300;
        const answers = await reads(another, 10);
        standIn.reset();
        // Each core refreshes on its own, as a single Logto process does: reads on the core whose
        // refresh Xiaomi took get the new token, those on the other a clean 401 from Xiaomi's 96009.
        for (const { status, body } of answers) {
          expect([200, 401]).toContain(status);
          if (status === 401) {
            expect(body).toMatchObject({ data: { code: 96009 } });
          }
        }
        expect(answers.some(({ status }) => status === 200)).toBe(true);
        for (const log of coreLogs()) {
          expect(log.split(logNotes.redisAway.line)).toHaveLength(2);
        }
      },
    );

    it.runIf(mode === '1')(
      'shares refreshes again once Redis is back, and each core tells its log',
      async () => {
        await startRedisAgain(logto);
        // Both cores' connectors are connected again.
        await expect.poll(() => connectorClients(logto), { timeout: 10_000 }).toBe(2);
        await tenReadsShareOneRefresh();
        for (const log of coreLogs()) {
          expect(log).toContain(logNotes.redisBack.line);
        }
      },
    );

    it.runIf(mode === '1')(
      'answers every read, never 500, while Redis hangs, each of its calls cut short',
      async () => {
        const userToken = await expiredXiaomiToken();
        freezeRedis(logto, true);
        try {
          // Logto's own cache waits up to 1 s for each read of Redis and 5 s for each write, so
          // these reads are slow; the connector gives up on Redis after redisCallLimit and refreshes alone.
          const answers = await reads(userToken, 2);
          expect(answers.map(({ status }) => status).filter((status) => status === 500)).toEqual(
            [],
          );
          expect(answers.some(({ status }) => status === 200)).toBe(true);
          expect(coreLogs().join('\n')).toContain(logNotes.redisSlow.line);
        } finally {
          freezeRedis(logto, false);
        }
      },
    );
  });
});
