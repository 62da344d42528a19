/** nock stand-ins for Xiaomi's two hosts, for unit tests. Kept apart from mock.ts: importing nock
 * turns on its fetch interception, which the end-to-end tests over real sockets must not have. */
import nock from 'nock';
import { afterEach, beforeEach } from 'vitest';

export const account = () => nock('https://account.xiaomi.com');
export const openApi = () => nock('https://open.account.xiaomi.com');

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
