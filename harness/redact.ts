/** Hides secrets in what the demo and `npm run try` print: config, traffic, tokens. */
const secretKeys = [
  'clientSecret',
  'client_secret',
  'token',
  'access_token',
  'refresh_token',
  'mac_key',
];
const keyPattern = secretKeys.join('|');
const inJson = new RegExp(`("(?:${keyPattern})"\\s*:\\s*")[^"]*"`, 'g');
const inQuery = new RegExp(`([?&](?:${keyPattern})=)[^&#\\s]*`, 'g');
const hidden = '[redacted]';

const redactText = (text: string) =>
  text.replace(inJson, `$1${hidden}"`).replace(inQuery, `$1${hidden}`);

export const redact = (value: unknown): unknown => {
  if (typeof value === 'string') {
    return redactText(value);
  }
  if (Array.isArray(value)) {
    return value.map(redact);
  }
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        secretKeys.includes(key) && typeof item === 'string' ? hidden : redact(item),
      ]),
    );
  }
  return value;
};
