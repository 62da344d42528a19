/**
 * The names under which a secret travels: the AppSecret in the settings, and the AppSecret and
 * tokens on Xiaomi's wire. One list for the connector, which keeps their values out of errors, and
 * for the repository's tools, which keep them out of what they print.
 */
export const secretFields: ReadonlySet<string> = new Set([
  'clientSecret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'mac_key',
]);

export const redacted = '[redacted]';

/** The secret values of a request's parameters, longest first (see `concealSecrets`). */
export const secretValuesOf = (params: Record<string, string>) =>
  Object.entries(params)
    .filter(([key, value]) => secretFields.has(key) && value !== '')
    .map(([, value]) => value)
    .sort((a, b) => b.length - a.length);

/**
 * Replaces every occurrence of the given values in `text`. Longest first, so that a secret inside
 * another cannot leave part of the longer one behind.
 */
export const concealSecrets = (text: string, secrets: readonly string[]) =>
  secrets.reduce((hidden, secret) => hidden.replaceAll(secret, redacted), text);

/** A copy of a JSON-like value with every secret field's text replaced, at any depth. */
export const redactSecretFields = (value: unknown): unknown => {
  if (Array.isArray(value)) {
    return value.map(redactSecretFields);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        secretFields.has(key) && typeof item === 'string' ? redacted : redactSecretFields(item),
      ]),
    );
  }
  return value;
};
