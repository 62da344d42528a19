import { ConnectorErrorCodes } from '@logto/connector-kit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { mockAccessToken, mockClientId, mockClientSecret, rejectionOf } from '../test/fixtures.js';
import { account, interceptXiaomi, openApi, socketError } from '../test/xiaomi-nock.js';
import { failureHints } from './errors.js';
import {
  type ResponseReading,
  readXiaomiResponse,
  requestXiaomi,
  type XiaomiResponse,
} from './http.js';

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

/** Xiaomi's own error, as the open API sends it: `{ result: 'error', code }`. */
const readError = (body: unknown) =>
  (body as { result?: string } | undefined)?.result === 'error' ? { code: 96008 } : undefined;

const requestToken = () => requestXiaomi(tokenRequest, readError);
const requestProfile = () => requestXiaomi(profileRequest, readError);

const token = () => account().post('/oauth2/token');
const profile = () => openApi().get('/user/profile').query(true);
const gatewayPage = '<html><h1>502 Bad Gateway</h1></html>';
const okProfile = { result: 'ok', data: { unionId: 'u-1' } };

/** The time limits, short here; a test may change them for itself. */
const limits = vi.hoisted(() => ({ attempt: 100, request: 2000 }));
vi.mock('./constant.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('./constant.js')>()),
  timeLimits: limits,
}));

interceptXiaomi();

/**
 * Records the waits ky asks for before sending again, and lets them pass at once: every timer but
 * the time limits. The time limits keep their own course.
 */
const recordWaits = () => {
  const realSetTimeout = globalThis.setTimeout;
  const isLimit = (ms?: number) => ms === limits.attempt || ms === limits.request;
  const spy = vi
    .spyOn(globalThis, 'setTimeout')
    .mockImplementation(((run: () => void, ms?: number) =>
      realSetTimeout(run, isLimit(ms) ? ms : 0)) as typeof setTimeout);
  return () => spy.mock.calls.map(([, ms]) => ms).filter((ms) => !isLimit(ms));
};

describe('requestXiaomi', () => {
  it('strips the prefix, even after leading whitespace', async () => {
    token().reply(200, '\n &&&START&&&{"a":1}');
    await expect(requestToken()).resolves.toEqual({
      url: new URL('https://account.xiaomi.com/oauth2/token'),
      status: 200,
      body: { a: 1 },
      secrets: [mockClientSecret],
      attempts: ['HTTP 200'],
    });
  });

  it('reads JSON without the prefix too', async () => {
    profile().reply(200, { a: 1 });
    await expect(requestProfile()).resolves.toMatchObject({ body: { a: 1 } });
  });

  it.each([
    ['an HTML page', '<html>Bad request</html>'],
    ['a truncated body', '&&&START&&&{"access_token":"abc","expi'],
    ['the prefix alone', '&&&START&&&'],
    ['an empty body', ''],
  ])('gives undefined for %s', async (_, text) => {
    token().reply(400, text);
    await expect(requestToken()).resolves.toMatchObject({ status: 400, body: undefined });
  });

  it('sends a POST as a form and a GET as a query', async () => {
    const form = account()
      .post('/oauth2/token', { client_id: mockClientId, client_secret: mockClientSecret })
      .reply(200, '{}');
    const query = openApi()
      .get('/user/profile')
      .query({ clientId: mockClientId, token: mockAccessToken })
      .reply(200, '{}');
    await requestToken();
    await requestProfile();
    expect(form.isDone() && query.isDone()).toBe(true);
  });

  it('keeps Xiaomi’s answer as sent, even where it holds a secret of the request', async () => {
    const answer = { result: 'error', description: `bad token ${mockAccessToken}` };
    profile().reply(200, answer);
    const { body, secrets } = await requestProfile();
    expect(body).toEqual(answer);
    expect(secrets).toEqual([mockAccessToken]);
  });

  it('names the socket error code of a network failure and what to check', async () => {
    token().replyWithError(socketError('ECONNRESET'));
    const error = await rejectionOf(requestToken());
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: {
        reason: 'network',
        endpoint: '/oauth2/token',
        cause: 'ECONNRESET',
        attempts: ['ECONNRESET'],
        hint: failureHints.network,
        errorDescription: `The Logto server could not connect to account.xiaomi.com/oauth2/token (ECONNRESET): ${failureHints.network}`,
      },
    });
  });

  it('leaves the cause out of the sentence when the failure names none', async () => {
    token().replyWithError('socket closed');
    const error = await rejectionOf(requestToken());
    expect(error.code).toBe(ConnectorErrorCodes.General);
    expect(error.data).toMatchObject({
      reason: 'network',
      cause: undefined,
      attempts: ['network error'],
      errorDescription: expect.stringMatching(
        /^The Logto server could not connect to account\.xiaomi\.com\/oauth2\/token: /,
      ),
    });
  });
});

describe('time limits', () => {
  afterEach(() => {
    Object.assign(limits, { attempt: 100, request: 2000 });
  });

  it('ends an attempt whose answer is late with a General timeout error that says so', async () => {
    token().delay(1000).reply(200, '{}');
    const error = await rejectionOf(requestToken());
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: {
        reason: 'timeout',
        endpoint: '/oauth2/token',
        attempts: ['timeout'],
        hint: failureHints.timeout,
        errorDescription: `Xiaomi did not answer account.xiaomi.com/oauth2/token in time: ${failureHints.timeout}`,
      },
    });
  });

  it('ends an attempt whose body stops halfway, and says how many were made', async () => {
    profile().times(3).delayBody(1000).reply(200, okProfile);
    const error = await rejectionOf(requestProfile());
    expect(error.code).toBe(ConnectorErrorCodes.General);
    expect(error.data).toMatchObject({
      reason: 'timeout',
      attempts: ['timeout', 'timeout', 'timeout'],
      errorDescription: `Xiaomi did not answer open.account.xiaomi.com/user/profile in time after 3 attempts: ${failureHints.timeout}`,
    });
  });

  it('leaves a read that hung once the time to ask again', async () => {
    profile().delay(1000).reply(200, { late: true });
    profile().reply(200, okProfile);
    await expect(requestProfile()).resolves.toMatchObject({
      body: okProfile,
      attempts: ['timeout', 'HTTP 200'],
    });
  });

  it('leaves no timer behind, for an attempt nor for the request', async () => {
    const started = vi.spyOn(globalThis, 'setTimeout');
    const stopped = vi.spyOn(globalThis, 'clearTimeout');
    profile().reply(502, gatewayPage);
    profile().reply(200, okProfile);
    await requestProfile();
    const limits = started.mock.calls.flatMap(([, ms], index) =>
      ms === 100 || ms === 2000 ? [started.mock.results[index]?.value] : [],
    );
    expect(limits).toHaveLength(3);
    for (const timer of limits) {
      expect(stopped).toHaveBeenCalledWith(timer);
    }
  });

  it('stops asking when the request’s own time is up', async () => {
    Object.assign(limits, { attempt: 200, request: 300 });
    const third = profile().times(3).delay(1000).reply(200, okProfile);
    const error = await rejectionOf(requestProfile());
    expect(error).toMatchObject({ code: ConnectorErrorCodes.General, data: { reason: 'timeout' } });
    expect(error.data).toHaveProperty('attempts', ['timeout', 'timeout']);
    expect(third.isDone()).toBe(false);
  });
});

describe('sending a read again', () => {
  it.each([408, 429, 500, 502, 503, 504])('asks again after HTTP %i', async (status) => {
    profile().reply(status, gatewayPage);
    profile().reply(200, okProfile);
    await expect(requestProfile()).resolves.toMatchObject({
      status: 200,
      body: okProfile,
      attempts: [`HTTP ${status}`, 'HTTP 200'],
    });
  });

  it.each([
    'ECONNREFUSED',
    'ECONNRESET',
    'ENOTFOUND',
    'EAI_AGAIN',
    'UND_ERR_SOCKET',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  ])('asks again after a network failure (%s)', async (code) => {
    profile().replyWithError(socketError(code));
    profile().reply(200, okProfile);
    await expect(requestProfile()).resolves.toMatchObject({ attempts: [code, 'HTTP 200'] });
  });

  it.each([200, 400, 503])(
    'never asks again after Xiaomi’s own error (HTTP %i)',
    async (status) => {
      profile().reply(status, { result: 'error', code: 96008 });
      const second = profile().reply(200, okProfile);
      await expect(requestProfile()).resolves.toMatchObject({ attempts: [`HTTP ${status}`] });
      expect(second.isDone()).toBe(false);
    },
  );

  it.each([400, 401, 403, 404, 413])('never asks again after HTTP %i', async (status) => {
    profile().reply(status, gatewayPage);
    const second = profile().reply(200, okProfile);
    await expect(requestProfile()).resolves.toMatchObject({ attempts: [`HTTP ${status}`] });
    expect(second.isDone()).toBe(false);
  });

  it('makes three attempts at most', async () => {
    const fourth = profile().times(4).reply(503, gatewayPage);
    await expect(requestProfile()).resolves.toMatchObject({
      status: 503,
      attempts: ['HTTP 503', 'HTTP 503', 'HTTP 503'],
    });
    expect(fourth.isDone()).toBe(false);
  });

  it('waits the second a Retry-After asks for', async () => {
    const waits = recordWaits();
    profile().reply(503, gatewayPage, { 'retry-after': '1' });
    profile().reply(200, okProfile);
    await expect(requestProfile()).resolves.toMatchObject({ attempts: ['HTTP 503', 'HTTP 200'] });
    expect(waits()).toEqual([1000]);
  });

  it.each([
    ['seconds', '2'],
    ['a date', new Date(Date.now() + 60_000).toUTCString()],
  ])('does not ask again before a longer Retry-After (%s)', async (_, retryAfter) => {
    profile().reply(429, gatewayPage, { 'retry-after': retryAfter });
    const second = profile().reply(200, okProfile);
    await expect(requestProfile()).resolves.toMatchObject({ attempts: ['HTTP 429'] });
    expect(second.isDone()).toBe(false);
  });

  it('asks again at once for a Retry-After date already past', async () => {
    profile().reply(503, gatewayPage, {
      'retry-after': new Date(Date.now() - 60_000).toUTCString(),
    });
    profile().reply(200, okProfile);
    await expect(requestProfile()).resolves.toMatchObject({ attempts: ['HTTP 503', 'HTTP 200'] });
  });

  it('backs off 0.3 s, then 0.6 s, each wait at most', async () => {
    const waits = recordWaits();
    vi.spyOn(Math, 'random').mockReturnValue(1);
    profile().times(3).reply(502, gatewayPage);
    await requestProfile();
    expect(waits()).toEqual([300, 600]);
  });

  it('draws each wait at random below that (full jitter)', async () => {
    const waits = recordWaits();
    vi.spyOn(Math, 'random').mockReturnValue(0.1);
    profile().times(3).reply(502, gatewayPage);
    await requestProfile();
    const [first, second] = waits();
    expect(first).toBeCloseTo(30);
    expect(second).toBeCloseTo(60);
  });
});

describe('sending a POST again', () => {
  it.each(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_ABORTED'])(
    'sends it again when the connection never carried it (%s)',
    async (code) => {
      token().replyWithError(socketError(code));
      token().reply(200, '&&&START&&&{"a":1}');
      await expect(requestToken()).resolves.toMatchObject({
        body: { a: 1 },
        attempts: [code, 'HTTP 200'],
      });
    },
  );

  it('stops after three connections that never carried it', async () => {
    const fourth = token().times(4).replyWithError(socketError('ECONNREFUSED'));
    const error = await rejectionOf(requestToken());
    expect(error.code).toBe(ConnectorErrorCodes.General);
    expect(error.data).toMatchObject({
      reason: 'network',
      cause: 'ECONNREFUSED',
      attempts: ['ECONNREFUSED', 'ECONNREFUSED', 'ECONNREFUSED'],
      errorDescription: expect.stringContaining('(ECONNREFUSED) after 3 attempts: '),
    });
    expect(fourth.isDone()).toBe(false);
  });

  it.each(['ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'])(
    'never sends it again after %s: Xiaomi may have read it',
    async (code) => {
      token().replyWithError(socketError(code));
      const second = token().reply(200, '{}');
      expect(await rejectionOf(requestToken())).toMatchObject({
        code: ConnectorErrorCodes.General,
        data: { reason: 'network', attempts: [code] },
      });
      expect(second.isDone()).toBe(false);
    },
  );

  it.each([408, 429, 500, 502, 503, 504])(
    'never sends it again after HTTP %i: Xiaomi may have read it',
    async (status) => {
      token().reply(status, gatewayPage);
      const second = token().reply(200, '{}');
      await expect(requestToken()).resolves.toMatchObject({ attempts: [`HTTP ${status}`] });
      expect(second.isDone()).toBe(false);
    },
  );

  it('never sends it again after a timeout: Xiaomi may have read it', async () => {
    token().delay(1000).reply(200, '{}');
    const second = token().reply(200, '{}');
    const error = await rejectionOf(requestToken());
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { reason: 'timeout', attempts: ['timeout'] },
    });
    expect(second.isDone()).toBe(false);
  });
});

describe('readXiaomiResponse', () => {
  const url = new URL('https://account.xiaomi.com/oauth2/token');
  const answer = (status: number, body: unknown): XiaomiResponse => ({
    url,
    status,
    body,
    secrets: [mockClientSecret],
    attempts: ['HTTP 502', `HTTP ${status}`],
  });
  const reading: ResponseReading<{ value: string }> = {
    readError: (body) =>
      (body as { failed?: boolean } | undefined)?.failed ? { code: 96003 } : undefined,
    refusedCode: (status) =>
      status === 401
        ? ConnectorErrorCodes.SocialAccessTokenInvalid
        : ConnectorErrorCodes.SocialAuthCodeInvalid,
    guard: z.object({ value: z.string() }),
  };
  const read = (status: number, body: unknown) =>
    Promise.resolve().then(() => readXiaomiResponse(answer(status, body), reading));
  const refused = 'Xiaomi refused the request without saying why; try signing in again.';
  const serverError = 'Xiaomi had a server error; try again later.';

  it('returns the guarded body of a good answer', () => {
    expect(readXiaomiResponse(answer(200, { value: 'v', more: 1 }), reading)).toEqual({
      value: 'v',
    });
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
    [401, { html: true }, ConnectorErrorCodes.SocialAccessTokenInvalid, refused],
    [499, undefined, ConnectorErrorCodes.SocialAuthCodeInvalid, refused],
    [500, undefined, ConnectorErrorCodes.General, serverError],
    [503, { message: 'busy' }, ConnectorErrorCodes.General, serverError],
  ])(
    'maps HTTP %i without an error of Xiaomi’s: 4xx as the endpoint says, 5xx to General',
    async (status, body, code, hint) => {
      const error = await rejectionOf(read(status, body));
      expect(error).toMatchObject({
        code,
        data: {
          reason: 'http_status',
          endpoint: '/oauth2/token',
          status,
          attempts: ['HTTP 502', `HTTP ${status}`],
          hint,
          errorDescription: `Xiaomi answered account.xiaomi.com/oauth2/token with HTTP ${status} and no error of its own after 2 attempts: ${hint}`,
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
        attempts: ['HTTP 502', 'HTTP 200'],
        hint: 'Xiaomi may be having trouble; try again later, and report it if it persists.',
        errorDescription:
          'Xiaomi’s answer from account.xiaomi.com/oauth2/token could not be read (the body is not JSON) after 2 attempts: Xiaomi may be having trouble; try again later, and report it if it persists.',
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
    const echoing: ResponseReading<unknown> = {
      ...reading,
      readError: () => ({ code: `x${mockClientSecret}`, description: `bad ${mockClientSecret}` }),
    };
    const error = await rejectionOf(
      Promise.resolve().then(() => readXiaomiResponse(answer(200, {}), echoing)),
    );
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { code: 'x[redacted]', description: 'bad [redacted]' },
    });
  });
});
