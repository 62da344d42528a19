import { ConnectorError, ConnectorErrorCodes } from '@logto/connector-kit';
import { redisCallLimit } from './constant.js';

const { General, InvalidConfig, InvalidResponse, SocialAuthCodeInvalid, SocialAccessTokenInvalid } =
  ConnectorErrorCodes;

export type ConfigIssue = { path: string; message: string };

/** Where a request went, and what each of its attempts got, first to last. */
export type WireFailure = {
  endpoint: string;
  /** `HTTP 503`, a socket error code such as `ECONNRESET`, or `timeout`, for each attempt. */
  attempts: string[];
};

/** What a ConnectorError of this connector says besides its prose, by `reason`. */
export type XiaomiErrorDetails =
  | {
      /** Xiaomi answered with an error of its own (callback, token endpoint or open API). */
      reason: 'xiaomi_error';
      /** Xiaomi's code: a number for its 960xx codes, else the text it sent; absent if none. */
      code?: number | string;
      name: string;
      description?: string;
    }
  | (WireFailure & { reason: 'http_status'; status: number })
  | (WireFailure & { reason: 'timeout' })
  | (WireFailure & { reason: 'network'; cause?: string })
  /** `not_json`: the body could not be parsed; `unexpected_shape`: it lacks the fields needed. */
  | (WireFailure & { reason: 'not_json' | 'unexpected_shape' })
  | { reason: 'unusable_callback'; received: string }
  /** A stored refresh token that is not this connector's, so without the redirect URI Xiaomi needs. */
  | { reason: 'redirect_uri_unknown' }
  | { reason: 'invalid_settings'; issues: ConfigIssue[] };

/**
 * What every ConnectorError of this connector carries in `data`. `reason` is a stable code that
 * programs may match; the prose is only in `hint` (what to check) and `errorDescription` (the one
 * sentence Logto shows as the error's message).
 */
export type XiaomiErrorData = XiaomiErrorDetails & { hint: string; errorDescription: string };

export type XiaomiErrorReason = XiaomiErrorData['reason'];

/** Every `reason`, as a record so that the compiler reports one left out or misspelt. */
const everyReason: Record<XiaomiErrorReason, true> = {
  xiaomi_error: true,
  http_status: true,
  timeout: true,
  network: true,
  not_json: true,
  unexpected_shape: true,
  unusable_callback: true,
  redirect_uri_unknown: true,
  invalid_settings: true,
};

/** Every `reason` this connector's errors carry. */
export const xiaomiErrorReasons: ReadonlySet<string> = new Set(Object.keys(everyReason));

/** Whether `error` is a ConnectorError of this connector, whose data is `XiaomiErrorData`. */
export const isXiaomiError = (
  error: unknown,
): error is ConnectorError & { data: XiaomiErrorData } => {
  if (!(error instanceof ConnectorError)) {
    return false;
  }
  const data: unknown = error.data;
  return (
    typeof data === 'object' &&
    data !== null &&
    'reason' in data &&
    xiaomiErrorReasons.has(`${data.reason}`)
  );
};

/**
 * A ConnectorError whose data says what happened and what to check, in one sentence for Logto.
 * The sentence comes first: connector-kit makes the message `ConnectorError: ` + the data as JSON,
 * which is the line Logto's audit log shows, cut at the right edge of the Console.
 */
const explained = (
  code: ConnectorErrorCodes,
  happened: string,
  hint: string,
  details: XiaomiErrorDetails,
) =>
  new ConnectorError(code, {
    errorDescription: `${happened}: ${hint}`,
    ...details,
    hint,
  } satisfies XiaomiErrorData);

export type XiaomiErrorEntry = { connectorCode: ConnectorErrorCodes; name: string; hint: string };

const entry = (
  connectorCode: ConnectorErrorCodes,
  name: string,
  hint: string,
): XiaomiErrorEntry => ({ connectorCode, name, hint });

const accessDenied = entry(
  ConnectorErrorCodes.AuthorizationFailed,
  'OA_ACCESS_DENIED',
  'The user (or Xiaomi) refused the authorization; the user can try again.',
);

// Ref: https://dev.mi.com/xiaomihyperos/documentation/detail?pId=1708
/**
 * Every Xiaomi error code the connector knows, shared by the callback, the token endpoint and the
 * open API. Keys are strings because the callback sends codes as text; a Map, because an object
 * would also answer to `error=toString`.
 */
export const xiaomiErrors: ReadonlyMap<string, XiaomiErrorEntry> = new Map(
  Object.entries({
    '96001': entry(
      InvalidConfig,
      'OA_CLIENT_NOT_EXISTS',
      'Check that clientId is the AppID of an existing Xiaomi app whose account service is enabled.',
    ),
    '96002': entry(
      General,
      'OA_INVALID_REQUEST',
      'Xiaomi found a parameter missing or malformed; report this to the connector’s maintainers.',
    ),
    '96003': entry(
      InvalidConfig,
      'OA_INVALID_CLIENT',
      'Check that clientSecret is the AppSecret of the app whose AppID is clientId. Xiaomi says the same of a secret sent without URL encoding, which this connector always applies.',
    ),
    '96004': entry(
      SocialAuthCodeInvalid,
      'OA_INVALID_GRANT',
      'The authorization was not accepted; the user should sign in again.',
    ),
    '96005': entry(
      InvalidConfig,
      'OA_UNAUTHORIZED_CLIENT',
      'The Xiaomi app lacks this permission; apply for it in the Xiaomi console.',
    ),
    '96006': entry(
      General,
      'OA_UNSUPPORTED_GRANT_TYPE',
      'Xiaomi refused the grant type; report this to the connector’s maintainers.',
    ),
    '96007': entry(
      InvalidConfig,
      'OA_INVALID_SCOPE',
      'Check the scope setting: space-separated scope ids that the Xiaomi app is approved for.',
    ),
    '96008': entry(
      SocialAccessTokenInvalid,
      'OA_INVALID_TOKEN',
      'The access token is invalid or expired; the user should sign in again.',
    ),
    '96009': entry(
      SocialAccessTokenInvalid,
      'OA_INVALID_REFRESHTOKEN',
      'The refresh token is invalid, used or expired; the user should sign in again.',
    ),
    '96010': entry(
      InvalidConfig,
      'OA_INVALID_REDIRECT_URI',
      'Register at Xiaomi each Redirect URI the Console shows, separated by ;. Keep them in lower case. Register http and https apart, and every custom domain too.',
    ),
    '96011': entry(
      General,
      'OA_UNSUPPORTED_RESPONSE_TYPE',
      'Xiaomi refused the response type; report this to the connector’s maintainers.',
    ),
    '96012': accessDenied,
    '96013': entry(
      SocialAuthCodeInvalid,
      'OA_INVALID_CODE',
      'The authorization code is invalid, used or expired; the user should sign in again.',
    ),
    access_denied: accessDenied,
  }),
);

export const unknownXiaomiError = entry(
  General,
  'UNKNOWN',
  'This connector does not know the code; look it up in Xiaomi’s account service documentation.',
);

/**
 * What to check after each failure that is not one of Xiaomi's codes. These are the words of
 * record: both admin guides carry them (a test compares them word for word).
 */
export const failureHints = {
  timeout: 'Xiaomi is slow or unreachable from the Logto server; try again later.',
  network:
    'Check that the Logto server can reach Xiaomi’s hosts over HTTPS (DNS, firewall, proxy).',
  serverError: 'Xiaomi had a server error; try again later.',
  refused: 'Xiaomi refused the request without saying why; try signing in again.',
  unreadable: 'Xiaomi may be having trouble; try again later, and report it if it persists.',
  unusableCallback:
    'Register at Xiaomi each Redirect URI the Console shows on the connector’s page; a sign-in page of your own must pass on Xiaomi’s whole query.',
  refreshTokenNotOurs:
    'The user signs in with Xiaomi again, which stores tokens this connector can refresh.',
  invalidSettings:
    'Correct the settings named here on the connector’s page in the Console: clientId and clientSecret are the AppID and AppSecret, as text; scope is Xiaomi scope ids separated by spaces.',
} as const;

/**
 * What the connector tells Logto's log, and when: `once` is the rule the code that writes the line
 * keeps. These are the words of record: both admin guides carry them (a test compares them).
 */
export const logNotes = {
  contactRefused: {
    line: 'Users sign in without phone and email, since Xiaomi does not give them to this app:',
    once: 'Once per Logto process for each kind of refusal: each Xiaomi code, HTTP status or failure.',
  },
  redisAway: {
    line: 'Redis (REDIS_URL) cannot be reached: until it can, each Logto process refreshes stored Xiaomi tokens on its own',
    once: 'Once per Logto process when a connection to Redis cannot be made, then not again until a call works.',
  },
  redisBack: {
    line: 'Redis (REDIS_URL) can be reached again: Logto processes share the refreshes of stored Xiaomi tokens.',
    once: 'Once per Logto process at the first call that works after that line.',
  },
  redisSlow: {
    line: `Redis (REDIS_URL) did not answer a call within ${redisCallLimit} ms: refreshes went on without it, and go on sharing through it when it answers in time.`,
    once: 'Once per Logto process.',
  },
  redisRefused: {
    line: 'Redis (REDIS_URL) refused a command of the connector, which goes on without it; a claim it could not release expires on its own:',
    once: 'Once per Logto process for each kind of refusal, such as NOPERM, READONLY or OOM.',
  },
} as const;

/** Xiaomi's own error, as read from a callback or an answer. */
export type XiaomiFailure = { code?: string | number; description?: string };

const asNumberWhenNumeric = (code: string | number) =>
  typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : code;

const describeFailure = (code: string | number | undefined, name: string, description?: string) =>
  `Xiaomi returned ${code === undefined ? 'an error without a code' : `error ${code}`} ` +
  `(${description ? `${name}: ${description}` : name})`;

/** Turns an error Xiaomi sent into the ConnectorError that names its cause. */
export const xiaomiError = ({ code, description }: XiaomiFailure) => {
  const { connectorCode, name, hint } = xiaomiErrors.get(String(code)) ?? unknownXiaomiError;

  return explained(connectorCode, describeFailure(code, name, description), hint, {
    reason: 'xiaomi_error',
    code: code === undefined ? undefined : asNumberWhenNumeric(code),
    name,
    description,
  });
};

/** `account.xiaomi.com/oauth2/token`: where a request went, for the admin reading the message. */
const place = (url: URL) => `${url.host}${url.pathname}`;

/** What the sentence adds when Xiaomi was asked more than once. */
const afterAttempts = ({ length }: string[]) => (length > 1 ? ` after ${length} attempts` : '');

const wireFailure = (url: URL, attempts: string[]): WireFailure => ({
  endpoint: url.pathname,
  attempts,
});

export const timeoutError = (url: URL, attempts: string[]) =>
  explained(
    General,
    `Xiaomi did not answer ${place(url)} in time${afterAttempts(attempts)}`,
    failureHints.timeout,
    { reason: 'timeout', ...wireFailure(url, attempts) },
  );

export const networkError = (url: URL, cause: string | undefined, attempts: string[]) =>
  explained(
    General,
    `The Logto server could not connect to ${place(url)}${cause ? ` (${cause})` : ''}${afterAttempts(attempts)}`,
    failureHints.network,
    { reason: 'network', ...wireFailure(url, attempts), cause },
  );

export const httpStatusError = (
  url: URL,
  status: number,
  connectorCode: ConnectorErrorCodes,
  attempts: string[],
) =>
  explained(
    connectorCode,
    `Xiaomi answered ${place(url)} with HTTP ${status} and no error of its own${afterAttempts(attempts)}`,
    status >= 500 ? failureHints.serverError : failureHints.refused,
    { reason: 'http_status', ...wireFailure(url, attempts), status },
  );

const unreadable = {
  not_json: 'the body is not JSON',
  unexpected_shape: 'the body lacks the expected fields',
} as const;

export const invalidResponseError = (
  url: URL,
  reason: keyof typeof unreadable,
  attempts: string[],
) =>
  explained(
    InvalidResponse,
    `Xiaomi’s answer from ${place(url)} could not be read (${unreadable[reason]})${afterAttempts(attempts)}`,
    failureHints.unreadable,
    { reason, ...wireFailure(url, attempts) },
  );

/** A callback that carries neither Xiaomi's code nor its error; `received` says what it held. */
export const unusableCallbackError = (received: string) =>
  explained(
    General,
    `Logto passed a callback without Xiaomi’s code or error (it held ${received})`,
    failureHints.unusableCallback,
    { reason: 'unusable_callback', received },
  );

/** A stored refresh token this connector did not wrap: Xiaomi cannot refresh it without its URI. */
export const redirectUriUnknownError = () =>
  explained(
    SocialAccessTokenInvalid,
    'This stored Xiaomi token was not stored by this connector and cannot be refreshed',
    failureHints.refreshTokenNotOurs,
    { reason: 'redirect_uri_unknown' },
  );

export const invalidSettingsError = (issues: ConfigIssue[]) =>
  explained(
    InvalidConfig,
    `The Xiaomi connector settings are invalid (${issues
      .map(({ path, message }) => `${path || 'settings'}: ${message}`)
      .join('; ')})`,
    failureHints.invalidSettings,
    { reason: 'invalid_settings', issues },
  );
