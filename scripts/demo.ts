/**
 * `npm run demo`: one whole Xiaomi sign-in on this machine. The built connector is loaded through
 * Logto's own loader and talks to the Xiaomi stand-in on 127.0.0.1; every step is printed.
 */
import { authorizationRequest, createThroughLogto } from '../harness/logto-loader.js';
import { routeXiaomiTo } from '../harness/route-xiaomi.js';
import { authorizeAs } from '../harness/xiaomi-browser.js';
import {
  demoApp,
  demoConnectorId,
  type StandInAnswer,
  startXiaomiStandIn,
} from '../harness/xiaomi-stand-in.js';
import { xiaomiJsonPrefix } from '../src/constant.js';
import { redactSecretFields } from '../src/secrets.js';

const callbackUrl = demoApp.redirectUris[0] ?? '';
const config = {
  clientId: demoApp.clientId,
  clientSecret: demoApp.clientSecret,
  scope: '1 4 6',
  skipConfirm: false,
};

let step = 0;
const heading = (title: string) => {
  step += 1;
  console.log(`\n${step}. ${title}`);
};
const show = (value: unknown) => {
  console.log(JSON.stringify(redactSecretFields(value), null, 2).replace(/^/gm, '   '));
};

/** A body as Xiaomi sent it, its JSON with secrets redacted; any other body as it is. */
const showBody = (body: string) => {
  const prefix = body.startsWith(xiaomiJsonPrefix) ? xiaomiJsonPrefix : '';
  try {
    return `${prefix}${JSON.stringify(redactSecretFields(JSON.parse(body.slice(prefix.length))))}`;
  } catch {
    return body;
  }
};

const showTraffic = ({ method, path, params, status, headers, body }: StandInAnswer) => {
  if (path.startsWith('/oauth2/authorize')) {
    return;
  }
  heading(`Connector → Xiaomi: ${method} ${path}`);
  show(params);
  console.log(`   ← HTTP ${status} ${headers['content-type'] ?? ''}`);
  console.log(`   ${showBody(body)}`);
};

const standIn = await startXiaomiStandIn({ onAnswer: showTraffic });
const unroute = routeXiaomiTo(standIn.origin);

try {
  console.log(`Xiaomi stand-in listening on ${standIn.origin}; Xiaomi's hosts are routed to it.`);

  heading('Logto loads the connector package through @logto/cli');
  const connector = await createThroughLogto(config);
  console.log(`   ${connector.metadata.id} (${connector.metadata.name.en}), config:`);
  show(config);

  heading('Logto asks the connector where to send the user');
  const authorizationUri = await connector.getAuthorizationUri(
    { ...authorizationRequest, state: 'demo-state-42', redirectUri: callbackUrl },
    async () => undefined,
  );
  console.log(`   ${authorizationUri}`);

  heading('The user sees Xiaomi’s consent page and approves');
  const { steps, callback } = await authorizeAs(authorizationUri);
  const page = steps[0]?.page ?? '';
  console.log(`   ${/<p>(.*)<\/p>/.exec(page)?.[1] ?? page}  → Approve`);

  heading('Xiaomi redirects the browser back to Logto’s callback');
  console.log(`   ${callbackUrl}?${new URLSearchParams(callback)}`);
  console.log(
    `   (The path ends with the connector's own ID, here ${demoConnectorId}: the Console shows the whole URL on the connector's page as its Redirect URI (Callback URI). ${connector.metadata.id} is the connector type.)`,
  );

  const { userInfo, tokenResponse } = await connector.getTokenResponseAndUserInfo(
    { ...callback, redirectUri: callbackUrl },
    async () => ({}),
  );

  heading('The user record Logto stores (social identity)');
  show(userInfo);
  heading('The tokens Logto keeps in its secret vault (redacted here)');
  show(tokenResponse);
  console.log(`\nSigned in as ${userInfo.name} (${userInfo.id}).`);
} finally {
  await unroute();
  await standIn.close();
}
