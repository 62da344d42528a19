/**
 * One refresh per stored token across Logto processes that share Logto's Redis: the process that
 * claims a token's refresh asks Xiaomi; the others wait for its outcome and take it; for the
 * grace after a success, any process that presents the spent token gets the same answer. Redis
 * holds no usable secret: keys carry a hash of the token, values are sealed with a key derived
 * from the token itself, so only a holder of the spent token can read them, and all expire.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHash,
  hkdfSync,
  randomBytes,
  randomUUID,
} from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectorError, type ConnectorErrorCodes } from '@logto/connector-kit';
import { redisCallLimit, timeLimits } from './constant.js';
import { type SharedStore, sharedStore } from './redis.js';

/** The token whose refresh is shared, and the app it belongs to. */
export type SpentToken = { clientId: string; refreshToken: string };

/** How long a claim lasts: a process that dies holding one blocks the others no longer. */
export type Timing = { claimMs: number; pollMs: number };

/** A hash of the token: what names it in memory and in Redis, never the token itself. */
export const tokenId = ({ clientId, refreshToken }: SpentToken) =>
  createHash('sha256').update(`${clientId}\n${refreshToken}`).digest('base64url');

/** Redis keys of one token; the braces keep them in one slot of a Redis cluster. */
const keysOf = (id: string) => {
  const base = `connector-xiaomi-plus:refresh:{${id}}`;
  return {
    answer: `${base}:answer`,
    claim: `${base}:claim`,
    failure: (round: string) => `${base}:failed:${round}`,
  };
};

/** Thrown when Redis fails before Xiaomi was asked: the process then refreshes on its own. */
class StoreUnavailable extends Error {}

/** Seals and opens values with a key that only the spent token yields (AES-256-GCM). */
const sealerOf = ({ clientId, refreshToken }: SpentToken) => {
  const key = Buffer.from(
    hkdfSync('sha256', refreshToken, clientId, 'connector-xiaomi-plus refresh outcome', 32),
  );
  return {
    seal: (value: unknown) => {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const sealed = Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    },
    /** What `seal` sealed; a value that does not open counts as Redis failing. */
    open: (text: string): unknown => {
      try {
        const bytes = Buffer.from(text, 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12));
        decipher.setAuthTag(bytes.subarray(12, 28));
        return JSON.parse(
          Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString(),
        );
      } catch {
        throw new StoreUnavailable();
      }
    },
  };
};

type SharedFailure = { code: ConnectorErrorCodes; data: unknown };

const fromStore = async <T>(call: Promise<T>) => {
  try {
    return await call;
  } catch {
    throw new StoreUnavailable();
  }
};

/** Runs a store call whose failure must not undo what was done: Xiaomi has already answered. */
const bestEffort = async (call: Promise<unknown>) => {
  await call.catch(() => undefined);
};

/**
 * Refreshes `token` once across every process sharing `store`: `refresh` asks Xiaomi; its answer
 * is kept for `keepFor(answer)` ms. When Redis fails before Xiaomi was asked, the process
 * refreshes on its own, as without Redis; once Xiaomi was asked, nothing is asked again.
 */
export const refreshShared = async <T>(
  store: SharedStore,
  token: SpentToken,
  refresh: () => Promise<T>,
  keepFor: (answer: T) => number,
  { claimMs, pollMs }: Timing,
): Promise<T> => {
  const keys = keysOf(tokenId(token));
  const { seal, open } = sealerOf(token);

  /** This process asks Xiaomi, then tells the others what came of it. */
  const refreshAndTell = async (round: string) => {
    try {
      const answer = await refresh();
      const keptMs = keepFor(answer);
      if (keptMs > 0) {
        await bestEffort(store.write(keys.answer, seal(answer), keptMs));
      }
      return answer;
    } catch (error) {
      if (error instanceof ConnectorError) {
        const failure: SharedFailure = { code: error.code, data: error.data };
        await bestEffort(store.write(keys.failure(round), seal(failure), claimMs));
      }
      throw error;
    } finally {
      // After the outcome is told: whoever sees the claim gone sees the outcome too.
      await bestEffort(store.release(keys.claim, round));
    }
  };

  /** Waits for the process holding `round`: its answer, its failure, or nothing once it is gone. */
  const waitFor = async (round: string) => {
    for (let waited = 0; waited < claimMs; waited += pollMs) {
      await sleep(pollMs);
      const [answer, claim, failure] = await fromStore(
        store.read([keys.answer, keys.claim, keys.failure(round)]),
      );
      if (answer) {
        return { answer: open(answer) as T };
      }
      if (failure) {
        const { code, data } = open(failure) as SharedFailure;
        throw new ConnectorError(code, data);
      }
      if (claim !== round) {
        return undefined;
      }
    }
    return undefined;
  };

  try {
    // A process that died holding the claim leaves it to expire; the next one then claims it.
    for (let turn = 0; turn < 3; turn += 1) {
      const [answer, round] = await fromStore(store.read([keys.answer, keys.claim]));
      if (answer) {
        return open(answer) as T;
      }
      if (!round) {
        const mine = randomUUID();
        if (await fromStore(store.claim(keys.claim, mine, claimMs))) {
          return await refreshAndTell(mine);
        }
        continue;
      }
      const outcome = await waitFor(round);
      if (outcome) {
        return outcome.answer;
      }
    }
  } catch (error) {
    if (!(error instanceof StoreUnavailable)) {
      throw error;
    }
  }
  return refresh();
};

/** A process that dies while it refreshes holds the others up no longer than one request takes. */
const sharedTiming: Timing = { claimMs: timeLimits.request + redisCallLimit, pollMs: 50 };

/** Refreshes once across Logto's processes where they share Logto's Redis, else in this one. */
export const refreshEverywhere = async <T>(
  token: SpentToken,
  refresh: () => Promise<T>,
  keepFor: (answer: T) => number,
) => {
  const store = await sharedStore();
  return store ? refreshShared(store, token, refresh, keepFor, sharedTiming) : refresh();
};
