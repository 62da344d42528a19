/**
 * Property: whatever the callback and whatever Xiaomi answers, getUserInfo either resolves to the
 * user the profile names (when every step was valid) or rejects with a ConnectorError of a known
 * code, with declared data and no secret. Xiaomi is a stubbed `fetch` here: thousands of runs,
 * no sockets and no interceptor to set up per run.
 */
import { ConnectorErrorCodes } from '@logto/connector-kit';
import fc from 'fast-check';
import { afterEach, expect, it, vi } from 'vitest';
import {
  connectorWith,
  mockClientSecret,
  mockConfig,
  prefixed,
  rejectionOf,
} from '../test/fixtures.js';

type Wire = { status: number; text: string } | { fails: 'network' | 'timeout' };
type Step = { valid: boolean; wire: Wire };

const knownCodes = new Set<string>([
  ConnectorErrorCodes.General,
  ConnectorErrorCodes.InvalidConfig,
  ConnectorErrorCodes.InvalidResponse,
  ConnectorErrorCodes.SocialAuthCodeInvalid,
  ConnectorErrorCodes.SocialAccessTokenInvalid,
  ConnectorErrorCodes.AuthorizationFailed,
]);

const junk = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.boolean(),
  fc.string(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 5 }), fc.string(), { maxKeys: 3 }),
);
const nonBlank = fc.string({ minLength: 1 }).filter((text) => /\S/.test(text));
const secretToken = fc.stringMatching(/^[A-Za-z0-9]{24,32}$/).map((token) => `AT-${token}`);
const htmlPage = fc.string().map((text) => `<!doctype html><h1>${text}</h1>`);
const broken = (wire: Wire): Step => ({ valid: false, wire });
const failedWire = fc.constantFrom<Wire>({ fails: 'network' }, { fails: 'timeout' });
const badStatus = fc.constantFrom(400, 401, 403, 404, 429, 500, 502, 503);

/** A proper prefix of a JSON object's text is never valid JSON. */
const truncated = (text: string) =>
  fc.nat({ max: text.length - 1 }).map((length) => text.slice(0, length));

const isText = (value: unknown) => typeof value === 'string' && value.length > 0;
const isUsableCallback = (data: unknown) =>
  typeof data === 'object' &&
  data !== null &&
  isText((data as Record<string, unknown>).code) &&
  isText((data as Record<string, unknown>).redirectUri);

const validCallback = fc.record({ code: fc.string({ minLength: 1 }), redirectUri: nonBlank });
const callbackArb = fc.oneof(
  validCallback.map((data) => ({ valid: true, data })),
  fc
    .oneof(
      fc.anything(),
      fc.record({ error: junk, error_description: junk }),
      fc.record({ code: junk, redirectUri: junk }, { requiredKeys: [] }),
    )
    .filter((data) => !isUsableCallback(data))
    .map((data) => ({ valid: false, data })),
);

const tokenArb = (accessToken: string) => {
  const goodText = fc
    .tuple(
      fc.boolean(),
      fc.record(
        {
          expires_in: junk,
          refresh_token: junk,
          scope: junk,
          token_type: junk,
          openId: junk,
          union_id: junk,
        },
        { requiredKeys: [] },
      ),
    )
    .map(([withPrefix, extras]) => {
      const body = { ...extras, access_token: accessToken };
      return withPrefix ? prefixed(body) : JSON.stringify(body);
    });

  return fc.oneof(
    goodText.map((text): Step => ({ valid: true, wire: { status: 200, text } })),
    goodText.chain(truncated).map((text) => broken({ status: 200, text })),
    fc
      .record({
        status: fc.constantFrom(200, 400),
        error: fc.oneof(fc.integer({ min: 96000, max: 96020 }), nonBlank),
        description: fc.oneof(junk, fc.constant(`bad secret ${mockClientSecret}`)),
      })
      .map(({ status, error, description }) =>
        broken({ status, text: prefixed({ error, error_description: description }) }),
      ),
    fc
      .record({ access_token: fc.oneof(fc.constant(''), fc.integer(), fc.constant(null)) })
      .map((body) => broken({ status: 200, text: prefixed(body) })),
    fc
      .tuple(badStatus, fc.oneof(htmlPage, fc.constant('')))
      .map(([status, text]) => broken({ status, text })),
    htmlPage.map((text) => broken({ status: 200, text })),
    failedWire.map(broken),
  );
};

const profileArb = (accessToken: string) => {
  const goodBody = fc.record({
    result: fc.constant('ok'),
    code: junk,
    description: junk,
    data: fc.record({
      unionId: nonBlank,
      miliaoNick: fc.oneof(junk, nonBlank),
      miliaoIcon: fc.oneof(junk, nonBlank),
      miliaoIcon_orig: junk,
    }),
  });

  return fc.oneof(
    goodBody.map((body) => ({
      valid: true,
      body,
      wire: { status: 200, text: JSON.stringify(body) } as Wire,
    })),
    goodBody
      .chain((body) => truncated(JSON.stringify(body)))
      .map((text) => broken({ status: 200, text })),
    fc
      .record({
        status: fc.constantFrom(200, 401, 403, 500),
        code: junk,
        description: fc.oneof(junk, fc.constant(`token ${accessToken} expired`)),
      })
      .map(({ status, code, description }) =>
        broken({ status, text: JSON.stringify({ result: 'error', code, description }) }),
      ),
    fc
      .record({
        result: fc.constant('ok'),
        data: fc.record({ unionId: fc.constantFrom('', ' ', 7) }),
      })
      .map((body) => broken({ status: 200, text: JSON.stringify(body) })),
    fc
      .tuple(badStatus, fc.oneof(htmlPage, fc.constant('')))
      .map(([status, text]) => broken({ status, text })),
    failedWire.map(broken),
  );
};

const contactArb = fc.oneof(
  fc
    .record({ phone: junk, email: junk })
    .map((data): Wire => ({ status: 200, text: JSON.stringify({ result: 'ok', data }) })),
  fc.constant<Wire>({ status: 200, text: '{"result":"error","code":96005}' }),
  failedWire,
);

const scenarioArb = secretToken.chain((accessToken) =>
  fc.record({
    accessToken: fc.constant(accessToken),
    callback: callbackArb,
    token: tokenArb(accessToken),
    profile: profileArb(accessToken),
    contact: contactArb,
    scope: fc.constantFrom('1', '1 4 6'),
  }),
);

const answer = (wire: Wire) => {
  if ('fails' in wire) {
    throw wire.fails === 'timeout'
      ? new DOMException('The operation timed out.', 'TimeoutError')
      : new TypeError('fetch failed', { cause: { code: 'ECONNRESET' } });
  }
  return new Response(wire.text || null, { status: wire.status });
};

afterEach(() => {
  vi.unstubAllGlobals();
});

it('getUserInfo yields the profile’s user or a known ConnectorError, never a secret', async () => {
  await fc.assert(
    fc.asyncProperty(
      scenarioArb,
      async ({ accessToken, callback, token, profile, contact, scope }) => {
        const wires: Record<string, Wire> = {
          '/oauth2/token': token.wire,
          '/user/profile': profile.wire,
          '/user/phoneAndEmail': contact,
        };
        vi.stubGlobal('fetch', async (request: Request) => {
          const wire = wires[new URL(request.url).pathname];
          if (!wire) {
            throw new Error(`Unexpected request to ${request.url}`);
          }
          return answer(wire);
        });
        // Called directly, not through `signIn`, whose default would replace an undefined callback.
        const connector = await connectorWith({ ...mockConfig, scope });
        const outcome = connector.getUserInfo(callback.data, async () => ({}));

        if (callback.valid && token.valid && 'body' in profile && profile.valid) {
          const { data } = profile.body;
          const text = (value: unknown) => (isText(value) ? value : undefined);
          await expect(outcome).resolves.toMatchObject({
            id: data.unionId,
            name: text(data.miliaoNick),
            avatar: text(data.miliaoIcon),
            rawData: JSON.parse(JSON.stringify(profile.body)),
          });
          return;
        }

        const error = await rejectionOf(outcome, [mockClientSecret, accessToken]);
        expect(knownCodes).toContain(error.code);
      },
    ),
    { numRuns: Number(process.env.PROPERTY_RUNS ?? 3000) },
  );
});
