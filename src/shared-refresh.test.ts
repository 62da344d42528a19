import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError, ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it, vi } from 'vitest';
import { mockClientId, mockClientSecret, mockRefreshToken } from '../test/fixtures.js';
import { memoryStore } from '../test/memory-store.js';
import { xiaomiError } from './errors.js';
import { type SharedStore, UnknownOutcome } from './redis.js';
import { refreshShared, tokenId } from './shared-refresh.js';

/** A claim's life and the polls, short: each call of `refreshShared` plays a Logto process. */
const timing = { claimMs: 400, pollMs: 10, landMs: 100 };
const keptMs = 1000;
const keepFor = () => keptMs;

let tokens = 0;
/** A refresh token no other test uses: the store keeps answers, as Redis does. */
const spentToken = () => {
  tokens += 1;
  return {
    clientId: mockClientId,
    clientSecret: mockClientSecret,
    refreshToken: `${mockRefreshToken}-shared-${tokens}`,
  };
};

const newTokens = { access_token: 'new-access', refresh_token: 'new-refresh' };

/** Xiaomi's refresh, slow enough for other processes to come while it runs. */
const xiaomiRefresh = (answer = newTokens) =>
  vi.fn(async () => {
    await sleep(50);
    return answer;
  });

/** Xiaomi as it is: the first refresh of a token gets new tokens, any later one 96009. */
const strictXiaomi = () => {
  let spent = false;
  return vi.fn(async () => {
    await sleep(50);
    if (spent) {
      throw xiaomiError({ code: 96009, description: 'refresh token used' });
    }
    spent = true;
    return newTokens;
  });
};

const keyOf = (token: { clientId: string; refreshToken: string }, role: string) =>
  `connector-xiaomi-plus:refresh:{${tokenId(token)}}:${role}`;

/** `count` Logto processes refreshing the same token at once, each its own call. */
const processes = <T>(
  count: number,
  refresh: () => Promise<T>,
  store: SharedStore,
  token = spentToken(),
) =>
  Promise.all(
    Array.from({ length: count }, () => refreshShared(store, token, refresh, keepFor, timing)),
  );

/** A Redis that cannot be reached: every call fails at once. */
const refusedConnection = () => Promise.reject(new Error('ECONNREFUSED'));
const redisAway: SharedStore = {
  read: refusedConnection,
  claim: refusedConnection,
  write: refusedConnection,
  release: refusedConnection,
};

/** A Redis that takes no claim: it is never sent (a lost connection). */
const unsentClaims = (store: SharedStore): SharedStore => ({
  ...store,
  claim: () => Promise.reject(new Error('offline')),
});

/** A Redis that answers no claim in time, and never carries one out. */
const unansweredClaims = (store: SharedStore): SharedStore => ({
  ...store,
  claim: () => Promise.reject(new UnknownOutcome()),
});

/** Xiaomi refusing a refresh token that was used, revoked or expired. */
const revokedToken = () => vi.fn(() => Promise.reject(xiaomiError({ code: 96009 })));

/** A Redis whose claim lands, but whose reply comes too late: the caller sees a failure. */
const lateClaims = (store: SharedStore): SharedStore => ({
  ...store,
  claim: async (key, value, ttlMs) => {
    await store.claim(key, value, ttlMs);
    throw new UnknownOutcome();
  },
});

describe('refreshShared', () => {
  it('asks Xiaomi once for processes that refresh one token at once, and gives each its answer', async () => {
    const { store } = memoryStore();
    const refresh = xiaomiRefresh();
    const answers = await processes(4, refresh, store);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(answers).toEqual(Array(4).fill(newTokens));
  });

  it('gives a process that presents the spent token within the grace the same answer', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const refresh = xiaomiRefresh();
    const first = await refreshShared(store, token, refresh, keepFor, timing);
    await sleep(100);
    await expect(refreshShared(store, token, refresh, keepFor, timing)).resolves.toEqual(first);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('keeps the answer as long as keepFor says, when that is longer than a claim lives', async () => {
    const { store, writes } = memoryStore();
    await refreshShared(store, spentToken(), xiaomiRefresh(), keepFor, timing);
    await vi.waitFor(() =>
      expect(writes.find(({ key }) => key.endsWith(':answer'))).toMatchObject({ ttlMs: keptMs }),
    );
  });

  it.each([
    ['0', 0],
    ['negative', -5000],
    ['shorter than a claim', 30],
  ])(
    'keeps the answer a claim’s life when keepFor is %s: anyone waiting may want it',
    async (_, ms) => {
      const { store, writes } = memoryStore();
      const token = spentToken();
      const refresh = xiaomiRefresh();
      await refreshShared(store, token, refresh, () => ms, timing);
      await vi.waitFor(() =>
        expect(writes.find(({ key }) => key.endsWith(':answer'))).toMatchObject({
          ttlMs: timing.claimMs,
        }),
      );
      await expect(refreshShared(store, token, refresh, () => ms, timing)).resolves.toEqual(
        newTokens,
      );
      expect(refresh).toHaveBeenCalledTimes(1);
    },
  );

  it('gives the processes that waited the failure of the one that asked, and asks again later', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const refused = new ConnectorError(ConnectorErrorCodes.General, { reason: 'network' });
    const refresh = vi.fn(async () => {
      await sleep(50);
      throw refused;
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 3 }, () => refreshShared(store, token, refresh, keepFor, timing)),
    );
    expect(refresh).toHaveBeenCalledTimes(1);
    for (const outcome of outcomes) {
      expect(outcome).toMatchObject({
        status: 'rejected',
        reason: { code: ConnectorErrorCodes.General, data: { reason: 'network' } },
      });
    }
    await vi.waitFor(async () => expect(await store.read([keyOf(token, 'claim')])).toEqual([null]));
    await expect(refreshShared(store, token, refresh, keepFor, timing)).rejects.toBe(refused);
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it('lets a waiting process ask at once when the one asking ends without an outcome to tell', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const bug = new TypeError('not a ConnectorError');
    const failing = refreshShared(
      store,
      token,
      async () => {
        await sleep(50);
        throw bug;
      },
      keepFor,
      timing,
    );
    await sleep(5);
    const refresh = xiaomiRefresh();
    const started = performance.now();
    const waiting = refreshShared(store, token, refresh, keepFor, timing);
    await expect(failing).rejects.toBe(bug);
    await expect(waiting).resolves.toEqual(newTokens);
    expect(performance.now() - started).toBeLessThan(timing.claimMs / 2);
  });

  it('gives a waiting process the outcome of the round it waited for, not an earlier failure', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const refused = new ConnectorError(ConnectorErrorCodes.General, { reason: 'network' });
    await expect(
      refreshShared(store, token, () => Promise.reject(refused), keepFor, timing),
    ).rejects.toBe(refused);
    await vi.waitFor(async () => expect(await store.read([keyOf(token, 'claim')])).toEqual([null]));
    // The next round, with a process waiting on it while the failure of the first is still kept.
    const next = refreshShared(store, token, xiaomiRefresh(), keepFor, timing);
    await sleep(5);
    const waiting = refreshShared(store, token, vi.fn(), keepFor, timing);
    await expect(next).resolves.toEqual(newTokens);
    await expect(waiting).resolves.toEqual(newTokens);
  });

  it('lets one waiting process take over from one that died holding the claim, once the claim lapses', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    void refreshShared(store, token, () => new Promise<never>(() => undefined), keepFor, timing);
    await sleep(5);
    const refresh = xiaomiRefresh();
    const started = performance.now();
    const answers = await processes(3, refresh, store, token);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(new Set(answers.map((answer) => JSON.stringify(answer))).size).toBe(1);
    expect(performance.now() - started).toBeGreaterThanOrEqual(timing.claimMs - 20);
  });

  it('refreshes on its own after waiting three times for a claim that does not lapse', async () => {
    const { store } = memoryStore();
    const stuck: SharedStore = { ...store, claim: (key, value) => store.claim(key, value, 60_000) };
    const token = spentToken();
    void refreshShared(stuck, token, () => new Promise<never>(() => undefined), keepFor, timing);
    await sleep(5);
    const refresh = xiaomiRefresh();
    const started = performance.now();
    await expect(refreshShared(stuck, token, refresh, keepFor, timing)).resolves.toEqual(newTokens);
    expect(refresh).toHaveBeenCalledTimes(1);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(3 * timing.claimMs - 30);
    expect(waited).toBeLessThan(4 * timing.claimMs);
  });

  it('claims for as long as a claim lives', async () => {
    const { store, writes } = memoryStore();
    await refreshShared(store, spentToken(), xiaomiRefresh(), keepFor, timing);
    expect(writes.find(({ key }) => key.endsWith(':claim'))).toMatchObject({
      ttlMs: timing.claimMs,
    });
  });

  it('refreshes on its own when Redis fails before Xiaomi was asked', async () => {
    const refresh = xiaomiRefresh();
    await expect(refreshShared(redisAway, spentToken(), refresh, keepFor, timing)).resolves.toEqual(
      newTokens,
    );
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('never asks Xiaomi again, nor holds its reader, when Redis fails after Xiaomi answered', async () => {
    const { store } = memoryStore();
    const refresh = xiaomiRefresh();
    const hungWrites = { ...store, write: () => new Promise<never>(() => undefined) };
    const started = performance.now();
    await expect(
      refreshShared(hungWrites, spentToken(), refresh, keepFor, timing),
    ).resolves.toEqual(newTokens);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(performance.now() - started).toBeLessThan(timing.claimMs / 2);
  });

  it('writes the answer once when Redis takes it, and releases the claim at once', async () => {
    const { store, writes, keys } = memoryStore();
    const token = spentToken();
    await refreshShared(store, token, xiaomiRefresh(), keepFor, timing);
    await sleep(20);
    expect(writes.filter(({ key }) => key.endsWith(':answer'))).toHaveLength(1);
    expect(keys()).toEqual([keyOf(token, 'answer')]);
  });

  it('writes an answer Redis keeps refusing with waits that double, for a claim’s life, then releases', async () => {
    const { store, keys } = memoryStore();
    const token = spentToken();
    let attempts = 0;
    const refusing: SharedStore = {
      ...store,
      write: () => {
        attempts += 1;
        return Promise.reject(new Error('OOM'));
      },
    };
    await refreshShared(refusing, token, xiaomiRefresh(), keepFor, timing);
    // Tried at once, after 100 ms and after 300 ms; 700 ms would be past the claim's 400 ms.
    await vi.waitFor(() => expect(keys()).toEqual([]), { timeout: timing.claimMs + 300 });
    expect(attempts).toBe(3);
  });

  it('writes the answer again until Redis takes it, then releases the claim', async () => {
    const { store, keys } = memoryStore();
    const token = spentToken();
    let refusals = 2;
    const flaky: SharedStore = {
      ...store,
      write: (key, value, ttlMs) =>
        refusals-- > 0 ? Promise.reject(new Error('OOM')) : store.write(key, value, ttlMs),
    };
    await refreshShared(flaky, token, xiaomiRefresh(), keepFor, timing);
    await vi.waitFor(() => expect(keys()).toEqual([keyOf(token, 'answer')]), { timeout: 1000 });
  });

  it('ignores what does not open: garbage, another key’s value, another app’s secret', async () => {
    const { store, writes } = memoryStore();
    const token = spentToken();
    await refreshShared(
      store,
      token,
      () => Promise.reject(new ConnectorError(ConnectorErrorCodes.General, { reason: 'network' })),
      keepFor,
      timing,
    ).catch(() => undefined);
    const failure = await vi.waitFor(() => {
      const written = writes.find(({ key }) => key.includes(':failed:'));
      expect(written).toBeDefined();
      return written?.value ?? '';
    });
    for (const forged of ['garbage', failure]) {
      // Once the last round has told and released, Redis holds only the forged answer.
      await vi.waitFor(async () =>
        expect(await store.read([keyOf(token, 'claim')])).toEqual([null]),
      );
      await store.write(keyOf(token, 'answer'), forged, 1000);
      const refresh = xiaomiRefresh();
      await expect(refreshShared(store, token, refresh, keepFor, timing)).resolves.toEqual(
        newTokens,
      );
      expect(refresh).toHaveBeenCalledTimes(1);
    }

    // The same token under another AppSecret: the answer Redis holds does not open.
    const answered = spentToken();
    await refreshShared(store, answered, xiaomiRefresh(), keepFor, timing);
    await vi.waitFor(() =>
      expect(writes.some(({ key }) => key === keyOf(answered, 'answer'))).toBe(true),
    );
    const refresh = xiaomiRefresh({ access_token: 'own', refresh_token: 'own-refresh' });
    await expect(
      refreshShared(store, { ...answered, clientSecret: 'another' }, refresh, keepFor, timing),
    ).resolves.toMatchObject({ access_token: 'own' });
  });

  it('stores no token: keys carry a hash, values are sealed, all expire', async () => {
    const { store, writes, keys } = memoryStore();
    const token = spentToken();
    await refreshShared(store, token, xiaomiRefresh(), keepFor, timing);
    await vi.waitFor(() => expect(writes).toHaveLength(2));
    const stored = JSON.stringify({ writes, keys: keys() });
    for (const secret of [token.refreshToken, token.clientSecret, 'new-access', 'new-refresh']) {
      expect(stored).not.toContain(secret);
    }
    expect(keys().every((key) => key.startsWith(keyOf(token, '')))).toBe(true);
    expect(
      writes.every(({ ttlMs }) => ttlMs > 0 && ttlMs <= Math.max(keptMs, timing.claimMs)),
    ).toBe(true);
  });
});

describe('refreshShared when Redis is late, slow or away', () => {
  it('a claim whose reply came late still tells its answer, and the next process takes it', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const xiaomi = strictXiaomi();
    const first = refreshShared(lateClaims(store), token, xiaomi, keepFor, timing);
    await sleep(5);
    const second = refreshShared(lateClaims(store), token, xiaomi, keepFor, timing);
    await expect(Promise.all([first, second])).resolves.toEqual([newTokens, newTokens]);
    expect(xiaomi).toHaveBeenCalledTimes(1);
  });

  it('takes the answer of another process after Xiaomi’s 96009, when its own claim went unanswered', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const xiaomi = strictXiaomi();
    // Redis takes no claims: each process refreshes without one, and the second finds the token spent.
    const silent = unansweredClaims(store);
    const outcomes = await Promise.all([
      refreshShared(silent, token, xiaomi, keepFor, timing),
      refreshShared(silent, token, xiaomi, keepFor, timing),
    ]);
    expect(outcomes).toEqual([newTokens, newTokens]);
    expect(xiaomi).toHaveBeenCalledTimes(2);
  });

  it('waits out its reads failing while another process asks Xiaomi, then takes its answer', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const xiaomi = strictXiaomi();
    const first = refreshShared(store, token, xiaomi, keepFor, timing);
    await sleep(5);
    // The second process sees the first one's claim; then Redis stalls past Xiaomi's answer.
    let reads = 0;
    let stalled = true;
    setTimeout(() => {
      stalled = false;
    }, 150);
    const stalling: SharedStore = {
      ...store,
      read: (keys) =>
        reads++ > 0 && stalled ? Promise.reject(new Error('timeout')) : store.read(keys),
    };
    const second = refreshShared(stalling, token, xiaomi, keepFor, timing);
    await expect(Promise.all([first, second])).resolves.toEqual([newTokens, newTokens]);
    expect(xiaomi).toHaveBeenCalledTimes(1);
    expect(reads).toBeGreaterThan(2);
  });

  it('holds a claim that landed late as its own: a revoked token is refused at once', async () => {
    const { store } = memoryStore();
    // The claim lands 30 ms after its reply failed to come, as when Redis held writes a moment.
    const landingLate: SharedStore = {
      ...store,
      claim: (key, value, ttlMs) => {
        setTimeout(() => void store.claim(key, value, ttlMs), 30);
        return Promise.reject(new UnknownOutcome());
      },
    };
    const revoked = revokedToken();
    const started = performance.now();
    await expect(
      refreshShared(landingLate, spentToken(), revoked, keepFor, { ...timing, landMs: 300 }),
    ).rejects.toMatchObject({ data: { code: 96009 } });
    expect(performance.now() - started).toBeLessThan(timing.claimMs / 2);
  });

  it('takes an answer that shows while it looks for a claim whose reply did not come', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const xiaomi = strictXiaomi();
    const outcomes = await Promise.all([
      refreshShared(unsentClaims(store), token, xiaomi, keepFor, timing),
      refreshShared(unansweredClaims(store), token, xiaomi, keepFor, { ...timing, landMs: 300 }),
    ]);
    expect(outcomes).toEqual([newTokens, newTokens]);
    expect(xiaomi).toHaveBeenCalledTimes(1);
  });

  it('waits for the process whose claim landed where its own late one did not', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const xiaomi = strictXiaomi();
    // The first process's claim gets no reply in time and never lands; the second claims meanwhile.
    const slowlyUnanswered: SharedStore = {
      ...store,
      claim: async () => {
        await sleep(20);
        throw new UnknownOutcome();
      },
    };
    const first = refreshShared(slowlyUnanswered, token, xiaomi, keepFor, {
      ...timing,
      landMs: 300,
    });
    await sleep(5);
    const second = refreshShared(store, token, xiaomi, keepFor, timing);
    await expect(Promise.all([first, second])).resolves.toEqual([newTokens, newTokens]);
    expect(xiaomi).toHaveBeenCalledTimes(1);
  });

  it('goes on without Redis at once when a claim could not be sent', async () => {
    const refresh = xiaomiRefresh();
    const started = performance.now();
    await refreshShared(redisAway, spentToken(), refresh, keepFor, { ...timing, landMs: 1000 });
    expect(performance.now() - started).toBeLessThan(500);
  });

  it.each([
    ['a network failure', new ConnectorError(ConnectorErrorCodes.General, { reason: 'network' })],
    ['another Xiaomi error', xiaomiError({ code: 96003 })],
  ])('fails at once after %s, whoever else may be refreshing', async (_, failure) => {
    const started = performance.now();
    await expect(
      refreshShared(redisAway, spentToken(), () => Promise.reject(failure), keepFor, timing),
    ).rejects.toBe(failure);
    expect(performance.now() - started).toBeLessThan(timing.claimMs / 2);
  });

  it('takes the answer of a process that refreshed without a claim, when its own claim met 96009', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const xiaomi = strictXiaomi();
    // The first process reaches no claim; the second claims, and reaches Xiaomi 30 ms later.
    const later = async () => {
      await sleep(30);
      return xiaomi();
    };
    const outcomes = await Promise.all([
      refreshShared(unsentClaims(store), token, xiaomi, keepFor, timing),
      refreshShared(store, token, later, keepFor, timing),
    ]);
    expect(outcomes).toEqual([newTokens, newTokens]);
  });

  it('refuses at once a token that no one else was refreshing', async () => {
    const { store } = memoryStore();
    const revoked = revokedToken();
    const started = performance.now();
    await expect(
      refreshShared(store, spentToken(), revoked, keepFor, timing),
    ).rejects.toMatchObject({
      code: ConnectorErrorCodes.SocialAccessTokenInvalid,
      data: { reason: 'xiaomi_error', code: 96009 },
    });
    expect(performance.now() - started).toBeLessThan(timing.claimMs / 2);
  });

  it('gives up waiting for another’s answer after a claim’s life, with Xiaomi’s refusal', async () => {
    const revoked = revokedToken();
    const started = performance.now();
    await expect(
      refreshShared(redisAway, spentToken(), revoked, keepFor, timing),
    ).rejects.toMatchObject({ data: { code: 96009 } });
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(timing.claimMs - 20);
    expect(waited).toBeLessThan(2 * timing.claimMs);
  });
});

describe('tokenId', () => {
  it('tells tokens and apps apart, and gives the same id for the same token', () => {
    const token = spentToken();
    expect(tokenId(token)).toBe(tokenId({ ...token }));
    expect(tokenId(token)).not.toBe(tokenId({ ...token, refreshToken: `${token.refreshToken}x` }));
    expect(tokenId(token)).not.toBe(tokenId({ ...token, clientId: `${token.clientId}1` }));
    expect(tokenId(token)).not.toContain(token.refreshToken);
  });
});
