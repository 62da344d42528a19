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

export type RefreshGrant = { refreshToken: string; redirectUri?: string };

export const wrapRefreshToken = ({ refreshToken, redirectUri }: z.infer<typeof envelopeGuard>) =>
  `${envelopePrefix}${Buffer.from(JSON.stringify({ refreshToken, redirectUri })).toString('base64url')}`;

const readEnvelope = (encoded: string): unknown => {
  try {
    return JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
};

/**
 * What a stored refresh token holds: an envelope gives Xiaomi's token and its redirect URI;
 * anything else is Xiaomi's own token, as stored before envelopes (or by another connector).
 */
export const unwrapRefreshToken = (stored: string): RefreshGrant => {
  if (!stored.startsWith(envelopePrefix)) {
    return { refreshToken: stored };
  }
  const envelope = envelopeGuard.safeParse(readEnvelope(stored.slice(envelopePrefix.length)));
  return envelope.success ? envelope.data : { refreshToken: stored };
};

const refreshesInFlight = new Map<string, Promise<unknown>>();

/**
 * Runs `refresh` once for concurrent callers with the same `key` and hands each the same
 * outcome. Xiaomi's refresh tokens work once, so two Logto requests that found the same expired
 * token (two tabs, two services) would otherwise spend it twice and one would fail. Nothing is
 * kept once the call has settled: the next caller calls Xiaomi again.
 */
export const refreshOnce = <T>(key: string, refresh: () => Promise<T>): Promise<T> => {
  const running = refreshesInFlight.get(key);
  if (running) {
    return running as Promise<T>;
  }
  const started = refresh().finally(() => {
    refreshesInFlight.delete(key);
  });
  refreshesInFlight.set(key, started);
  return started;
};
