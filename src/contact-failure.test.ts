/** A fault in this package's own email and phone handling is not Xiaomi's: it must not be hidden. */
import { expect, it, vi } from 'vitest';
import { mockProfileResponse, mockTokenResponse, prefixed, signIn } from '../test/fixtures.js';
import { interceptXiaomi, replyContact, replyProfile, replyToken } from '../test/xiaomi-nock.js';

vi.mock('./contact.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./contact.js')>()),
  normalizePhone: async () => {
    throw new TypeError('phone metadata missing');
  },
}));

interceptXiaomi();

it('lets an error of its own surface instead of signing the user in without a phone', async () => {
  replyToken(200, prefixed({ ...mockTokenResponse, scope: '1 4' }));
  replyProfile(200, mockProfileResponse);
  replyContact(200, { result: 'ok', data: { phone: '+8613800138000' } });
  await expect(signIn()).rejects.toThrow(new TypeError('phone metadata missing'));
});
