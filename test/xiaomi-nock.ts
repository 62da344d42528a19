/**
 * nock interceptors standing in for Xiaomi's two hosts, for the unit tests beside the code. Apart
 * from fixtures.ts because importing nock turns on its interception of fetch, which the suites
 * over real sockets must not have (see docs/development.md).
 */
import nock from 'nock';
import { afterEach, beforeEach, vi } from 'vitest';

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

/** A socket error as undici reports it: its code on the cause of fetch's TypeError. */
export const socketError = (code: string) => Object.assign(new Error(code), { code });

/** Each way an attempt can stumble, as an interceptor's answer. */
export const stumbles = {
  'a 502 gateway page': (scope: nock.Interceptor) => scope.reply(502, gatewayPage(502)),
  'a 503 gateway page': (scope: nock.Interceptor) => scope.reply(503, gatewayPage(503)),
  'a 504 gateway page': (scope: nock.Interceptor) => scope.reply(504, gatewayPage(504)),
  'a reset connection': (scope: nock.Interceptor) =>
    scope.replyWithError(socketError('ECONNRESET')),
  'a hang': (scope: nock.Interceptor) => scope.delay(60_000).reply(200, '{}'),
  'a refused connection': (scope: nock.Interceptor) =>
    scope.replyWithError(socketError('ECONNREFUSED')),
};

export type Stumble = keyof typeof stumbles;

/** Refused connections never carried a request; after the other stumbles Xiaomi may have read it. */
export const leftUnsent = (stumble: Stumble) => stumble === 'a refused connection';

/** A gateway's error page, in HTML, as a proxy in front of Xiaomi sends it. */
export const gatewayPage = (status: number) =>
  `<!doctype html><html><body><h1>${status} Gateway error</h1></body></html>`;

/**
 * Lets no request out of the file's tests and drops leftover interceptors after each test. ky
 * draws each wait before sending again from Math.random (full jitter), which answers 0 here, so
 * that Xiaomi is asked again at once; a test of the waits sets another value.
 */
export const interceptXiaomi = () => {
  beforeEach(() => {
    nock.disableNetConnect();
    vi.spyOn(Math, 'random').mockReturnValue(0);
  });
  afterEach(() => {
    nock.cleanAll();
    nock.enableNetConnect();
    vi.restoreAllMocks();
  });
};
