/**
 * One refresh per stored token across Logto processes that share Logto's Redis: the process that
 * claims a token's refresh asks Xiaomi; the others wait for its outcome and take it; for the
 * grace after a success, any process that presents the spent token gets the same answer. Redis
 * holds no usable secret: keys carry a hash of the token, values are sealed with a key derived
 * from the token and the AppSecret, bound to their key, and all expire.
 *
 * Redis is a distributed system: a call can be late, land after this process gave up, or fail.
 * The rules that hold whatever it does, each kept where it is said below:
 * - a claim is confirmed only by Redis's OK; a claim whose reply did not come may still land;
 * - whoever asked Xiaomi tells the answer where the others look, claim confirmed or not, and
 *   releases any claim it may hold, without holding its own reader up;
 * - Xiaomi's 96009 for a token that another process may have refreshed is not the end: the
 *   process waits, as long as a claim lives, for that answer.
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
import { sharedRefreshTiming } from './constant.js';
import { isXiaomiError } from './errors.js';
import { type SharedStore, sharedStore, UnknownOutcome } from './redis.js';

/** The token whose refresh is shared, and the app it belongs to. */
export type SpentToken = { clientId: string; clientSecret: string; refreshToken: string };

/**
 * How long a claim lives, how often a waiting process looks, and how long a process looks for a
 * claim of its own whose reply did not come.
 */
export type Timing = { claimMs: number; pollMs: number; landMs: number };

/**
 * A hash of the token: what names it in memory and in Redis, never the token itself. The
 * AppSecret stays out: a key name is no place for a secret, not even hashed.
 */
export const tokenId = ({
  clientId,
  refreshToken,
}: Pick<SpentToken, 'clientId' | 'refreshToken'>) =>
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

const ivBytes = 12;
const tagBytes = 16;

/**
 * Seals and opens values with AES-256-GCM under a key derived from the spent token and the
 * AppSecret. The AppSecret never reaches Redis, so an old token and a recording of Redis do not
 * open the answer that holds the next token, nor the chain after it. Each value is bound to its
 * key (the additional data), so a value copied to another key, or another role, does not open.
 */
const sealerOf = ({ clientId, clientSecret, refreshToken }: SpentToken) => {
  const key = Buffer.from(
    hkdfSync(
      'sha256',
      refreshToken,
      `${clientId}\n${clientSecret}`,
      'connector-xiaomi-plus refresh outcome',
      32,
    ),
  );
  return {
    seal: (redisKey: string, value: unknown) => {
      const iv = randomBytes(ivBytes);
      const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(redisKey));
      const sealed = Buffer.concat([cipher.update(JSON.stringify(value)), cipher.final()]);
      return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
    },
    /** What `seal` sealed for `redisKey`; anything else, `undefined`, as if Redis held nothing. */
    open: (redisKey: string, text: string | null | undefined): unknown => {
      try {
        const bytes = Buffer.from(text ?? '', 'base64url');
        const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, ivBytes), {
          authTagLength: tagBytes,
        }).setAAD(Buffer.from(redisKey));
        decipher.setAuthTag(bytes.subarray(ivBytes, ivBytes + tagBytes));
        const opened = decipher.update(bytes.subarray(ivBytes + tagBytes));
        return JSON.parse(Buffer.concat([opened, decipher.final()]).toString());
      } catch {
        return undefined;
      }
    },
  };
};

type SharedFailure = { code: ConnectorErrorCodes; data: unknown };

/** Xiaomi's word that the refresh token was already spent (or revoked, or expired). */
const isSpentToken = (error: unknown) =>
  isXiaomiError(error) && error.data.reason === 'xiaomi_error' && error.data.code === 96009;

/** A Redis call whose failure changes nothing: the caller goes on as if it found nothing. */
const orNothing = async <T>(call: Promise<T>) => {
  try {
    return await call;
  } catch {
    return undefined;
  }
};

/** Runs `call` until it succeeds, waiting longer each time, for as long as `until` (epoch ms). */
const untilDone = async (call: () => Promise<unknown>, until: number) => {
  for (let wait = 100; ; wait *= 2) {
    if ((await orNothing(call().then(() => true))) || Date.now() + wait > until) {
      return;
    }
    await sleep(wait);
  }
};

/**
 * Refreshes `token` once across every process sharing `store`: `refresh` asks Xiaomi; its answer
 * is kept for `keepFor(answer)` ms, and at least as long as any process may wait for it. When
 * Redis fails, the process goes on without it; once Xiaomi was asked, nothing is asked again.
 */
export const refreshShared = async <T>(
  store: SharedStore,
  token: SpentToken,
  refresh: () => Promise<T>,
  keepFor: (answer: T) => number,
  { claimMs, pollMs, landMs }: Timing,
): Promise<T> => {
  const keys = keysOf(tokenId(token));
  const { seal, open } = sealerOf(token);
  /** Whether another process may be refreshing this token: it may have spent it first. */
  let othersMayRefresh = false;

  const openAnswer = (text: string | null | undefined) => open(keys.answer, text) as T | undefined;

  /**
   * Tells the outcome where the others look, then releases the claim of `round`, in the
   * background: the reader has its answer already. Writes are tried again while a claim may live,
   * since a waiting process looks that long; a release that fails leaves the claim to expire.
   */
  const tell = (round: string, key: string, value: unknown, ttlMs: number) => {
    void untilDone(() => store.write(key, seal(key, value), ttlMs), Date.now() + claimMs).then(() =>
      orNothing(store.release(keys.claim, round)),
    );
  };

  /** The answer Redis holds now, if it holds one that opens. */
  const readAnswer = async () => openAnswer((await orNothing(store.read([keys.answer])))?.[0]);

  /** The answer another process tells within a claim's life from now, if one does. */
  const answerOfAnother = async () => {
    const until = Date.now() + claimMs;
    do {
      const answer = await readAnswer();
      if (answer !== undefined) {
        return answer;
      }
      await sleep(pollMs);
    } while (Date.now() < until);
    return undefined;
  };

  /** This process asks Xiaomi in `round`, whose claim may be confirmed or only attempted. */
  const refreshAndTell = async (round: string) => {
    let answer: T;
    try {
      answer = await refresh();
    } catch (error) {
      const theirs = isSpentToken(error)
        ? othersMayRefresh
          ? await answerOfAnother()
          : await readAnswer()
        : undefined;
      if (theirs !== undefined) {
        void orNothing(store.release(keys.claim, round));
        return theirs;
      }
      if (error instanceof ConnectorError) {
        const failure: SharedFailure = { code: error.code, data: error.data };
        tell(round, keys.failure(round), failure, claimMs);
      } else {
        void orNothing(store.release(keys.claim, round));
      }
      throw error;
    }
    // Whole milliseconds, as Redis takes them; never shorter than anyone may wait for it.
    const keptMs = Math.ceil(Math.max(keepFor(answer), claimMs));
    tell(round, keys.answer, answer, keptMs);
    return answer;
  };

  /**
   * Waits for the process holding `round`: its answer, its failure, or nothing once its claim is
   * gone or has lived its life. A read that fails is only a look that found nothing.
   */
  const waitFor = async (round: string) => {
    const until = Date.now() + claimMs;
    while (Date.now() < until) {
      await sleep(pollMs);
      const [answer, claim, failure] =
        (await orNothing(store.read([keys.answer, keys.claim, keys.failure(round)]))) ?? [];
      const opened = openAnswer(answer);
      if (opened !== undefined) {
        return { answer: opened };
      }
      const told = open(keys.failure(round), failure) as SharedFailure | undefined;
      if (told) {
        throw new ConnectorError(told.code, told.data);
      }
      // Released without an outcome to tell, lapsed, or taken by another round.
      if (claim !== undefined && claim !== round) {
        return undefined;
      }
    }
    return undefined;
  };

  /** What Redis holds for the token: an answer, the round that claims it, or nothing it could read. */
  const look = async () => {
    const seen = await orNothing(store.read([keys.answer, keys.claim]));
    return seen && { answer: openAnswer(seen[0]), round: seen[1] };
  };

  /** Claims for `round`: confirmed, taken by another round, unknown (it may land) or failed. */
  const claim = async (round: string) => {
    try {
      return (await store.claim(keys.claim, round, claimMs)) ? 'confirmed' : 'taken';
    } catch (error) {
      return error instanceof UnknownOutcome ? 'unknown' : 'failed';
    }
  };

  /**
   * Where a claim whose reply did not come went: the round that holds the claim once one does,
   * or an answer; nothing when neither shows within `landMs`. Reads that fail meanwhile are no
   * verdict: on one connection they wait behind the late claim, as when Redis holds writes.
   */
  const landed = async () => {
    const until = Date.now() + landMs;
    do {
      const seen = await look();
      if (seen && (seen.answer !== undefined || seen.round)) {
        return seen;
      }
      await sleep(pollMs);
    } while (Date.now() < until);
    return undefined;
  };

  // A process that died holding the claim leaves it to expire; the next one then claims it.
  for (let turn = 0; turn < 3; turn += 1) {
    const seen = await look();
    if (seen?.answer !== undefined) {
      return seen.answer;
    }
    let round = seen?.round;
    if (!round) {
      const mine = randomUUID();
      const claimed = await claim(mine);
      if (claimed === 'taken') {
        othersMayRefresh = true;
        continue;
      }
      if (claimed === 'confirmed') {
        return refreshAndTell(mine);
      }
      const fate = claimed === 'unknown' ? await landed() : undefined;
      if (fate?.answer !== undefined) {
        return fate.answer;
      }
      if (fate?.round === mine) {
        return refreshAndTell(mine);
      }
      if (!fate?.round) {
        // No Redis, or a claim that did not land: another process may be refreshing on its own.
        othersMayRefresh = true;
        return refreshAndTell(mine);
      }
      round = fate.round;
    }
    othersMayRefresh = true;
    const outcome = await waitFor(round);
    if (outcome) {
      return outcome.answer;
    }
  }
  return refreshAndTell(randomUUID());
};

/** Refreshes once across Logto's processes where they share Logto's Redis, else in this one. */
export const refreshEverywhere = async <T>(
  token: SpentToken,
  refresh: () => Promise<T>,
  keepFor: (answer: T) => number,
) => {
  const store = await sharedStore();
  return store ? refreshShared(store, token, refresh, keepFor, sharedRefreshTiming) : refresh();
};
