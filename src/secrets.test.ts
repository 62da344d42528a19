import { describe, expect, it } from 'vitest';
import { concealSecrets, redactSecretFields, secretValuesOf } from './secrets.js';

describe('secretValuesOf', () => {
  it('lists the values of the secret parameters only, longest first, none empty', () => {
    expect(
      secretValuesOf({
        client_id: 'id',
        client_secret: 'ab',
        refresh_token: 'abc',
        token: '',
        code: 'not-secret',
        redirect_uri: 'https://logto.example.com/callback/x',
      }),
    ).toEqual(['abc', 'ab']);
  });
});

describe('concealSecrets', () => {
  it('hides every occurrence, the longer secret first so that none leaves a part behind', () => {
    expect(concealSecrets('abc ab abc', ['abc', 'ab'])).toBe('[redacted] [redacted] [redacted]');
  });

  it('leaves text without secrets as it is', () => {
    expect(concealSecrets('nothing here', ['abc'])).toBe('nothing here');
  });
});

describe('redactSecretFields', () => {
  it('hides the text of every secret field at any depth and keeps the rest', () => {
    expect(
      redactSecretFields({
        clientId: '1',
        clientSecret: 's',
        tokens: [{ access_token: 'a', refresh_token: 'r', mac_key: 'm', expires_in: 3 }],
        nested: { client_secret: 's', token: 't', scope: '1 6' },
        count: 2,
        none: null,
      }),
    ).toEqual({
      clientId: '1',
      clientSecret: '[redacted]',
      tokens: [
        {
          access_token: '[redacted]',
          refresh_token: '[redacted]',
          mac_key: '[redacted]',
          expires_in: 3,
        },
      ],
      nested: { client_secret: '[redacted]', token: '[redacted]', scope: '1 6' },
      count: 2,
      none: null,
    });
  });

  it('keeps a secret field that holds no text, whose value is no secret', () => {
    expect(redactSecretFields({ token: { kind: 'mac' }, access_token: 7 })).toEqual({
      token: { kind: 'mac' },
      access_token: 7,
    });
  });
});
