import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  keptRefreshesMax,
  refreshGraceMs,
  refreshOnce,
  unwrapRefreshToken,
  wrapRefreshToken,
} from './refresh-token.js';

const grant = {
  refreshToken: 'V3_refresh-token.with:odd/chars+=',
  redirectUri: 'https://auth.example.com/callback/abc?tenant=é',
};

describe('the refresh token envelope', () => {
  it('gives back what it wraps', () => {
    expect(unwrapRefreshToken(wrapRefreshToken(grant))).toEqual(grant);
  });

  it('is one line of URL-safe text after its marker', () => {
    expect(wrapRefreshToken(grant)).toMatch(/^xiaomi-plus:v1:[\w-]+$/);
  });

  it.each([
    ['a Xiaomi token', 'V3_aBcD-eF_gh'],
    ['a token that starts like an envelope', 'xiaomi-plus:v1:'],
    ['the marker with text that is not base64url JSON', 'xiaomi-plus:v1:!!!'],
    [
      'the marker with JSON that lacks the redirect URI',
      `xiaomi-plus:v1:${Buffer.from('{"refreshToken":"r"}').toString('base64url')}`,
    ],
    [
      'the marker with JSON whose fields are empty',
      `xiaomi-plus:v1:${Buffer.from('{"refreshToken":"","redirectUri":""}').toString('base64url')}`,
    ],
    ['another version', wrapRefreshToken(grant).replace(':v1:', ':v2:')],
  ])('does not take %s for an envelope', (_, stored) => {
    expect(unwrapRefreshToken(stored)).toBeUndefined();
  });
});

describe('refreshOnce', () => {
  const deferred = () => {
    let settle: { resolve: (value: string) => void; reject: (reason: Error) => void } = {
      resolve: () => {},
      reject: () => {},
    };
    const promise = new Promise<string>((resolve, reject) => {
      settle = { resolve, reject };
    });
    return { promise, ...settle };
  };
  /** A refresh that counts its calls and answers `answer-<n>` for the n-th. */
  const counted = () => {
    const refresh = vi.fn(async () => `answer-${refresh.mock.calls.length}`);
    return refresh;
  };
  const grace = () => refreshGraceMs;
  let keys = 0;
  /** A key no earlier test used: kept answers outlive a test. */
  const freshKey = () => {
    keys += 1;
    return `key-${keys}`;
  };

  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.runOnlyPendingTimers();
    vi.useRealTimers();
  });

  it('runs one call for callers of the same key while it is in flight', async () => {
    const call = deferred();
    const refresh = vi.fn(() => call.promise);
    const key = freshKey();
    const first = refreshOnce(key, refresh, grace);
    const second = refreshOnce(key, refresh, grace);
    call.resolve('answer');
    expect(await Promise.all([first, second])).toEqual(['answer', 'answer']);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('gives a caller that comes after a success the same answer, until the grace is over', async () => {
    const refresh = counted();
    const key = freshKey();
    await expect(refreshOnce(key, refresh, grace)).resolves.toBe('answer-1');
    await vi.advanceTimersByTimeAsync(refreshGraceMs - 1);
    await expect(refreshOnce(key, refresh, grace)).resolves.toBe('answer-1');
    await vi.advanceTimersByTimeAsync(1);
    await expect(refreshOnce(key, refresh, grace)).resolves.toBe('answer-2');
    expect(refresh).toHaveBeenCalledTimes(2);
  });

  it('keeps an answer as long as keepFor says for it', async () => {
    const refresh = counted();
    const key = freshKey();
    const keepFor = vi.fn(() => 500);
    await refreshOnce(key, refresh, keepFor);
    expect(keepFor).toHaveBeenCalledWith('answer-1');
    await vi.advanceTimersByTimeAsync(499);
    await expect(refreshOnce(key, refresh, keepFor)).resolves.toBe('answer-1');
    await vi.advanceTimersByTimeAsync(1);
    await expect(refreshOnce(key, refresh, keepFor)).resolves.toBe('answer-2');
  });

  it('never keeps a failure: the next caller calls again', async () => {
    const failing = vi.fn(async () => {
      throw new Error('refused');
    });
    const key = freshKey();
    await expect(refreshOnce(key, failing, grace)).rejects.toThrow('refused');
    await expect(refreshOnce(key, failing, grace)).rejects.toThrow('refused');
    expect(failing).toHaveBeenCalledTimes(2);
  });

  it('runs calls of different keys apart', async () => {
    const a = deferred();
    const b = deferred();
    const first = refreshOnce(freshKey(), () => a.promise, grace);
    const second = refreshOnce(freshKey(), () => b.promise, grace);
    b.resolve('b');
    a.resolve('a');
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
  });

  it(`keeps at most ${keptRefreshesMax} answers, dropping the oldest first`, async () => {
    const keysKept = Array.from({ length: keptRefreshesMax + 1 }, freshKey);
    for (const key of keysKept) {
      await refreshOnce(key, async () => key, grace);
    }
    const [oldest = '', second = ''] = keysKept;
    const newest = keysKept.at(-1) ?? '';
    const again = vi.fn(async () => 'again');
    await expect(refreshOnce(oldest, again, grace)).resolves.toBe('again');
    await expect(refreshOnce(newest, again, grace)).resolves.toBe(newest);
    // Keeping the oldest's new answer made room by dropping the next oldest.
    await expect(refreshOnce(second, again, grace)).resolves.toBe('again');
    expect(again).toHaveBeenCalledTimes(2);
  });

  it('counts no refresh in flight among the kept answers', async () => {
    const running = deferred();
    refreshOnce(freshKey(), () => running.promise, grace);
    const keysKept = Array.from({ length: keptRefreshesMax }, freshKey);
    for (const key of keysKept) {
      await refreshOnce(key, async () => key, grace);
    }
    const again = vi.fn(async () => 'again');
    await expect(refreshOnce(keysKept[0] ?? '', again, grace)).resolves.toBe(keysKept[0]);
    expect(again).not.toHaveBeenCalled();
    running.resolve('done');
  });

  it('lets an answer dropped for room forget only itself when its time is up', async () => {
    const key = freshKey();
    await refreshOnce(key, async () => 'first', grace);
    for (const other of Array.from({ length: keptRefreshesMax }, freshKey)) {
      await refreshOnce(other, async () => other, grace);
    }
    await vi.advanceTimersByTimeAsync(refreshGraceMs / 2);
    await expect(refreshOnce(key, async () => 'second', grace)).resolves.toBe('second');
    // The first answer's time is up now; the second's is not.
    await vi.advanceTimersByTimeAsync(refreshGraceMs / 2);
    await expect(refreshOnce(key, async () => 'third', grace)).resolves.toBe('second');
  });

  it('keeps a refresh in flight when room is made for kept answers', async () => {
    const running = deferred();
    const inFlight = freshKey();
    const shared = refreshOnce(inFlight, () => running.promise, grace);
    for (const key of Array.from({ length: keptRefreshesMax + 1 }, freshKey)) {
      await refreshOnce(key, async () => key, grace);
    }
    const late = refreshOnce(inFlight, async () => 'second call', grace);
    running.resolve('first call');
    expect(await Promise.all([shared, late])).toEqual(['first call', 'first call']);
  });
});
