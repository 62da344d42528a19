/**
 * The refresh token as Logto keeps it. Xiaomi wants the sign-in's redirect URI again on every
 * refresh, but Logto stores only the token answer and hands back nothing but the refresh token;
 * so the refresh token this connector gives Logto is an envelope of Xiaomi's refresh token and
 * that redirect URI, which only this connector reads. Access tokens are never wrapped.
 */
import { z } from 'zod';

/**
 * Marks an envelope: `:` never occurs in base64url or hex, the alphabets of OAuth tokens, and
 * the version lets a later release change the shape without misreading this one.
 */
const envelopePrefix = 'xiaomi-plus:v1:';

const envelopeGuard = z.object({
  refreshToken: z.string().min(1),
  redirectUri: z.string().min(1),
});

type RefreshGrant = z.infer<typeof envelopeGuard>;

export const wrapRefreshToken = ({ refreshToken, redirectUri }: RefreshGrant) =>
  `${envelopePrefix}${Buffer.from(JSON.stringify({ refreshToken, redirectUri })).toString('base64url')}`;

const readEnvelope = (encoded: string): unknown => {
  try {
    return JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
};

/** Xiaomi's refresh token and its redirect URI, or nothing when `stored` is not our envelope. */
export const unwrapRefreshToken = (stored: string): RefreshGrant | undefined =>
  stored.startsWith(envelopePrefix)
    ? envelopeGuard.safeParse(readEnvelope(stored.slice(envelopePrefix.length))).data
    : undefined;

/**
 * How long the answer of a successful refresh stays the answer for the token it spent. Logto
 * writes the new tokens a moment after the refresh settles, so a request that read the old ones
 * just before comes a moment later with a token Xiaomi no longer takes. Identity servers that
 * rotate refresh tokens give the same grace (Connect2id 5 s by default, Okta 30 s); 10 s is twice
 * our own request timeout, long enough for a request held up as long as one Xiaomi call may take.
 */
export const refreshGraceMs = 10_000;

/** At most this many answers are kept at once; past it the oldest goes first. */
export const keptRefreshesMax = 1000;

type Refresh = { outcome: Promise<unknown>; settled: boolean };

/** Refreshes in flight, and answers kept for the grace after they succeeded, by key. */
const refreshes = new Map<string, Refresh>();

const forget = (key: string, refresh: Refresh) => {
  if (refreshes.get(key) === refresh) {
    refreshes.delete(key);
  }
};

/** Drops the oldest kept answers until there is room for one more; refreshes in flight stay. */
const makeRoom = () => {
  let kept = [...refreshes.values()].filter(({ settled }) => settled).length;
  for (const [key, refresh] of refreshes) {
    if (kept < keptRefreshesMax) {
      return;
    }
    if (refresh.settled) {
      refreshes.delete(key);
      kept -= 1;
    }
  }
};

/**
 * Runs `refresh` once for every caller with the same `key`: those that come while it runs, and,
 * once it has succeeded, those that come within `keepFor(answer)` ms, who get the same answer
 * without a call to Xiaomi. A failure is never kept: the next caller calls Xiaomi again.
 */
export const refreshOnce = <T>(
  key: string,
  refresh: () => Promise<T>,
  keepFor: (answer: T) => number,
): Promise<T> => {
  const known = refreshes.get(key);
  if (known) {
    return known.outcome as Promise<T>;
  }
  const outcome = refresh();
  const entry: Refresh = { outcome, settled: false };
  refreshes.set(key, entry);
  outcome.then(
    (answer) => {
      makeRoom();
      entry.settled = true;
      setTimeout(() => forget(key, entry), keepFor(answer)).unref();
    },
    () => forget(key, entry),
  );
  return outcome;
};
