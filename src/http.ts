/**
 * Xiaomi's wire: one request helper for every endpoint, which sends again what is safe to send
 * again, and the reading of Xiaomi's responses, whose quirks (a `&&&START&&&` prefix, errors in
 * HTTP 200 bodies) are the same everywhere.
 */
import { ConnectorErrorCodes } from '@logto/connector-kit';
import type { Input, RetryOptions } from 'ky';
import type { ZodType, ZodTypeDef } from 'zod';
import { maxAttempts, timeLimits, xiaomiJsonPrefix } from './constant.js';
import {
  httpStatusError,
  invalidResponseError,
  networkError,
  timeoutError,
  type XiaomiErrorData,
  type XiaomiFailure,
  xiaomiError,
} from './errors.js';
import { onFirstUse } from './lazy.js';
import { concealSecrets, secretValuesOf } from './secrets.js';

export type XiaomiRequest = {
  /** GET reads, which may be sent again; POST spends a code or a refresh token. */
  method: 'get' | 'post';
  url: string;
  /** Sent as a form body for POST and as the query for GET. */
  params: Record<string, string>;
};

export type XiaomiResponse = {
  url: URL;
  status: number;
  /** The parsed JSON, exactly as Xiaomi sent it, or `undefined` when the body is not JSON. */
  body: unknown;
  /** The secret values the request carried, to keep out of any error about its response. */
  secrets: string[];
  /** What each attempt got, for the error that may follow. */
  attempts: string[];
};

/** How to read one endpoint's responses. */
export type ResponseReading<T> = {
  /** Finds Xiaomi's own error in a body, whatever the HTTP status. */
  readError: (body: unknown) => XiaomiFailure | undefined;
  /** The ConnectorError code for a 4xx response that carries no readable Xiaomi error. */
  refusedCode: (status: number) => ConnectorErrorCodes;
  guard: ZodType<T, ZodTypeDef, unknown>;
};

/** What one attempt got: Xiaomi's response, or what ended it without one. */
type Attempt =
  | { status: number; body: unknown; retryAfter: string | null }
  | { failure: 'timeout' | 'network'; cause?: string };

const parseXiaomiJson = (text: string): unknown => {
  const trimmed = text.trimStart();
  const json = trimmed.startsWith(xiaomiJsonPrefix)
    ? trimmed.slice(xiaomiJsonPrefix.length)
    : trimmed;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
};

const loadKy = onFirstUse(() => import('ky'));

/** The socket error code (`ECONNREFUSED`, …) of a failed fetch, found on the error or its causes. */
const networkCause = (error: unknown): string | undefined => {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ('code' in current && typeof current.code === 'string') {
      return current.code;
    }
  }
  return undefined;
};

const failureOf = (error: unknown): Attempt =>
  error instanceof Error && error.name === 'TimeoutError'
    ? { failure: 'timeout' }
    : { failure: 'network', cause: networkCause(error) };

const describeAttempt = (attempt: Attempt) =>
  'status' in attempt
    ? `HTTP ${attempt.status}`
    : attempt.failure === 'timeout'
      ? 'timeout'
      : (attempt.cause ?? 'network error');

/**
 * A signal that aborts with a TimeoutError after `ms`, or when `within` does; `end` stops its
 * timer. A timer of its own: Node 20 collects an AbortSignal.timeout that only an AbortSignal.any
 * holds (as ky's and ours do), which then never fires.
 */
const timeLimit = (ms: number, within?: AbortSignal) => {
  const limit = new AbortController();
  let immediate: NodeJS.Immediate | undefined;
  const timer = setTimeout(() => {
    // A process that stood still past the limit (a long garbage collection, a stopped process)
    // may have Xiaomi's response waiting: I/O comes before `setImmediate`, so it is read first.
    immediate = setImmediate(() => {
      limit.abort(new DOMException(`No answer within ${ms} ms.`, 'TimeoutError'));
    });
  }, ms);
  return {
    signal: within ? AbortSignal.any([within, limit.signal]) : limit.signal,
    end: () => {
      clearTimeout(timer);
      clearImmediate(immediate);
    },
  };
};

/**
 * ky's fetch: one attempt, recorded in `attempts`. ky's own timeout stops at the headers, so each
 * attempt carries its own time limit, which also bounds reading the body: a body that stalls
 * halfway ends the attempt as silent headers do, and leaves the rest of the request's time to
 * another.
 */
const attemptRecordedIn =
  (attempts: Attempt[], timeout: number, requestSignal: AbortSignal) =>
  async (input: Input, init?: RequestInit) => {
    // The request's signal itself, not that of ky's Request: once garbage is collected, Node 20's
    // fetch loses an abort that reaches it only through a Request's signal.
    const { signal, end } = timeLimit(timeout, requestSignal);
    try {
      const response = await fetch(input, { ...init, signal });
      const body = parseXiaomiJson(await response.text());
      attempts.push({
        status: response.status,
        body,
        retryAfter: response.headers.get('retry-after'),
      });
      return response;
    } catch (error) {
      attempts.push(failureOf(error));
      throw error;
    } finally {
      end();
    }
  };

/**
 * Failures of a connection that never carried the request: refused, a name that did not resolve,
 * no connection in time, a proxy that refused the tunnel (undici's RequestAbortedError, which a
 * fetch meets only there: our own time limits abort with a TimeoutError). Xiaomi cannot have read
 * a code or a refresh token sent this way, so these alone are worth a POST again. A reset, a
 * closed socket, a timeout or any response may come after Xiaomi read it: a POST then is final.
 */
const unsentCauses: ReadonlySet<string | undefined> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_ABORTED',
]);

/** Statuses that say "not now" rather than "no": a gateway, an overloaded or a rate-limited server. */
const passingStatuses = [408, 429, 500, 502, 503, 504];

/** Whether sending again could have cured a failure of `callXiaomi`, had attempts remained. */
export const isPassingFailure = (data: XiaomiErrorData) =>
  data.reason === 'timeout' ||
  data.reason === 'network' ||
  (data.reason === 'http_status' && passingStatuses.includes(data.status));

/** The longest Retry-After a user waits for; a server that asks for longer is not asked again. */
const longestRetryAfter = 1000;

const retryAfterMs = (value: string) => {
  const seconds = Number(value);
  return Number.isNaN(seconds) ? Date.parse(value) - Date.now() : seconds * 1000;
};

/**
 * When ky sends a request again: GETs after a network failure, a timeout or a passing status,
 * never after Xiaomi's own error (a refusal, whatever the status); POSTs only when the request
 * never left. The waits are ky's backoff, 0.3 s then 0.6 s, with full jitter: a random part of
 * each, so that many Logto servers that met the same stumble do not come back at once, and at
 * most what the official connector waits.
 */
const resendWhenSafe = (
  method: XiaomiRequest['method'],
  attempts: Attempt[],
  readError: ResponseReading<unknown>['readError'],
): RetryOptions => ({
  limit: maxAttempts - 1,
  // POST is listed so that `shouldRetry` decides for it; ky's own rules never send one again.
  methods: ['get', 'post'],
  statusCodes: passingStatuses,
  afterStatusCodes: [429, 503],
  maxRetryAfter: longestRetryAfter,
  jitter: true,
  // Each attempt has its own time limit, and a read that ran out of it is safe to send again.
  retryOnTimeout: true,
  shouldRetry: () => {
    const last = attempts.at(-1) as Attempt;
    if ('failure' in last) {
      return method === 'post' ? unsentCauses.has(last.cause) : undefined;
    }
    // ky shortens a longer Retry-After to maxRetryAfter; honouring it means not asking again.
    const tooEarly = last.retryAfter !== null && retryAfterMs(last.retryAfter) > longestRetryAfter;
    return method === 'post' || readError(last.body) !== undefined || tooEarly ? false : undefined;
  },
});

/**
 * Sends one request to Xiaomi, again where that is safe, within `timeLimits`, and returns what
 * its last attempt got. Network failures and timeouts become ConnectorErrors here; HTTP statuses
 * are left to `readXiaomiResponse`.
 */
export const requestXiaomi = async (
  { method, url, params }: XiaomiRequest,
  readError: ResponseReading<unknown>['readError'],
): Promise<XiaomiResponse> => {
  const target = new URL(url);
  const encoded = new URLSearchParams(params);
  const attempts: Attempt[] = [];

  const { default: ky } = await loadKy();
  const requestLimit = timeLimit(timeLimits.request);
  try {
    await ky(url, {
      method,
      ...(method === 'post' ? { body: encoded } : { searchParams: encoded }),
      fetch: attemptRecordedIn(attempts, timeLimits.attempt, requestLimit.signal),
      timeout: false,
      signal: requestLimit.signal,
      // ky sends again only after the errors it throws; a response it does not throw is final.
      throwHttpErrors: (status) => passingStatuses.includes(status),
      retry: resendWhenSafe(method, attempts, readError),
    });
  } catch {
    // ky gave up, or the request's time ran out while it waited to send again: either way, what
    // the last attempt got is the outcome. ky throws only once the first attempt has ended.
  } finally {
    requestLimit.end();
  }

  const last = attempts.at(-1) as Attempt;
  const described = attempts.map(describeAttempt);
  if ('failure' in last) {
    throw last.failure === 'timeout'
      ? timeoutError(target, described)
      : networkError(target, last.cause, described);
  }
  return {
    url: target,
    status: last.status,
    body: last.body,
    secrets: secretValuesOf(params),
    attempts: described,
  };
};

/** Xiaomi's error with any secret of the request it echoes hidden, ready to go into an error. */
const concealFailure = ({ code, description }: XiaomiFailure, secrets: string[]) => ({
  code: typeof code === 'string' ? concealSecrets(code, secrets) : code,
  description: description === undefined ? undefined : concealSecrets(description, secrets),
});

/** Reads a response in Xiaomi's order: its own error first, then the HTTP status, then the shape. */
export const readXiaomiResponse = <T>(
  { url, status, body, secrets, attempts }: XiaomiResponse,
  { readError, refusedCode, guard }: ResponseReading<T>,
): T => {
  const failure = readError(body);
  if (failure) {
    throw xiaomiError(concealFailure(failure, secrets));
  }

  if (status >= 400) {
    throw httpStatusError(
      url,
      status,
      status < 500 ? refusedCode(status) : ConnectorErrorCodes.General,
      attempts,
    );
  }

  if (body === undefined) {
    throw invalidResponseError(url, 'not_json', attempts);
  }

  const result = guard.safeParse(body);
  if (!result.success) {
    throw invalidResponseError(url, 'unexpected_shape', attempts);
  }

  return result.data;
};

/** Sends one request to Xiaomi and reads its response as `reading` says. */
export const callXiaomi = async <T>(request: XiaomiRequest, reading: ResponseReading<T>) =>
  readXiaomiResponse(await requestXiaomi(request, reading.readError), reading);
