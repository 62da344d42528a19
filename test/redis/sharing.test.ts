/**
 * One refresh per token across Logto's cores, on a real Redis doing what admins' Redis does: a
 * process per core (the built package, REDIS_URL), a strict Xiaomi stand-in whose refresh tokens
 * work once and answer 300 ms late, and Redis late, stalled, stopped, clustered, restricted or
 * closing idle connections. Each case: every reader served, Xiaomi asked once, and Logto's log
 * told the truth.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Core, type CoreOutcome, startCore } from '../../harness/cores.js';
import { freePort } from '../../harness/free-port.js';
import { authorizationRequest, createThroughLogto } from '../../harness/logto-loader.js';
import {
  ensureRedisServer,
  type RedisServer,
  startRedis,
  startRedisCluster,
} from '../../harness/redis-servers.js';
import { routeXiaomiTo } from '../../harness/route-xiaomi.js';
import { authorizeAs } from '../../harness/xiaomi-browser.js';
import {
  demoApp,
  seededUsers,
  startXiaomiStandIn,
  type XiaomiStandIn,
} from '../../harness/xiaomi-stand-in.js';
import { redisReconnectMs, timeLimits } from '../../src/constant.js';
import { logNotes } from '../../src/errors.js';

const config = { clientId: demoApp.clientId, clientSecret: demoApp.clientSecret, scope: '1' };
const redirectUri = demoApp.redirectUris[0] ?? '';

let standIn: XiaomiStandIn;
let unroute: () => Promise<void>;

beforeAll(async () => {
  await ensureRedisServer();
  standIn = await startXiaomiStandIn({ users: seededUsers });
  unroute = routeXiaomiTo(standIn.origin);
}, 120_000);

afterAll(async () => {
  await unroute?.();
  await standIn?.close();
});

afterEach(() => {
  standIn.reset();
});

/** A sign-in through this process: the refresh token Logto would store. */
const storedRefreshToken = async () => {
  const connector = await createThroughLogto({ ...config, skipConfirm: true });
  const uri = await connector.getAuthorizationUri(
    { ...authorizationRequest, redirectUri },
    async () => undefined,
  );
  const { callback } = await authorizeAs(uri);
  const { tokenResponse } = await connector.getTokenResponseAndUserInfo(
    { ...callback, redirectUri },
    async () => ({}),
  );
  return tokenResponse?.refresh_token ?? '';
};

const startCores = (redisUrl: string, count = 2) =>
  Promise.all(Array.from({ length: count }, () => startCore(redisUrl, standIn.origin, config)));

type Faults = {
  /** How late Xiaomi answers each refresh. */
  latencyMs?: number;
  /** What Redis or a core does before the first reader reads. */
  before?: () => Promise<unknown>;
  /** What Redis or a core does once the first reader has asked (it goes on while others ask). */
  afterFirst?: () => Promise<unknown>;
};

/**
 * Xiaomi's refreshes and what each reader got, for `readers` reads of one stored token spread
 * over the cores, 20 ms apart, with `faults` on the way.
 */
const readAcross = async (
  cores: Core[],
  readers: number,
  { latencyMs = 300, before, afterFirst }: Faults = {},
) => {
  const stored = await storedRefreshToken();
  const asked = standIn.requestsTo('/oauth2/token');
  standIn.knobs.latencyMs = latencyMs;
  await before?.();
  const reads: Promise<CoreOutcome>[] = [];
  let fault: Promise<unknown> = Promise.resolve();
  for (let reader = 0; reader < readers; reader += 1) {
    reads.push((cores[reader % cores.length] as Core).refresh(stored));
    if (reader === 0 && afterFirst) {
      fault = afterFirst();
    }
    await sleep(20);
  }
  const outcomes = await Promise.all(reads);
  await fault;
  return {
    xiaomiAsked: standIn.requestsTo('/oauth2/token') - asked,
    served: outcomes.filter(({ ok }) => ok).length,
    accessTokens: new Set(outcomes.map((outcome) => (outcome.ok ? outcome.accessToken : ''))),
    refused: outcomes.filter((outcome) => !outcome.ok),
  };
};

const servedOnce = (readers: number) => ({
  xiaomiAsked: 1,
  served: readers,
  refused: [],
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stopAll = async (cores: Core[]) => {
  await Promise.all(cores.map((core) => core.stop()));
};

describe('one Redis', () => {
  let redis: RedisServer;
  let cores: Core[];

  beforeAll(async () => {
    redis = await startRedis();
    cores = await startCores(`redis://127.0.0.1:${redis.port}`);
  }, 60_000);

  afterAll(async () => {
    await stopAll(cores ?? []);
    await redis?.stop();
  });

  it('serves every reader with one refresh when nothing unusual happens', async () => {
    const outcome = await readAcross(cores, 10);
    expect(outcome).toMatchObject(servedOnce(10));
    expect(outcome.accessTokens.size).toBe(1);
  });

  it('serves every reader with one refresh while Redis holds writes 500 ms, as in a failover', async () => {
    const outcome = await readAcross(cores, 4, {
      // The first core's claim lands, but its reply comes after the core gave up on it.
      before: () => redis.cli('CLIENT', 'PAUSE', '500', 'WRITE'),
    });
    expect(outcome).toMatchObject(servedOnce(4));
  });

  it('serves every reader with one refresh when Redis stalls 400 ms while one core asks Xiaomi', async () => {
    const outcome = await readAcross(cores, 4, {
      afterFirst: async () => {
        await sleep(60);
        await redis.cli('CLIENT', 'PAUSE', '400', 'ALL');
      },
    });
    expect(outcome).toMatchObject(servedOnce(4));
  });

  it('serves every reader with one refresh when the core asking Xiaomi stands still 5 s as Xiaomi answers', async () => {
    const [first] = cores as [Core, Core];
    // Xiaomi answers just within an attempt's time, while the core is stopped (a long garbage
    // collection); it tells after the moment a claim of one request would have lapsed.
    const outcome = await readAcross(cores, 3, {
      latencyMs: timeLimits.attempt - 500,
      afterFirst: async () => {
        await sleep(timeLimits.attempt - 450);
        first.process.kill('SIGSTOP');
        await sleep(5000);
        first.process.kill('SIGCONT');
      },
    });
    expect(outcome).toMatchObject(servedOnce(3));
  }, 30_000);

  it('says nothing of an outage when Redis closes idle connections', async () => {
    await redis.cli('CONFIG', 'SET', 'timeout', '1');
    try {
      await sleep(2500);
      expect(await readAcross(cores, 4)).toMatchObject(servedOnce(4));
      await sleep(2500);
      expect(await readAcross(cores, 4)).toMatchObject(servedOnce(4));
      for (const core of cores) {
        expect(core.log()).not.toContain(logNotes.redisAway.line);
      }
    } finally {
      await redis.cli('CONFIG', 'SET', 'timeout', '0');
    }
  });

  it('never said Redis could not be reached; a slow Redis was told once, in its own words', () => {
    for (const core of cores) {
      expect(core.log()).not.toContain(logNotes.redisAway.line);
      expect(core.log().split(logNotes.redisSlow.line).length).toBeLessThanOrEqual(2);
    }
  });
});

describe('a Redis user whose ACL forbids scripts', () => {
  it('serves every reader with one refresh, and says once that Redis refused the release', async () => {
    const redis = await startRedis();
    await redis.cli('ACL', 'SETUSER', 'connector', 'on', '>s3cret', '~*', '+@all', '-@scripting');
    const cores = await startCores(`redis://connector:s3cret@127.0.0.1:${redis.port}`);
    try {
      expect(await readAcross(cores, 4)).toMatchObject(servedOnce(4));
      expect(await readAcross(cores, 4)).toMatchObject(servedOnce(4));
      const logs = cores.map((core) => core.log()).join('');
      expect(logs).toContain(`${logNotes.redisRefused.line} (NOPERM`);
      for (const core of cores) {
        expect(core.log().split(logNotes.redisRefused.line).length).toBeLessThanOrEqual(2);
        expect(core.log()).not.toContain(logNotes.redisAway.line);
      }
    } finally {
      await stopAll(cores);
      await redis.stop();
    }
  }, 60_000);
});

describe('a Redis Cluster of three masters and three replicas', () => {
  it('serves every reader with one refresh while its replicas lag', async () => {
    const cluster = await startRedisCluster();
    const cores = await startCores(cluster.url);
    try {
      await Promise.all(
        cluster.replicas.map((replica) => replica.cli('CLIENT', 'PAUSE', '60000', 'WRITE')),
      );
      for (let round = 0; round < 3; round += 1) {
        expect(await readAcross(cores, 6)).toMatchObject(servedOnce(6));
      }
      // Claims and answers are read from the masters only.
      for (const replica of cluster.replicas) {
        expect(await replica.cli('INFO', 'commandstats')).not.toContain('cmdstat_mget');
      }
    } finally {
      await stopAll(cores);
      await cluster.stop();
    }
  }, 120_000);

  it('is used again once it answers, when it could not be reached at a core’s first refresh', async () => {
    const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
    const [first, ...rest] = ports.slice(0, 3);
    const url = `redis://127.0.0.1:${first}?cluster=1${rest.map((port) => `&host=127.0.0.1:${port}`).join('')}`;
    const cores = await startCores(url);
    try {
      // Each core refreshes a token of its own without Redis, and says Redis cannot be reached.
      for (const core of cores) {
        await expect(core.refresh(await storedRefreshToken())).resolves.toMatchObject({ ok: true });
        expect(core.log()).toContain(logNotes.redisAway.line);
      }
      const cluster = await startRedisCluster(ports);
      try {
        await sleep(redisReconnectMs + 500);
        expect(await readAcross(cores, 6)).toMatchObject(servedOnce(6));
        for (const core of cores) {
          expect(core.log()).toContain(logNotes.redisBack.line);
        }
      } finally {
        await cluster.stop();
      }
    } finally {
      await stopAll(cores);
    }
  }, 120_000);
});
