import { ConnectorErrorCodes } from '@logto/connector-kit';
import ky from 'ky';
import type { ZodType, ZodTypeDef } from 'zod';
import { requestTimeout, xiaomiJsonPrefix } from './constant.js';
import { httpStatusError, invalidResponse, requestFailed, xiaomiError } from './errors.js';

export type XiaomiRequest = {
  method: 'get' | 'post';
  url: string;
  /** Sent as a form body for POST and as the query for GET. */
  params: Record<string, string>;
};

export type XiaomiAnswer = {
  endpoint: string;
  status: number;
  /** The parsed JSON, or `undefined` when the body is not JSON. */
  body: unknown;
};

export type AnswerRules<T> = {
  /** Finds Xiaomi's own error in a body, whatever the HTTP status. */
  readError: (body: unknown) => { code?: string | number; description?: string } | undefined;
  /** The ConnectorError code for a 4xx answer that carries no readable Xiaomi error. */
  clientErrorCode: (status: number) => ConnectorErrorCodes;
  guard: ZodType<T, ZodTypeDef, unknown>;
};

/** Parameters whose values must never leave this module, not even inside an error text. */
const secretParams = ['client_secret', 'token', 'refresh_token'];

const redactSecrets = (text: string, params: Record<string, string>) =>
  secretParams
    .map((key) => params[key])
    .filter((secret): secret is string => Boolean(secret))
    .reduce((redacted, secret) => redacted.replaceAll(secret, '[redacted]'), text);

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
  const endpoint = new URL(url).pathname;
  const encoded = new URLSearchParams(params);

  // One timer bounds the body as well as the headers; ky's own timeout stops at the headers.
  const controller = new AbortController();
  const timer = setTimeout(
    () => controller.abort(new DOMException('Xiaomi did not answer in time.', 'TimeoutError')),
    timeout,
  );

  try {
    const response = await ky(url, {
      method,
      ...(method === 'post' ? { body: encoded } : { searchParams: encoded }),
      signal: controller.signal,
      timeout: false,
      retry: 0,
      throwHttpErrors: false,
    });
    const text = redactSecrets(await response.text(), params);

    return { endpoint, status: response.status, body: parseXiaomiJson(text) };
  } catch (error) {
    throw isTimeout(error)
      ? requestFailed(endpoint, 'timeout')
      : requestFailed(endpoint, 'network', networkCause(error));
  } finally {
    clearTimeout(timer);
  }
};

/** Reads an answer in Xiaomi's order: its own error first, then the HTTP status, then the shape. */
export const readXiaomiAnswer = <T>(
  { endpoint, status, body }: XiaomiAnswer,
  { readError, clientErrorCode, guard }: AnswerRules<T>,
): T => {
  const failure = readError(body);
  if (failure) {
    throw xiaomiError(failure.code, failure.description);
  }

  if (status >= 400) {
    const code = status < 500 ? clientErrorCode(status) : ConnectorErrorCodes.General;
    throw httpStatusError(endpoint, status, code);
  }

  if (body === undefined) {
    throw invalidResponse(endpoint, 'The body is not JSON.');
  }

  const result = guard.safeParse(body);
  if (!result.success) {
    throw invalidResponse(endpoint, 'The body does not have the expected fields.');
  }

  return result.data;
};

export const callXiaomi = async <T>(request: XiaomiRequest, rules: AnswerRules<T>) =>
  readXiaomiAnswer(await requestXiaomi(request), rules);
