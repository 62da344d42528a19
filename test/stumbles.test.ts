/**
 * A Xiaomi that stumbles, over real sockets: the connector's source with its time limits cut to a
 * fifth, the Xiaomi stand-in failing the next request of one endpoint (a gateway's page, a reset,
 * no answer), and connections refused by the kernel at a port where nothing listens. The real
 * limits are waited out once, by the built package, in test/e2e.test.ts.
 */
import { ConnectorErrorCodes } from '@logto/connector-kit';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  authorizationRequest,
  createConnectorWith,
  type LoadedConnector,
} from '../harness/logto-loader.js';
import { refusedConnections, routeXiaomiTo } from '../harness/route-xiaomi.js';
import { authorizeAs } from '../harness/xiaomi-browser.js';
import {
  demoApp,
  type StandInEndpoint,
  type StandInFault,
  seededUsers,
  startXiaomiStandIn,
  type XiaomiStandIn,
} from '../harness/xiaomi-stand-in.js';
import createConnector from '../src/index.js';
import { rejectionOf } from './fixtures.js';

/**
 * The limits in the proportion of the real ones (5 s an attempt, 8 s a request): a hung attempt
 * leaves room for one more after ky's longest first wait (0.3 s), never for two.
 */
const shortLimits = vi.hoisted(() => ({ attempt: 1000, request: 1600 }));

vi.mock('../src/constant.js', async (importOriginal) => ({
  ...(await importOriginal<typeof import('../src/constant.js')>()),
  timeLimits: shortLimits,
}));

const redirectUri = demoApp.redirectUris[0] ?? '';
const lei = seededUsers[0];
const noSession = async () => ({});

let standIn: XiaomiStandIn;
let unroute: () => Promise<void>;
let connector: LoadedConnector;

beforeAll(async () => {
  standIn = await startXiaomiStandIn();
  unroute = routeXiaomiTo(standIn.origin);
  connector = await createConnectorWith(createConnector, {
    clientId: demoApp.clientId,
    clientSecret: demoApp.clientSecret,
    scope: '1 4 6',
    skipConfirm: true,
  });
});

afterAll(async () => {
  await unroute();
  await standIn.close();
});

afterEach(() => {
  standIn.reset();
  refusedConnections.clear();
});

/** What Logto's callback route hands the connector after the user approved at Xiaomi. */
const callback = async () => {
  const uri = await connector.getAuthorizationUri(
    { ...authorizationRequest, redirectUri },
    async () => undefined,
  );
  return { ...(await authorizeAs(uri)).callback, redirectUri };
};

const signIn = async () => connector.getTokenResponseAndUserInfo(await callback(), noSession);

type Stumble = StandInFault | 'refused';

/** The next request to `endpoint` meets `stumble`. */
const stumbleOnce = (endpoint: StandInEndpoint, stumble: Stumble) => {
  if (stumble === 'refused') {
    refusedConnections.set(endpoint, 1);
  } else {
    standIn.failNext(endpoint, stumble);
  }
};

const everyStumble: Stumble[] = [502, 503, 504, 'reset', 'hang', 'refused'];
const spendingStumbles = everyStumble.filter((stumble) => stumble !== 'refused');

describe.each<StandInEndpoint>(['/user/profile', '/user/phoneAndEmail'])(
  'a read of %s',
  (endpoint) => {
    it.each(everyStumble)(
      'is sent again after %s, and the user signs in whole',
      async (stumble) => {
        const data = await callback();
        stumbleOnce(endpoint, stumble);
        const { userInfo } = await connector.getTokenResponseAndUserInfo(data, noSession);
        expect(userInfo).toMatchObject({
          id: lei?.unionId,
          email: lei?.email,
          phone: '8613800138000',
        });
        // A refused connection never reached the stand-in; any other stumble did.
        expect(standIn.requestsTo(endpoint)).toBe(stumble === 'refused' ? 1 : 2);
      },
    );
  },
);

describe('the code exchange', () => {
  it('is sent again after a refused connection, and the user signs in', async () => {
    const data = await callback();
    stumbleOnce('/oauth2/token', 'refused');
    await expect(connector.getUserInfo(data, noSession)).resolves.toMatchObject({
      id: lei?.unionId,
    });
  });

  it.each(spendingStumbles)(
    'is never sent again after %s: Xiaomi may have spent the code',
    async (stumble) => {
      const data = await callback();
      stumbleOnce('/oauth2/token', stumble);
      const error = await rejectionOf(connector.getUserInfo(data, noSession));
      expect(error).toMatchObject({ code: ConnectorErrorCodes.General });
      expect(error.data).toHaveProperty('attempts', [expect.any(String)]);
      expect(standIn.requestsTo('/oauth2/token')).toBe(1);
    },
  );
});

describe('the refresh', () => {
  it('is sent again after a refused connection; the new stored token refreshes in turn', async () => {
    const { tokenResponse } = await signIn();
    stumbleOnce('/oauth2/token', 'refused');
    const refreshed = await connector.getAccessTokenByRefreshToken(
      tokenResponse?.refresh_token ?? '',
    );
    expect(refreshed.access_token).not.toBe(tokenResponse?.access_token);
    const again = await connector.getAccessTokenByRefreshToken(refreshed.refresh_token ?? '');
    expect(again.access_token).not.toBe(refreshed.access_token);
  });

  it.each(spendingStumbles)(
    'is never sent again after %s: Xiaomi may have spent the refresh token',
    async (stumble) => {
      const { tokenResponse } = await signIn();
      const before = standIn.requestsTo('/oauth2/token');
      stumbleOnce('/oauth2/token', stumble);
      const error = await rejectionOf(
        connector.getAccessTokenByRefreshToken(tokenResponse?.refresh_token ?? ''),
      );
      expect(error).toMatchObject({ code: ConnectorErrorCodes.General });
      expect(standIn.requestsTo('/oauth2/token') - before).toBe(1);
    },
  );
});

describe('how long a user waits', () => {
  it('ends in a clean error on the third error page, before the request’s time is up', async () => {
    const data = await callback();
    standIn.failNext('/user/profile', 502, 3);
    const started = performance.now();
    const error = await rejectionOf(connector.getUserInfo(data, noSession));
    const waited = performance.now() - started;
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: {
        reason: 'http_status',
        endpoint: '/user/profile',
        attempts: ['HTTP 502', 'HTTP 502', 'HTTP 502'],
      },
    });
    expect(waited).toBeLessThan(shortLimits.request);
  });

  it('leaves a read whose first attempt hung the rest of the request’s time, and ends there', async () => {
    const data = await callback();
    standIn.failNext('/user/profile', 'hang', 3);
    const started = performance.now();
    const error = await rejectionOf(connector.getUserInfo(data, noSession));
    const waited = performance.now() - started;
    expect(error).toMatchObject({
      code: ConnectorErrorCodes.General,
      data: { reason: 'timeout', attempts: ['timeout', 'timeout'] },
    });
    expect(waited).toBeGreaterThanOrEqual(shortLimits.request);
    expect(waited).toBeLessThan(shortLimits.request + 500);
    expect(standIn.requestsTo('/user/profile')).toBe(2);
  });
});
