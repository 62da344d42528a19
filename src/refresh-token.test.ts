import { describe, expect, it } from 'vitest';
import { refreshOnce, unwrapRefreshToken, wrapRefreshToken } from './refresh-token.js';

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
  ])('takes %s as Xiaomi’s own token, whole', (_, stored) => {
    expect(unwrapRefreshToken(stored)).toStrictEqual({ refreshToken: stored });
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

  it('runs one call for callers of the same key while it is in flight', async () => {
    const call = deferred();
    let calls = 0;
    const refresh = () => {
      calls += 1;
      return call.promise;
    };
    const first = refreshOnce('k', refresh);
    const second = refreshOnce('k', refresh);
    call.resolve('answer');
    expect(await Promise.all([first, second])).toEqual(['answer', 'answer']);
    expect(calls).toBe(1);
  });

  it('forgets a call once it has settled, failed or not', async () => {
    let calls = 0;
    const failing = async () => {
      calls += 1;
      throw new Error('refused');
    };
    await expect(refreshOnce('f', failing)).rejects.toThrow('refused');
    await expect(refreshOnce('f', failing)).rejects.toThrow('refused');
    expect(calls).toBe(2);
  });

  it('runs calls of different keys apart', async () => {
    const a = deferred();
    const b = deferred();
    const first = refreshOnce('a', () => a.promise);
    const second = refreshOnce('b', () => b.promise);
    b.resolve('b');
    a.resolve('a');
    expect(await Promise.all([first, second])).toEqual(['a', 'b']);
  });
});
