/**
 * nock interceptors standing in for Xiaomi's two hosts, for the unit tests beside the code. Apart
 * from fixtures.ts because importing nock turns on its interception of fetch, which the suites
 * over real sockets must not have (see README.md here).
 */
import nock from 'nock';
import { afterEach, beforeEach } from 'vitest';

export const account = () => nock('https://account.xiaomi.com');
export const openApi = () => nock('https://open.account.xiaomi.com');

/** The token endpoint's next answer, whatever was asked. */
export const replyToken = (status: number, body: string | object) =>
  account().post('/oauth2/token').reply(status, body);

/** The profile's next answer, whatever was asked. */
export const replyProfile = (status: number, body: string | object) =>
  openApi().get('/user/profile').query(true).reply(status, body);

/** The next answer about phone and email, whatever was asked. */
export const replyContact = (status: number, body: string | object) =>
  openApi().get('/user/phoneAndEmail').query(true).reply(status, body);

/** Lets no request out of the file's tests and drops leftover interceptors after each test. */
export const interceptXiaomi = () => {
  beforeEach(() => {
    nock.disableNetConnect();
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
  });
};
