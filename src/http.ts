import { ConnectorErrorCodes } from '@logto/connector-kit';
import type { ZodType, ZodTypeDef } from 'zod';
import { requestTimeout, xiaomiJsonPrefix } from './constant.js';
import {
  type HintOverrides,
  httpStatusError,
  invalidResponse,
  timedOut,
  unreachable,
  type XiaomiFailure,
  xiaomiError,
} from './errors.js';
import { onFirstUse } from './lazy.js';

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

export type AnswerRules<T> = {
  /** Finds Xiaomi's own error in a body, whatever the HTTP status. */
  readError: (body: unknown) => XiaomiFailure | undefined;
  /** The ConnectorError code for a 4xx answer that carries no readable Xiaomi error. */
  clientErrorCode: (status: number) => ConnectorErrorCodes;
  guard: ZodType<T, ZodTypeDef, unknown>;
  hintOverrides?: HintOverrides;
};

/** Parameters whose values must never leave this module, not even inside an error text. */
const secretParams = ['client_secret', 'token', 'refresh_token'];

const secretsOf = (params: Record<string, string>) =>
  secretParams
    .map((key) => params[key])
    .filter((secret): secret is string => Boolean(secret))
    // Longest first, so that a secret inside another cannot leave part of the longer one.
    .sort((a, b) => b.length - a.length);

const conceal = (text: string, secrets: string[]) =>
  secrets.reduce((hidden, secret) => hidden.replaceAll(secret, '[redacted]'), text);

/** Xiaomi's error with any secret of the request it echoes hidden, ready to go into an error. */
const concealFailure = ({ code, description }: XiaomiFailure, secrets: string[]) => ({
  code: typeof code === 'string' ? conceal(code, secrets) : code,
  description: description === undefined ? undefined : conceal(description, secrets),
});

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

    return { url: target, status: response.status, body, secrets: secretsOf(params) };
  } catch (error) {
    throw isTimeout(error) ? timedOut(target, timeout) : unreachable(target, networkCause(error));
  }
};

/** Reads an answer in Xiaomi's order: its own error first, then the HTTP status, then the shape. */
export const readXiaomiAnswer = <T>(
  { url, status, body, secrets }: XiaomiAnswer,
  { readError, clientErrorCode, guard, hintOverrides }: AnswerRules<T>,
): T => {
  const failure = readError(body);
  if (failure) {
    throw xiaomiError(concealFailure(failure, secrets), hintOverrides);
  }

  if (status >= 400) {
    const code = status < 500 ? clientErrorCode(status) : ConnectorErrorCodes.General;
    throw httpStatusError(url, status, code);
  }

  if (body === undefined) {
    throw invalidResponse(url, 'the body is not JSON');
  }

  const result = guard.safeParse(body);
  if (!result.success) {
    throw invalidResponse(url, 'the body lacks the expected fields');
  }

  return result.data;
};

export const callXiaomi = async <T>(request: XiaomiRequest, rules: AnswerRules<T>) =>
  readXiaomiAnswer(await requestXiaomi(request), rules);
