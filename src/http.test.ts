import { ConnectorErrorCodes } from '@logto/connector-kit';
import { describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { mockAccessToken, mockClientId, mockClientSecret, rejectionOf } from '../test/fixtures.js';
import { account, interceptXiaomi, openApi } from '../test/xiaomi-nock.js';
import { failureHints } from './errors.js';
import { type AnswerReading, readXiaomiAnswer, requestXiaomi, type XiaomiAnswer } from './http.js';

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

  it('reads JSON without the prefix too', async () => {
    openApi().get('/user/profile').query(true).reply(200, { a: 1 });
    await expect(requestXiaomi(profileRequest)).resolves.toMatchObject({ body: { a: 1 } });
  });

  it.each([
    ['an HTML page', '<html>Bad gateway</html>'],
    ['a truncated body', '&&&START&&&{"access_token":"abc","expi'],
    ['the prefix alone', '&&&START&&&'],
    ['an empty body', ''],
  ])('gives undefined for %s', async (_, text) => {
    account().post('/oauth2/token').reply(502, text);
    await expect(requestXiaomi(tokenRequest)).resolves.toMatchObject({
      status: 502,
      body: undefined,
    });
  });

  it('sends a POST as a form and a GET as a query', async () => {
    const token = account()
      .post('/oauth2/token', { client_id: mockClientId, client_secret: mockClientSecret })
      .reply(200, '{}');
    const profile = openApi()
      .get('/user/profile')
      .query({ clientId: mockClientId, token: mockAccessToken })
      .reply(200, '{}');
    await requestXiaomi(tokenRequest);
    await requestXiaomi(profileRequest);
    expect(token.isDone() && profile.isDone()).toBe(true);
  });

  it('keeps Xiaomi’s answer as sent, even where it holds a secret of the request', async () => {
    const answer = { result: 'error', description: `bad token ${mockAccessToken}` };
    openApi().get('/user/profile').query(true).reply(200, answer);
    const { body, secrets } = await requestXiaomi(profileRequest);
    expect(body).toEqual(answer);
    expect(secrets).toEqual([mockAccessToken]);
  });

  it('gives up on a slow answer with a General timeout error that says how long it waited', async () => {
    account().post('/oauth2/token').delay(500).reply(200, '{}');
    const error = await rejectionOf(requestXiaomi(tokenRequest, 50));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: {
        reason: 'timeout',
        endpoint: '/oauth2/token',
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
      data: { reason: 'timeout', endpoint: '/user/profile' },
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
        reason: 'network',
        endpoint: '/oauth2/token',
        cause: 'ECONNREFUSED',
        hint: failureHints.network,
        errorDescription: `The Logto server could not connect to account.xiaomi.com/oauth2/token (ECONNREFUSED): ${failureHints.network}`,
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

describe('readXiaomiAnswer', () => {
  const url = new URL('https://account.xiaomi.com/oauth2/token');
  const answer = (status: number, body: unknown): XiaomiAnswer => ({
    url,
    status,
    body,
    secrets: [mockClientSecret],
  });
  const reading: AnswerReading<{ value: string }> = {
    readError: (body) =>
      (body as { failed?: boolean } | undefined)?.failed ? { code: 96003 } : undefined,
    refusedCode: ConnectorErrorCodes.SocialAuthCodeInvalid,
    guard: z.object({ value: z.string() }),
  };
  const read = (status: number, body: unknown) =>
    Promise.resolve().then(() => readXiaomiAnswer(answer(status, body), reading));
  const refused = 'Xiaomi refused the request without saying why; try signing in again.';
  const serverError = 'Xiaomi had a server error; try again later.';

  it('returns the guarded body of a good answer', () => {
    expect(readXiaomiAnswer(answer(200, { value: 'v', more: 1 }), reading)).toEqual({ value: 'v' });
  });

  it.each([200, 400, 503])(
    'puts Xiaomi’s own error first, whatever the status (%i)',
    async (status) => {
      const error = await rejectionOf(read(status, { failed: true }));
      expect(error).toMatchObject({
        code: ConnectorErrorCodes.InvalidConfig,
        data: { reason: 'xiaomi_error', code: 96003 },
      });
    },
  );

  it.each([
    [400, undefined, ConnectorErrorCodes.SocialAuthCodeInvalid, refused],
    [401, { html: true }, ConnectorErrorCodes.SocialAuthCodeInvalid, refused],
    [499, undefined, ConnectorErrorCodes.SocialAuthCodeInvalid, refused],
    [500, undefined, ConnectorErrorCodes.General, serverError],
    [503, { message: 'busy' }, ConnectorErrorCodes.General, serverError],
  ])(
    'maps HTTP %i without an error of Xiaomi’s: 4xx to the given code, 5xx to General',
    async (status, body, code, hint) => {
      const error = await rejectionOf(read(status, body));
      expect(error).toMatchObject({
        code,
        data: {
          reason: 'http_status',
          endpoint: '/oauth2/token',
          status,
          hint,
          errorDescription: `Xiaomi answered account.xiaomi.com/oauth2/token with HTTP ${status} and no error of its own: ${hint}`,
        },
      });
    },
  );

  it('reports a body that is not JSON as InvalidResponse not_json', async () => {
    const error = await rejectionOf(read(200, undefined));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.InvalidResponse,
      data: {
        reason: 'not_json',
        endpoint: '/oauth2/token',
        hint: 'Xiaomi may be having trouble; try again later, and report it if it persists.',
        errorDescription:
          'Xiaomi’s answer from account.xiaomi.com/oauth2/token could not be read (the body is not JSON): Xiaomi may be having trouble; try again later, and report it if it persists.',
      },
    });
  });

  it.each([
    ['no field it needs', {}],
    ['a field of the wrong type', { value: 42 }],
    ['a JSON array', [{ value: 'v' }]],
    ['null', null],
  ])('reports %s as InvalidResponse unexpected_shape', async (_, body) => {
    const error = await rejectionOf(read(200, body));
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.InvalidResponse,
      data: {
        reason: 'unexpected_shape',
        errorDescription: expect.stringContaining('(the body lacks the expected fields)'),
      },
    });
  });

  it('hides the request’s secrets that Xiaomi echoes in its error', async () => {
    const echoing: AnswerReading<unknown> = {
      ...reading,
      readError: () => ({ code: `x${mockClientSecret}`, description: `bad ${mockClientSecret}` }),
    };
    const error = await rejectionOf(
      Promise.resolve().then(() => readXiaomiAnswer(answer(200, {}), echoing)),
    );
    expect(error.data).toMatchObject({ code: 'x[redacted]', description: 'bad [redacted]' });
  });
});
