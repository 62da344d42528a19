import nock from 'nock';
import { beforeEach, describe, expect, it } from 'vitest';
import { normalizeEmail, normalizePhone } from './contact.js';
import createConnector from './index.js';
import {
  mockAccessToken,
  mockClientId,
  mockConfig,
  mockProfileAnswer,
  mockRedirectUri,
  mockTokenAnswer,
  prefixed,
} from './mock.js';
import { account, interceptXiaomi, openApi } from './mock-xiaomi.js';

describe('normalizeEmail', () => {
  it.each([
    ['lei@example.com', 'lei@example.com'],
    ['', undefined],
    ['l***@example.com', undefined],
    ['not-an-email', undefined],
    [undefined, undefined],
  ])('%s → %s', (email, expected) => {
    expect(normalizeEmail(email)).toBe(expected);
  });
});

describe('normalizePhone', () => {
  it.each([
    ['+86 138 0013 8000', '8613800138000'],
    ['+8613800138000', '8613800138000'],
    ['+86-138-0013-8000', '8613800138000'],
    ['8613800138000', '8613800138000'],
    ['13800138000', '8613800138000'],
    [' 138 0013 8000 ', '8613800138000'],
    ['+1 650 253 0000', '16502530000'],
    ['+852 9123 4567', '85291234567'],
    ['138****8000', undefined],
    ['+86138****8000', undefined],
    ['', undefined],
    [undefined, undefined],
    ['+86 12', undefined],
    ['1380013', undefined],
    ['12345678901', undefined],
    ['+8612345678901', undefined],
    ['+86 10 1234 5678', undefined],
    ['tel:+8613800138000', undefined],
    ['Phone +8613800138000', undefined],
    ['+86 (138) 0013 8000', undefined],
    ['++8613800138000', undefined],
    ['8613800138000x', undefined],
  ])('%s → %s', async (phone, expected) => {
    expect(await normalizePhone(phone)).toBe(expected);
  });
});

describe('email and phone in the sign-in', () => {
  interceptXiaomi();

  const signIn = async (config: object = mockConfig) =>
    (await createConnector({ getConfig: async () => config })).getUserInfo(
      { code: 'code-1', redirectUri: mockRedirectUri },
      async () => ({}),
    );
  const grant = (scope?: string) =>
    account()
      .post('/oauth2/token')
      .reply(200, prefixed({ ...mockTokenAnswer, scope }));

  beforeEach(() => {
    openApi().get('/user/profile').query(true).reply(200, mockProfileAnswer);
  });

  it('fills email and phone when scopes 4 and 6 were granted, keeping rawData the profile', async () => {
    grant('1 4 6');
    const contact = openApi()
      .get('/user/phoneAndEmail')
      .query({ clientId: mockClientId, token: mockAccessToken })
      .reply(200, { result: 'ok', data: { phone: '+8613800138000', email: 'lei@example.com' } });
    await expect(signIn()).resolves.toMatchObject({
      id: 'mock-union-id',
      email: 'lei@example.com',
      phone: '8613800138000',
      rawData: mockProfileAnswer,
    });
    expect(contact.isDone()).toBe(true);
  });

  it('asks in parallel with the profile, not after it', async () => {
    nock.cleanAll();
    grant('1 6');
    let contactAsked = () => {};
    const contactArrived = new Promise<void>((resolve) => {
      contactAsked = resolve;
    });
    // The profile answers only once the contact request has arrived: in sequence, this would hang.
    openApi()
      .get('/user/profile')
      .query(true)
      .reply(async () => {
        await contactArrived;
        return [200, mockProfileAnswer];
      });
    openApi()
      .get('/user/phoneAndEmail')
      .query(true)
      .reply(() => {
        contactAsked();
        return [200, { result: 'ok', data: { phone: '', email: 'lei@example.com' } }];
      });
    await expect(signIn()).resolves.toMatchObject({ email: 'lei@example.com' });
  });

  it('falls back to the configured scope when Xiaomi does not echo one', async () => {
    grant(undefined);
    const contact = openApi()
      .get('/user/phoneAndEmail')
      .query(true)
      .reply(200, { result: 'ok', data: { phone: '', email: '' } });
    const user = await signIn({ ...mockConfig, scope: '1 4' });
    expect(contact.isDone()).toBe(true);
    expect(user).not.toHaveProperty('email', expect.anything());
    expect(user).not.toHaveProperty('phone', expect.anything());
  });

  it('leaves masked values out', async () => {
    grant('1 4 6');
    openApi()
      .get('/user/phoneAndEmail')
      .query(true)
      .reply(200, { result: 'ok', data: { phone: '138****0000', email: 'l***@example.com' } });
    const user = await signIn();
    expect(user.phone).toBeUndefined();
    expect(user.email).toBeUndefined();
  });

  it.each([
    ['a result error', 200, { result: 'error', code: 96005, description: 'no permission' }],
    ['HTTP 500', 500, '<html>down</html>'],
    ['a malformed body', 200, '{"result":"ok","data":'],
  ])('signs the user in without them on %s', async (_, status, body) => {
    grant('1 4 6');
    openApi().get('/user/phoneAndEmail').query(true).reply(status, body);
    const user = await signIn();
    expect(user).toMatchObject({ id: 'mock-union-id', name: 'Lei' });
    expect(user.email).toBeUndefined();
  });

  it('does not ask without scope 4 or 6', async () => {
    grant('1 3 40');
    const contact = openApi().get('/user/phoneAndEmail').query(true).reply(200, {});
    await signIn();
    expect(contact.isDone()).toBe(false);
  });
});
