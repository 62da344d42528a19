import { ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it } from 'vitest';
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
      endpoint: '/oauth2/token',
      status: 200,
      body: { a: 1 },
    });
  });

  it('gives undefined for a body that is not JSON', async () => {
    account().post('/oauth2/token').reply(502, '<html>Bad gateway</html>');
    await expect(requestXiaomi(tokenRequest)).resolves.toMatchObject({
      status: 502,
      body: undefined,
    });
  });

  it('removes the request’s secrets from whatever Xiaomi echoes back', async () => {
    openApi()
      .get('/user/profile')
      .query(true)
      .reply(200, { result: 'error', description: `bad token ${mockAccessToken}` });
    const { body } = await requestXiaomi(profileRequest);
    expect(body).toEqual({ result: 'error', description: 'bad token [redacted]' });
  });

  it('gives up on a slow answer with a General timeout error', async () => {
    account().post('/oauth2/token').delay(500).reply(200, '{}');
    const error = await rejectionOf(requestXiaomi(tokenRequest, 50));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { endpoint: '/oauth2/token', reason: 'timeout' },
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

  it('names the socket error code of a network failure', async () => {
    account()
      .post('/oauth2/token')
      .replyWithError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }));
    const error = await rejectionOf(requestXiaomi(tokenRequest));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { reason: 'network', cause: 'ECONNREFUSED' },
    });
  });
});
