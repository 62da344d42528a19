/**
 * A stand-in for Xiaomi's account service (account.xiaomi.com and open.account.xiaomi.com) on
 * 127.0.0.1, following Xiaomi's documented behaviour, for the tests over real sockets, the demo and
 * the bench. (`npm run try` talks to the real Xiaomi.)
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

export type StandInUser = {
  unionId: string;
  nickname: string;
  icon: string;
  email?: string;
  /** International form, as Xiaomi's phone API is assumed to give it (`+86…`). */
  phone?: string;
};

export type StandInApp = {
  clientId: string;
  clientSecret: string;
  /** Callback URLs registered in the Xiaomi console. */
  redirectUris: string[];
};

/** The endpoints the connector calls, where a fault can be set for the next requests. */
export type StandInEndpoint = '/oauth2/token' | '/user/profile' | '/user/phoneAndEmail';

/**
 * How one request fails: a gateway's error page with this status, a connection reset once the
 * request has been read (as Xiaomi may have acted on it), or no answer at all.
 */
export type StandInFault = 502 | 503 | 504 | 'reset' | 'hang';

/** Misbehaviour on demand; each applies to every answer until changed or `reset`. */
export type StandInKnobs = {
  latencyMs: number;
  hang: boolean;
  serverError: boolean;
  htmlError: boolean;
  accessTokenTtlSeconds: number;
  /** Refuse every refresh token (96009), as after the user withdrew the app's authorization. */
  refuseRefreshTokens: boolean;
};

const defaultKnobs: Readonly<StandInKnobs> = {
  latencyMs: 0,
  hang: false,
  serverError: false,
  htmlError: false,
  accessTokenTtlSeconds: 3 * 24 * 3600,
  refuseRefreshTokens: false,
};

export type StandInOptions = {
  apps?: StandInApp[];
  users?: StandInUser[];
  /** Approve at once instead of showing the consent page. */
  autoApprove?: boolean;
  /** Told of every answer, e.g. for the demo to show the traffic. */
  onAnswer?: (answer: StandInAnswer) => void;
  /** Serve HTTPS with this key and certificate (for Xiaomi's host names) instead of HTTP. */
  tls?: { key: string; cert: string };
};

export type StandInAnswer = {
  method: string;
  path: string;
  params: Record<string, string>;
  status: number;
  headers: Record<string, string>;
  body: string;
};

/** One request being answered: its parameters (query or form) and the ways to answer it. */
type Call = {
  request: IncomingMessage;
  params: URLSearchParams;
  send: (status: number, type: string, body: string) => void;
  redirect: (target: URL) => void;
};

/** The ID Logto gave the demo's connector: Logto's callback URLs end with it. */
export const demoConnectorId = 'k7x2m9q4w1zt';

export const demoApp: StandInApp = {
  clientId: '2882303761520251711',
  clientSecret: 'demo-app-secret',
  redirectUris: [`http://localhost:3001/callback/${demoConnectorId}`],
};

export const seededUsers: StandInUser[] = [
  {
    unionId: 'u-mi-10001',
    nickname: '雷小米',
    icon: 'https://cdn.example.com/avatars/10001.png',
    email: 'xiaomi.user@example.com',
    phone: '+8613800138000',
  },
  { unionId: 'u-mi-10002', nickname: 'Ana', icon: 'https://cdn.example.com/avatars/10002.png' },
  {
    unionId: 'u-mi-10003',
    nickname: 'Kenji',
    icon: 'https://cdn.example.com/avatars/10003.png',
    email: 'kenji@example.com',
  },
];

/** The browser cookie naming the signed-in Xiaomi user; the first seeded user without one. */
export const userCookie = 'standin_user';

const codeLifetimeMs = 10 * 60 * 1000;
const prefix = '&&&START&&&';

type Grant = { clientId: string; user: StandInUser; scope: string[]; redirectUri: string };
type IssuedCode = Grant & { expiresAt: number; used: boolean };
type IssuedToken = Grant & { expiresAt: number };
type Consent = Grant & { state: string | null };

const token = () => randomBytes(18).toString('base64url');

const errorDescriptions: Record<number, string> = {
  96001: 'client not exists',
  96002: 'invalid request',
  96003: 'invalid client',
  96004: 'invalid grant',
  96005: 'unauthorized client',
  96006: 'unsupported grant type',
  96007: 'invalid scope',
  96008: 'invalid token',
  96009: 'invalid refresh token',
  96010: 'invalid redirect uri',
  96011: 'unsupported response type',
  96012: 'access denied',
  96013: 'invalid code',
};

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

const readBody = async (request: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const matchesRegistered = (redirectUri: string, registered: string) => {
  try {
    const wanted = new URL(redirectUri);
    const known = new URL(registered);
    return (
      wanted.protocol === known.protocol &&
      wanted.port === known.port &&
      (wanted.hostname === known.hostname || wanted.hostname.endsWith(`.${known.hostname}`)) &&
      wanted.pathname.startsWith(known.pathname)
    );
  } catch {
    return false;
  }
};

export const startXiaomiStandIn = async ({
  apps = [demoApp],
  users = seededUsers,
  autoApprove = false,
  onAnswer,
  tls,
}: StandInOptions = {}) => {
  const knobs: StandInKnobs = { ...defaultKnobs };
  const codes = new Map<string, IssuedCode>();
  const accessTokens = new Map<string, IssuedToken>();
  const refreshTokens = new Map<string, Grant>();
  const consents = new Map<string, Consent>();

  const findApp = (clientId: string | null) => apps.find((app) => app.clientId === clientId);
  const findUser = (request: IncomingMessage) => {
    const cookie = request.headers.cookie ?? '';
    const id = new RegExp(`${userCookie}=([^;]+)`).exec(cookie)?.[1];
    return users.find((user) => user.unionId === id) ?? users[0];
  };

  const sendOauth = (call: Call, body: object) =>
    call.send(200, 'text/plain; charset=utf-8', `${prefix}${JSON.stringify(body)}`);
  const sendOauthError = (call: Call, code: number) =>
    sendOauth(call, { error: code, error_description: errorDescriptions[code] });
  const sendOpenApi = (call: Call, body: object) =>
    call.send(200, 'application/json; charset=utf-8', JSON.stringify(body));
  const sendOpenApiError = (call: Call, code: number) =>
    sendOpenApi(call, { result: 'error', code, description: errorDescriptions[code] });

  /** Sends the browser back to the app with `answer` and the untouched `state`. */
  const redirectBack = (
    call: Call,
    redirectUri: string,
    state: string | null,
    answer: Record<string, string>,
  ) => {
    const target = new URL(redirectUri);
    for (const [key, value] of Object.entries({
      ...answer,
      ...(state === null ? {} : { state }),
    })) {
      target.searchParams.set(key, value);
    }
    call.redirect(target);
  };

  const finishAuthorization = (call: Call, consent: Consent, approved: boolean) => {
    if (!approved) {
      redirectBack(call, consent.redirectUri, consent.state, {
        error: 'access_denied',
        error_description: 'The user refused the authorization.',
      });
      return;
    }
    const code = token();
    codes.set(code, { ...consent, expiresAt: Date.now() + codeLifetimeMs, used: false });
    redirectBack(call, consent.redirectUri, consent.state, { code });
  };

  const authorize = (call: Call) => {
    const query = call.params;
    const app = findApp(query.get('client_id'));
    const redirectUri = query.get('redirect_uri') ?? '';
    if (!app) {
      call.send(400, 'text/html', '<h1>96001 client not exists</h1>');
      return;
    }
    if (!app.redirectUris.some((registered) => matchesRegistered(redirectUri, registered))) {
      call.send(400, 'text/html', '<h1>96010 invalid redirect uri</h1>');
      return;
    }
    const refuse = (code: number) =>
      redirectBack(call, redirectUri, query.get('state'), {
        error: String(code),
        error_description: errorDescriptions[code] ?? '',
      });
    if (query.get('response_type') !== 'code') {
      refuse(96011);
      return;
    }
    const scope = (query.get('scope') ?? '1').split(' ').filter(Boolean);
    if (scope.length === 0 || !scope.every((id) => /^\d+$/.test(id))) {
      refuse(96007);
      return;
    }
    const user = findUser(call.request);
    if (!user) {
      refuse(96012);
      return;
    }
    const consent: Consent = {
      clientId: app.clientId,
      user,
      scope,
      redirectUri,
      state: query.get('state'),
    };
    if (autoApprove || query.get('skip_confirm') === 'true') {
      finishAuthorization(call, consent, true);
      return;
    }
    const ticket = token();
    consents.set(ticket, consent);
    call.send(
      200,
      'text/html; charset=utf-8',
      `<!doctype html><title>Xiaomi account (stand-in)</title>
<p>${escapeHtml(user.nickname)}, allow app ${escapeHtml(app.clientId)} to use scope ${escapeHtml(scope.join(' '))}?</p>
<form method="post" action="/oauth2/authorize/consent">
<input type="hidden" name="ticket" value="${ticket}">
<button name="decision" value="approve">Approve</button>
<button name="decision" value="deny">Deny</button>
</form>`,
    );
  };

  const consent = (call: Call) => {
    const ticket = call.params.get('ticket') ?? '';
    const pending = consents.get(ticket);
    consents.delete(ticket);
    if (!pending) {
      call.send(400, 'text/html', '<h1>This consent page has expired.</h1>');
      return;
    }
    finishAuthorization(call, pending, call.params.get('decision') === 'approve');
  };

  const issueTokens = (call: Call, grant: Grant) => {
    const accessToken = token();
    const refreshToken = token();
    accessTokens.set(accessToken, {
      ...grant,
      expiresAt: Date.now() + knobs.accessTokenTtlSeconds * 1000,
    });
    refreshTokens.set(refreshToken, grant);
    sendOauth(call, {
      access_token: accessToken,
      expires_in: knobs.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      scope: grant.scope.join(' '),
      token_type: 'mac',
      mac_key: token(),
      mac_algorithm: 'HmacSha1',
      openId: `open-${grant.clientId.slice(-4)}-${grant.user.unionId}`,
      union_id: grant.user.unionId,
    });
  };

  const exchangeToken = (call: Call) => {
    const { params } = call;
    const app = findApp(params.get('client_id'));
    if (!app) {
      sendOauthError(call, 96001);
      return;
    }
    if (params.get('client_secret') !== app.clientSecret) {
      sendOauthError(call, 96003);
      return;
    }
    const redirectUri = params.get('redirect_uri') ?? '';

    if (params.get('grant_type') === 'authorization_code') {
      const code = codes.get(params.get('code') ?? '');
      if (!code || code.used || code.expiresAt < Date.now() || code.clientId !== app.clientId) {
        sendOauthError(call, 96013);
        return;
      }
      code.used = true;
      if (redirectUri !== code.redirectUri) {
        sendOauthError(call, 96004);
        return;
      }
      issueTokens(call, code);
      return;
    }

    if (params.get('grant_type') === 'refresh_token') {
      if (!app.redirectUris.some((registered) => matchesRegistered(redirectUri, registered))) {
        sendOauthError(call, redirectUri ? 96010 : 96002);
        return;
      }
      const refreshToken = params.get('refresh_token') ?? '';
      const grant = refreshTokens.get(refreshToken);
      if (!grant || grant.clientId !== app.clientId || knobs.refuseRefreshTokens) {
        sendOauthError(call, 96009);
        return;
      }
      refreshTokens.delete(refreshToken);
      issueTokens(call, grant);
      return;
    }

    sendOauthError(call, 96006);
  };

  const findGrant = ({ params }: Call, scopes: string[]) => {
    const issued = accessTokens.get(params.get('token') ?? '');
    if (!issued || issued.expiresAt <= Date.now() || issued.clientId !== params.get('clientId')) {
      return 96008;
    }
    return issued.scope.some((id) => scopes.includes(id)) ? issued : 96005;
  };

  const profile = (call: Call) => {
    const grant = findGrant(call, ['1']);
    if (typeof grant === 'number') {
      sendOpenApiError(call, grant);
      return;
    }
    const { user } = grant;
    sendOpenApi(call, {
      result: 'ok',
      code: 0,
      description: 'success',
      data: {
        unionId: user.unionId,
        miliaoNick: user.nickname,
        miliaoIcon: user.icon,
        miliaoIcon_orig: user.icon.replace('.png', '_orig.png'),
        miliaoIcon_75: user.icon.replace('.png', '_75.png'),
      },
    });
  };

  const phoneAndEmail = (call: Call) => {
    const grant = findGrant(call, ['4', '6']);
    if (typeof grant === 'number') {
      sendOpenApiError(call, grant);
      return;
    }
    const { user, scope } = grant;
    sendOpenApi(call, {
      result: 'ok',
      code: 0,
      description: 'success',
      data: {
        phone: scope.includes('4') ? (user.phone ?? '') : '',
        email: scope.includes('6') ? (user.email ?? '') : '',
      },
    });
  };

  const handlers: Record<string, (call: Call) => void> = {
    'GET /oauth2/authorize': authorize,
    'POST /oauth2/authorize/consent': consent,
    'GET /oauth2/token': exchangeToken,
    'POST /oauth2/token': exchangeToken,
    'GET /user/profile': profile,
    'GET /user/phoneAndEmail': phoneAndEmail,
  };

  const answer = async (request: IncomingMessage, response: ServerResponse) => {
    const url = new URL(request.url ?? '/', 'http://stand-in');
    const method = request.method ?? 'GET';
    const params =
      method === 'POST' ? new URLSearchParams(await readBody(request)) : url.searchParams;
    const reply = (status: number, headers: Record<string, string>, body: string) => {
      onAnswer?.({
        method,
        path: url.pathname,
        params: Object.fromEntries(params),
        status,
        headers,
        body,
      });
      response.writeHead(status, headers).end(body);
    };
    const call: Call = {
      request,
      params,
      send: (status, type, body) => reply(status, { 'content-type': type }, body),
      redirect: (target) => reply(302, { location: target.href }, ''),
    };

    if (knobs.serverError) {
      call.send(503, 'text/plain', 'service unavailable');
    } else if (knobs.htmlError) {
      call.send(200, 'text/html', '<!doctype html><h1>502 Bad Gateway</h1>');
    } else {
      (
        handlers[`${method} ${url.pathname}`] ??
        ((unknown) => unknown.send(404, 'text/plain', 'not found'))
      )(call);
    }
  };

  /** The faults still to come, by endpoint, first to last; and the requests seen since `reset`. */
  const pendingFaults = new Map<string, StandInFault[]>();
  const requestCounts = new Map<string, number>();

  const failWith = async (
    fault: StandInFault,
    request: IncomingMessage,
    response: ServerResponse,
  ) => {
    if (fault === 'reset') {
      await readBody(request);
      request.socket.resetAndDestroy();
    } else if (fault !== 'hang') {
      response
        .writeHead(fault, { 'content-type': 'text/html' })
        .end(`<!doctype html><html><body><h1>${fault} Gateway error</h1></body></html>`);
    }
  };

  const handle = (request: IncomingMessage, response: ServerResponse) => {
    const { pathname } = new URL(request.url ?? '/', 'http://stand-in');
    requestCounts.set(pathname, (requestCounts.get(pathname) ?? 0) + 1);
    const fault = pendingFaults.get(pathname)?.shift();
    if (fault !== undefined) {
      void failWith(fault, request, response);
    } else if (!knobs.hang) {
      setTimeout(() => {
        answer(request, response).catch(() => response.writeHead(500).end());
      }, knobs.latencyMs);
    }
  };
  const server = tls ? createHttpsServer(tls, handle) : createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    origin: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    knobs,
    /** The next `count` requests to `endpoint` fail with `fault`, then it answers as before. */
    failNext: (endpoint: StandInEndpoint, fault: StandInFault, count = 1) => {
      pendingFaults.set(endpoint, [
        ...(pendingFaults.get(endpoint) ?? []),
        ...Array(count).fill(fault),
      ]);
    },
    /** How many requests `endpoint` has received since the last `reset`. */
    requestsTo: (endpoint: StandInEndpoint) => requestCounts.get(endpoint) ?? 0,
    /** Puts every knob back to Xiaomi's normal behaviour, and forgets faults and counts. */
    reset: () => {
      Object.assign(knobs, defaultKnobs);
      pendingFaults.clear();
      requestCounts.clear();
    },
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
};

export type XiaomiStandIn = Awaited<ReturnType<typeof startXiaomiStandIn>>;
