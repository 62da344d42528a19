import { ConnectorError, ConnectorErrorCodes } from '@logto/connector-kit';

type XiaomiErrorEntry = {
  connectorCode: ConnectorErrorCodes;
  name: string;
  hint: string;
};

const entry = (
  connectorCode: ConnectorErrorCodes,
  name: string,
  hint: string,
): XiaomiErrorEntry => ({
  connectorCode,
  name,
  hint,
});

const { General, InvalidConfig, SocialAuthCodeInvalid, SocialAccessTokenInvalid } =
  ConnectorErrorCodes;

const accessDenied = entry(
  ConnectorErrorCodes.AuthorizationFailed,
  'OA_ACCESS_DENIED',
  'The user (or Xiaomi) refused the authorization; the user can try again.',
);

/**
 * Every Xiaomi error code the connector knows, shared by the callback, the token endpoint and the
 * open API. Keys are strings because the callback sends codes as text; a Map, because an object
 * would also answer to `error=toString`.
 */
const xiaomiErrors: ReadonlyMap<string, XiaomiErrorEntry> = new Map(
  Object.entries({
    '96001': entry(
      InvalidConfig,
      'OA_CLIENT_NOT_EXISTS',
      'Check that clientId is the AppID of an existing Xiaomi app whose account service is enabled.',
    ),
    '96002': entry(
      General,
      'OA_INVALID_REQUEST',
      'Xiaomi found a parameter missing or malformed; please report this with the description.',
    ),
    '96003': entry(
      InvalidConfig,
      'OA_INVALID_CLIENT',
      'Check that clientSecret is the AppSecret of the app whose AppID is clientId.',
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
      'Xiaomi refused the grant type; please report this with the description.',
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
      'Register <your Logto origin>/callback/<connector id> as a callback URL of the Xiaomi app.',
    ),
    '96011': entry(
      General,
      'OA_UNSUPPORTED_RESPONSE_TYPE',
      'Xiaomi refused the response type; please report this with the description.',
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

const unknownXiaomiError = entry(
  General,
  'UNKNOWN',
  'Xiaomi answered with an error code this connector does not know; see the description.',
);

const asNumberWhenNumeric = (code: string | number) =>
  typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : code;

/** Turns an error Xiaomi sent into the ConnectorError that names its cause. */
export const xiaomiError = (code: string | number | undefined, description?: string) => {
  const { connectorCode, name, hint } = xiaomiErrors.get(String(code)) ?? unknownXiaomiError;

  return new ConnectorError(connectorCode, {
    code: code === undefined ? undefined : asNumberWhenNumeric(code),
    name,
    description,
    hint,
  });
};

export const requestFailed = (endpoint: string, reason: 'timeout' | 'network', cause?: string) =>
  new ConnectorError(General, {
    endpoint,
    reason,
    cause,
    hint:
      reason === 'timeout'
        ? 'Xiaomi did not answer in time; try again later.'
        : 'Xiaomi could not be reached; check the Logto server can connect to Xiaomi.',
  });

export const httpStatusError = (
  endpoint: string,
  status: number,
  connectorCode: ConnectorErrorCodes,
) =>
  new ConnectorError(connectorCode, {
    endpoint,
    status,
    hint:
      status >= 500
        ? 'Xiaomi had a server error; try again later.'
        : 'Xiaomi refused the request without saying why.',
  });

export const invalidResponse = (endpoint: string, reason: string) =>
  new ConnectorError(ConnectorErrorCodes.InvalidResponse, { endpoint, reason });
