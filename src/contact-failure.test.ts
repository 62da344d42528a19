/** A fault in this package's own email and phone handling is not Xiaomi's: it must not be hidden. */
import { expect, it, vi } from 'vitest';
import createConnector from './index.js';
import {
  mockConfig,
  mockProfileAnswer,
  mockRedirectUri,
  mockTokenAnswer,
  prefixed,
} from './mock.js';
import { account, interceptXiaomi, openApi } from './mock-xiaomi.js';

vi.mock('./contact.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./contact.js')>()),
  normalizePhone: async () => {
    throw new TypeError('phone metadata missing');
  },
}));

interceptXiaomi();

it('lets an error of its own surface instead of signing the user in without a phone', async () => {
  account()
    .post('/oauth2/token')
    .reply(200, prefixed({ ...mockTokenAnswer, scope: '1 4' }));
  openApi().get('/user/profile').query(true).reply(200, mockProfileAnswer);
  openApi()
    .get('/user/phoneAndEmail')
    .query(true)
    .reply(200, { result: 'ok', data: { phone: '+8613800138000' } });
  const connector = await createConnector({ getConfig: async () => mockConfig });
  await expect(
    connector.getUserInfo({ code: 'code-1', redirectUri: mockRedirectUri }, async () => ({})),
  ).rejects.toThrow(new TypeError('phone metadata missing'));
});
