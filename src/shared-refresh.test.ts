import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError, ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it, vi } from 'vitest';
import { mockClientId, mockRefreshToken } from '../test/fixtures.js';
import { memoryStore } from '../test/memory-store.js';
import type { SharedStore } from './redis.js';
import { refreshShared, tokenId } from './shared-refresh.js';

const timing = { claimMs: 400, pollMs: 10 };
const keptMs = 1000;
const keepFor = () => keptMs;

let tokens = 0;
/** A refresh token no other test uses: the store keeps answers, as Redis does. */
const spentToken = () => {
  tokens += 1;
  return { clientId: mockClientId, refreshToken: `${mockRefreshToken}-shared-${tokens}` };
};

/** Xiaomi's refresh, slow enough for other processes to come while it runs. */
const xiaomiRefresh = (answer = { access_token: 'new-access', refresh_token: 'new-refresh' }) =>
  vi.fn(async () => {
    await sleep(50);
    return answer;
  });

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

describe('refreshShared', () => {
  it('asks Xiaomi once for processes that refresh one token at once, and gives each its answer', async () => {
    const { store } = memoryStore();
    const refresh = xiaomiRefresh();
    const answers = await processes(4, refresh, store);
    expect(refresh).toHaveBeenCalledTimes(1);
    expect(answers).toEqual(
      Array(4).fill({ access_token: 'new-access', refresh_token: 'new-refresh' }),
    );
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

  it('keeps the answer as long as keepFor says, and no longer', async () => {
    const { store, writes } = memoryStore();
    const token = spentToken();
    const refresh = xiaomiRefresh();
    await refreshShared(store, token, refresh, () => 30, timing);
    expect(writes.find(({ key }) => key.endsWith(':answer'))).toMatchObject({ ttlMs: 30 });
    await sleep(60);
    await refreshShared(store, token, refresh, () => 30, timing);
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it('keeps nothing when keepFor says 0', async () => {
    const { store, writes } = memoryStore();
    await refreshShared(store, spentToken(), xiaomiRefresh(), () => 0, timing);
    expect(writes.map(({ key }) => key.split(':').at(-1))).toEqual(['claim']);
  });

  it('gives the processes that waited the failure of the one that asked, and asks again later', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const refused = new ConnectorError(ConnectorErrorCodes.SocialAccessTokenInvalid, {
      reason: 'xiaomi_error',
      code: 96009,
    });
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
        reason: { code: ConnectorErrorCodes.SocialAccessTokenInvalid, data: { code: 96009 } },
      });
    }
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
    await expect(waiting).resolves.toMatchObject({ access_token: 'new-access' });
    expect(performance.now() - started).toBeLessThan(timing.claimMs / 2);
  });

  it('gives a waiting process the outcome of the round it waited for, not an earlier failure', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const refused = new ConnectorError(ConnectorErrorCodes.General, { reason: 'network' });
    await expect(
      refreshShared(store, token, () => Promise.reject(refused), keepFor, timing),
    ).rejects.toBe(refused);
    // The next round, with a process waiting on it while the failure of the first is still kept.
    const next = refreshShared(store, token, xiaomiRefresh(), keepFor, timing);
    await sleep(5);
    const waiting = refreshShared(store, token, vi.fn(), keepFor, timing);
    await expect(next).resolves.toMatchObject({ access_token: 'new-access' });
    await expect(waiting).resolves.toMatchObject({ access_token: 'new-access' });
  });

  it('lets another process ask at once after a fault of its own, and tells no one of it', async () => {
    const { store, writes } = memoryStore();
    const token = spentToken();
    const bug = new TypeError('not a ConnectorError');
    await expect(
      refreshShared(store, token, () => Promise.reject(bug), keepFor, timing),
    ).rejects.toBe(bug);
    expect(writes.map(({ key }) => key.split(':').at(-1))).toEqual(['claim']);
    const refresh = xiaomiRefresh();
    await refreshShared(store, token, refresh, keepFor, timing);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('lets one waiting process take over from one that died holding the claim, once the claim lapses', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    const dying = vi.fn(() => new Promise<never>(() => undefined));
    void refreshShared(store, token, dying, keepFor, timing);
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
    await expect(refreshShared(stuck, token, refresh, keepFor, timing)).resolves.toMatchObject({
      access_token: 'new-access',
    });
    expect(refresh).toHaveBeenCalledTimes(1);
    const waited = performance.now() - started;
    expect(waited).toBeGreaterThanOrEqual(3 * timing.claimMs - 30);
    expect(waited).toBeLessThan(4 * timing.claimMs);
  });

  it('claims for as long as one request to Xiaomi may take', async () => {
    const { store, writes } = memoryStore();
    await refreshShared(store, spentToken(), xiaomiRefresh(), keepFor, timing);
    expect(writes.find(({ key }) => key.endsWith(':claim'))).toMatchObject({
      ttlMs: timing.claimMs,
    });
  });

  it('refreshes on its own when Redis fails before Xiaomi was asked', async () => {
    const failing: SharedStore = {
      read: async () => {
        throw new Error('ECONNREFUSED');
      },
      claim: async () => true,
      write: async () => undefined,
      release: async () => undefined,
    };
    const refresh = xiaomiRefresh();
    await expect(
      refreshShared(failing, spentToken(), refresh, keepFor, timing),
    ).resolves.toMatchObject({ access_token: 'new-access' });
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('never asks Xiaomi again when Redis fails after Xiaomi answered', async () => {
    const { store } = memoryStore();
    const refresh = xiaomiRefresh();
    const failingWrites = { ...store, write: () => Promise.reject(new Error('timeout')) };
    await expect(
      refreshShared(failingWrites, spentToken(), refresh, keepFor, timing),
    ).resolves.toMatchObject({ access_token: 'new-access' });
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('refreshes on its own when what Redis holds does not open', async () => {
    const { store } = memoryStore();
    const token = spentToken();
    await store.write(`connector-xiaomi-plus:refresh:{${tokenId(token)}}:answer`, 'garbage', 1000);
    const refresh = xiaomiRefresh();
    await expect(refreshShared(store, token, refresh, keepFor, timing)).resolves.toMatchObject({
      access_token: 'new-access',
    });
  });

  it('stores no token: keys carry a hash, values are sealed with the spent token, all expire', async () => {
    const { store, writes, keys } = memoryStore();
    const token = spentToken();
    await refreshShared(store, token, xiaomiRefresh(), keepFor, timing);
    const stored = JSON.stringify({ writes, keys: keys() });
    for (const secret of [token.refreshToken, 'new-access', 'new-refresh']) {
      expect(stored).not.toContain(secret);
    }
    expect(
      keys().every((key) => key.startsWith(`connector-xiaomi-plus:refresh:{${tokenId(token)}}:`)),
    ).toBe(true);
    expect(
      writes.every(({ ttlMs }) => ttlMs > 0 && ttlMs <= Math.max(keptMs, timing.claimMs)),
    ).toBe(true);

    // Another token of the same app, even one that names the same keys, cannot open the answer.
    const other = { ...token, refreshToken: `${token.refreshToken}-other` };
    const answer = writes.find(({ key }) => key.endsWith(':answer'))?.value ?? '';
    const forged = `connector-xiaomi-plus:refresh:{${tokenId(other)}}:answer`;
    await store.write(forged, answer, 1000);
    const refresh = xiaomiRefresh({ access_token: 'own', refresh_token: 'own-refresh' });
    await expect(refreshShared(store, other, refresh, keepFor, timing)).resolves.toMatchObject({
      access_token: 'own',
    });
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
