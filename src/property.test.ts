/**
 * Property: whatever the callback and whatever Xiaomi answers, after a stumble or not, getUserInfo
 * either resolves to the user the profile names (when every step was valid, and a stumble was one
 * it could send again) or rejects with a ConnectorError of a known code, with declared data and no
 * secret. Xiaomi is a stubbed `fetch` here: thousands of runs, no sockets and no interceptor to
 * set up per run.
 */
import { ConnectorErrorCodes } from '@logto/connector-kit';
import fc from 'fast-check';
import { afterEach, beforeEach, expect, it, type MockInstance, vi } from 'vitest';
import {
  connectorWith,
  mockClientSecret,
  mockConfig,
  prefixed,
  rejectionOf,
} from '../test/fixtures.js';
import { logNotes } from './errors.js';

type Wire =
  | { status: number; text: string }
  | { fails: 'timeout' }
  | { fails: 'network'; code: string };
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
const failedWire = fc.constantFrom<Wire>(
  { fails: 'network', code: 'ECONNRESET' },
  { fails: 'timeout' },
);
/** A connection refused: the one stumble here after which a POST is sent again. */
const refused: Wire = { fails: 'network', code: 'ECONNREFUSED' };
const gatewayPage: Wire = { status: 502, text: '<html>Bad Gateway</html>' };
/** A first attempt that fails for a while, before the endpoint's own answer: or none. */
const stumbleArb = fc.option(
  fc.oneof(failedWire, fc.constant(gatewayPage), fc.constant<Wire>(refused)),
  { nil: undefined },
);
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

/** Phone and email; `stumbles` when every attempt fails in a way that asking again could cure. */
const contactArb = fc.oneof(
  fc.record({ phone: junk, email: junk }).map((data) => ({
    stumbles: false,
    wire: { status: 200, text: JSON.stringify({ result: 'ok', data }) } as Wire,
  })),
  fc.constant({ stumbles: false, wire: { status: 200, text: '{"result":"error","code":96005}' } }),
  fc.constant({ stumbles: false, wire: { status: 404, text: '<html>Not Found</html>' } as Wire }),
  fc.oneof(failedWire, fc.constant(gatewayPage)).map((wire) => ({ stumbles: true, wire })),
);

const scenarioArb = secretToken.chain((accessToken) =>
  fc.record({
    accessToken: fc.constant(accessToken),
    callback: callbackArb,
    token: tokenArb(accessToken),
    profile: profileArb(accessToken),
    contact: contactArb,
    scope: fc.constantFrom('1', '1 4 6'),
    stumbles: fc.record({
      '/oauth2/token': stumbleArb,
      '/user/profile': stumbleArb,
      '/user/phoneAndEmail': stumbleArb,
    }),
  }),
);

const answer = (wire: Wire) => {
  if ('fails' in wire) {
    throw wire.fails === 'timeout'
      ? new DOMException('The operation timed out.', 'TimeoutError')
      : new TypeError('fetch failed', {
          cause: Object.assign(new Error(wire.code), { code: wire.code }),
        });
  }
  return new Response(wire.text || null, { status: wire.status });
};

let warn: MockInstance<typeof console.warn>;

beforeEach(() => {
  // ky draws each wait before asking again from Math.random (full jitter): no wait here.
  vi.spyOn(Math, 'random').mockReturnValue(0);
  // Xiaomi's refusals of phone and email are told to the admin; checked after the run.
  warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
});

afterEach(() => {
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

it('getUserInfo yields the profile’s user or a known ConnectorError, never a secret', async () => {
  await fc.assert(
    fc.asyncProperty(
      scenarioArb,
      async ({ accessToken, callback, token, profile, contact, scope, stumbles }) => {
        const wires: Record<string, Wire> = {
          '/oauth2/token': token.wire,
          '/user/profile': profile.wire,
          '/user/phoneAndEmail': contact.wire,
        };
        const pending: Record<string, Wire | undefined> = { ...stumbles };
        const asked = new Set<string>();
        vi.stubGlobal('fetch', async (request: Request) => {
          const url = new URL(request.url);
          const path = url.pathname;
          // A read of an earlier run may still be sending again after its sign-in failed; it
          // carries that run's access token and must not touch this run.
          if (path !== '/oauth2/token' && url.searchParams.get('token') !== accessToken) {
            throw new Error('A request of an earlier run');
          }
          const wire = pending[path] ?? wires[path];
          if (!wire) {
            throw new Error(`Unexpected request to ${request.url}`);
          }
          pending[path] = undefined;
          asked.add(path);
          return answer(wire);
        });
        // Called directly, not through `signIn`, whose default would replace an undefined callback.
        const connector = await connectorWith({ ...mockConfig, scope });
        const outcome = connector.getUserInfo(callback.data, async () => ({}));
        await outcome.catch(() => undefined);

        // The code is sent again only after a connection that never carried it.
        const tokenStumble = stumbles['/oauth2/token'];
        const codeSpent =
          tokenStumble !== undefined && JSON.stringify(tokenStumble) !== JSON.stringify(refused);
        // Whether phone and email are asked depends on the scope the token answer names.
        const contactAsked = asked.has('/user/phoneAndEmail');
        if (
          callback.valid &&
          token.valid &&
          !codeSpent &&
          'body' in profile &&
          profile.valid &&
          !(contactAsked && contact.stumbles)
        ) {
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
  for (const [line] of warn.mock.calls) {
    expect(line).toMatch(`[connector-xiaomi-plus] ${logNotes.contactRefused.line} `);
    expect(line).not.toContain(mockClientSecret);
  }
});
