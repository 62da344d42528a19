import { ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it, vi } from 'vitest';
import { requestXiaomi } from './http.js';
import { mockAccessToken, mockClientId, mockClientSecret, rejectionOf } from './mock.js';
import { account, interceptXiaomi, openApi } from './mock-xiaomi.js';

const tokenRequest = {
  method: 'post',
  url: 'https://account.xiaomi.com/oauth2/token',
  params: { client_id: mockClientId, client_secret: mockClientSecret },
} as const;

const profileRequest = {
  method: 'get',
  url: 'https://open.account.xiaomi.com/user/profile',
  params: { clientId: mockClientId, token: mockAccessToken },
} as const;

interceptXiaomi();

describe('requestXiaomi', () => {
  it('strips the prefix, even after leading whitespace', async () => {
    account().post('/oauth2/token').reply(200, '\n &&&START&&&{"a":1}');
    await expect(requestXiaomi(tokenRequest)).resolves.toEqual({
      url: new URL('https://account.xiaomi.com/oauth2/token'),
      status: 200,
      body: { a: 1 },
      secrets: [mockClientSecret],
    });
  });

  it('gives undefined for a body that is not JSON', async () => {
    account().post('/oauth2/token').reply(502, '<html>Bad gateway</html>');
    await expect(requestXiaomi(tokenRequest)).resolves.toMatchObject({
      status: 502,
      body: undefined,
    });
  });

  it('keeps Xiaomi’s answer as sent, even where it holds a secret of the request', async () => {
    const answer = { result: 'error', description: `bad token ${mockAccessToken}` };
    openApi().get('/user/profile').query(true).reply(200, answer);
    const { body, secrets } = await requestXiaomi(profileRequest);
    expect(body).toEqual(answer);
    expect(secrets).toEqual([mockAccessToken]);
  });

  it('lists the secrets of the request longest first, and only those', async () => {
    account().post('/oauth2/token').reply(200, '{}');
    const { secrets } = await requestXiaomi({
      ...tokenRequest,
      params: { client_id: 'id', client_secret: 'ab', refresh_token: 'abc', code: 'not-secret' },
    });
    expect(secrets).toEqual(['abc', 'ab']);
  });

  it('gives up on a slow answer with a General timeout error that says how long it waited', async () => {
    account().post('/oauth2/token').delay(500).reply(200, '{}');
    const error = await rejectionOf(requestXiaomi(tokenRequest, 50));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: {
        endpoint: '/oauth2/token',
        reason: 'timeout',
        hint: 'Xiaomi is slow or unreachable from the Logto server; try again later.',
        errorDescription:
          'Xiaomi did not answer account.xiaomi.com/oauth2/token within 0.05 s: Xiaomi is slow or unreachable from the Logto server; try again later.',
      },
    });
  });

  it('gives up on a body that stops halfway', async () => {
    openApi().get('/user/profile').query(true).delayBody(500).reply(200, '{"result":"ok"}');
    const error = await rejectionOf(requestXiaomi(profileRequest, 50));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { endpoint: '/user/profile', reason: 'timeout' },
    });
  });

  it('waits 5 s by default, body included', async () => {
    const timeout = vi.spyOn(AbortSignal, 'timeout');
    account().post('/oauth2/token').reply(200, '{}');
    await requestXiaomi(tokenRequest);
    expect(timeout).toHaveBeenCalledWith(5000);
    vi.restoreAllMocks();
  });

  it('names the socket error code of a network failure and what to check', async () => {
    account()
      .post('/oauth2/token')
      .replyWithError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const error = await rejectionOf(requestXiaomi(tokenRequest));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: {
        endpoint: '/oauth2/token',
        reason: 'network',
        cause: 'ECONNREFUSED',
        hint: 'Check that the Logto server can reach Xiaomi’s hosts over HTTPS (DNS, firewall, proxy).',
        errorDescription:
          'The Logto server could not connect to account.xiaomi.com/oauth2/token (ECONNREFUSED): Check that the Logto server can reach Xiaomi’s hosts over HTTPS (DNS, firewall, proxy).',
      },
    });
  });

  it('leaves the cause out of the sentence when the failure names none', async () => {
    openApi().get('/user/profile').query(true).replyWithError('socket closed');
    const error = await rejectionOf(requestXiaomi(profileRequest));
    expect(error.data).toMatchObject({
      reason: 'network',
      cause: undefined,
      errorDescription: expect.stringMatching(
        /^The Logto server could not connect to open\.account\.xiaomi\.com\/user\/profile: /,
      ),
    });
  });
});
