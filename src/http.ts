/**
 * Xiaomi's wire: one request helper for every endpoint, and the reading of its answers, whose
 * quirks (a `&&&START&&&` prefix, errors in HTTP 200 bodies) are the same everywhere.
 */
import { ConnectorErrorCodes } from '@logto/connector-kit';
import type { ZodType, ZodTypeDef } from 'zod';
import { requestTimeout, xiaomiJsonPrefix } from './constant.js';
import {
  httpStatusError,
  invalidResponse,
  timedOut,
  unreachable,
  type XiaomiFailure,
  xiaomiError,
} from './errors.js';
import { onFirstUse } from './lazy.js';
import { concealSecrets, secretValuesOf } from './secrets.js';

export type XiaomiRequest = {
  method: 'get' | 'post';
  url: string;
  /** Sent as a form body for POST and as the query for GET. */
  params: Record<string, string>;
};

export type XiaomiAnswer = {
  url: URL;
  status: number;
  /** The parsed JSON, exactly as Xiaomi sent it, or `undefined` when the body is not JSON. */
  body: unknown;
  /** The secret values the request carried, to keep out of any error about its answer. */
  secrets: string[];
};

/** How to read one endpoint's answers. */
export type AnswerReading<T> = {
  /** Finds Xiaomi's own error in a body, whatever the HTTP status. */
  readError: (body: unknown) => XiaomiFailure | undefined;
  /** The ConnectorError code for a 4xx answer that carries no readable Xiaomi error. */
  refusedCode: ConnectorErrorCodes;
  guard: ZodType<T, ZodTypeDef, unknown>;
};

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

const isTimeout = (error: unknown) => error instanceof Error && error.name === 'TimeoutError';

/** The socket error code (`ECONNREFUSED`, …) of a failed fetch, found on the error or its causes. */
const networkCause = (error: unknown): string | undefined => {
  for (let current = error; current instanceof Error; current = current.cause) {
    if ('code' in current && typeof current.code === 'string') {
      return current.code;
    }
  }
  return undefined;
};

/**
 * Sends one request to Xiaomi and reads its whole body within `timeout`. Network failures and
 * timeouts become ConnectorErrors here; HTTP statuses are left to `readXiaomiAnswer`.
 */
export const requestXiaomi = async (
  { method, url, params }: XiaomiRequest,
  timeout = requestTimeout,
): Promise<XiaomiAnswer> => {
  const target = new URL(url);
  const encoded = new URLSearchParams(params);

  try {
    const { default: ky } = await loadKy();
    const response = await ky(url, {
      method,
      ...(method === 'post' ? { body: encoded } : { searchParams: encoded }),
      // One signal bounds the body as well as the headers; ky's own timeout stops at the headers.
      signal: AbortSignal.timeout(timeout),
      timeout: false,
      retry: 0,
      throwHttpErrors: false,
    });
    const body = parseXiaomiJson(await response.text());

    return { url: target, status: response.status, body, secrets: secretValuesOf(params) };
  } catch (error) {
    throw isTimeout(error) ? timedOut(target, timeout) : unreachable(target, networkCause(error));
  }
};

/** Xiaomi's error with any secret of the request it echoes hidden, ready to go into an error. */
const concealFailure = ({ code, description }: XiaomiFailure, secrets: string[]) => ({
  code: typeof code === 'string' ? concealSecrets(code, secrets) : code,
  description: description === undefined ? undefined : concealSecrets(description, secrets),
});

/** Reads an answer in Xiaomi's order: its own error first, then the HTTP status, then the shape. */
export const readXiaomiAnswer = <T>(
  { url, status, body, secrets }: XiaomiAnswer,
  { readError, refusedCode, guard }: AnswerReading<T>,
): T => {
  const failure = readError(body);
  if (failure) {
    throw xiaomiError(concealFailure(failure, secrets));
  }

  if (status >= 400) {
    throw httpStatusError(url, status, status < 500 ? refusedCode : ConnectorErrorCodes.General);
  }

  if (body === undefined) {
    throw invalidResponse(url, 'not_json');
  }

  const result = guard.safeParse(body);
  if (!result.success) {
    throw invalidResponse(url, 'unexpected_shape');
  }

  return result.data;
};
