/**
 * The package as the people who meet it see it: Logto 1.42.0's own Console, sign-in page and
 * Account Center in headless Chromium, with the package installed by the README's steps and
 * Xiaomi's hosts answered by the stand-in (inside core by the kit's preload, in the browser by a
 * route). Each journey asserts what a person sees and saves screenshots under test-results/browser
 * (`npm run screenshots` also writes the README's pictures to docs/images).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  connectorConfig,
  kit,
  type ManagementApi,
  xiaomiAppOfConfig,
} from '../../harness/logto-api.js';
import {
  imageLoaded,
  kitBrowser,
  launchChromium,
  personsBrowser,
  screenshot,
  signInToConsole,
} from '../../harness/logto-browser.js';
import {
  holdOfficialConnector,
  installAsReadmeSays,
  packTarball,
} from '../../harness/logto-install.js';
import { packageRoot } from '../../harness/logto-loader.js';
import {
  prepareLogto,
  type RunningLogto,
  routedToStandIn,
  startLogto,
  stopLogto,
} from '../../harness/logto-server.js';
import {
  type StandInUser,
  seededUsers,
  startXiaomiStandIn,
  type XiaomiStandIn,
} from '../../harness/xiaomi-stand-in.js';
import { dataOf } from '../../scripts/error-tables.js';
import { defaultMetadata, tokenEndpoint } from '../../src/constant.js';
import { timeoutError, xiaomiError } from '../../src/errors.js';

const version = '1.42.0';
const [lei, ana, kenji] = seededUsers as [StandInUser, StandInUser, StandInUser];
/** The app's own logo on the sign-in page, offline (Logto's default is an image at logto.io). */
const appLogo = `data:image/svg+xml;base64,${Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="168" height="40" viewBox="0 0 168 40">' +
    '<rect width="40" height="40" rx="9" fill="#3d5afe"/><circle cx="20" cy="20" r="9" fill="#fff"/>' +
    '<text x="52" y="27" font-family="sans-serif" font-size="20" fill="#222">Your app</text></svg>',
).toString('base64')}`;
/** Logto turns the connector's `./logo.svg` into a data URL; this one is ours. */
const ourLogo = `data:image/svg+xml;base64,${readFileSync(join(packageRoot, 'logo.svg')).toString('base64')}`;

let logto: RunningLogto;
let standIn: XiaomiStandIn;
let browser: Browser;
let api: ManagementApi;
const xiaomiApp = xiaomiAppOfConfig();
/** The redirect URI of every authorize request the stand-in saw, in order. */
const authorizeRedirects: string[] = [];
/** The connector the admin creates in the Console. */
let connectorId = '';

beforeAll(async () => {
  const tarball = await packTarball();
  const instance = await prepareLogto(version);
  await holdOfficialConnector(instance);
  await installAsReadmeSays(instance, tarball);
  standIn = await startXiaomiStandIn({
    apps: [xiaomiApp],
    users: seededUsers,
    onAnswer: ({ path, params }) => {
      if (path === '/oauth2/authorize') {
        authorizeRedirects.push(params.redirect_uri ?? '');
      }
    },
  });
  logto = await startLogto(version, { ...routedToStandIn(standIn.origin), LOGTO_UI: '1' });
  browser = await launchChromium();
  const token = await kit.getManagementToken({
    adminEndpoint: logto.adminEndpoint,
    appId: logto.m2mAppId,
    secret: logto.m2mSecret,
  });
  api = kit.managementApi({ endpoint: logto.endpoint, token });
  await api('PATCH', '/sign-in-exp', { branding: { logoUrl: appLogo } });
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await stopLogto();
  await standIn?.close();
}, 60_000);

/** A browser of the admin, or of a user signed in to Xiaomi as `xiaomiUser`. */
const open = (xiaomiUser?: string, locale?: string, origins: string[] = []) =>
  personsBrowser(browser, {
    origins: [logto.endpoint, logto.adminEndpoint, ...origins],
    standInOrigin: standIn.origin,
    xiaomiUser,
    locale,
  });

/** What the scrolling below uses of an element, in the page. */
type ScrollBox = {
  parentElement: ScrollBox | null;
  scrollWidth: number;
  clientWidth: number;
  scrollLeft: number;
  textContent: string | null;
  getBoundingClientRect: () => { left: number; right: number; width: number };
};

/**
 * Scrolls the raw data's code view sideways until the whole of `sentence` is in view, and checks
 * that it is. The view is monospaced: each character is as wide.
 */
const scrollSentenceIntoView = async (page: Page, sentence: string) => {
  const inView = await page
    .getByText(sentence, { exact: false })
    // The innermost element with the sentence: the string of the message line.
    .last()
    .evaluate((element, text) => {
      const line = element as unknown as ScrollBox;
      // The code view that scrolls sideways: of the line's nearest ancestors, the one with the
      // most to scroll (its <pre> has a few pixels more than it shows, the editor thousands).
      let view: ScrollBox | null = null;
      for (let box = line.parentElement, depth = 0; box && depth < 6; box = box.parentElement) {
        depth += 1;
        if (box.scrollWidth - box.clientWidth > (view ? view.scrollWidth - view.clientWidth : 0)) {
          view = box;
        }
      }
      const whole = line.textContent ?? '';
      const edges = () => {
        const box = line.getBoundingClientRect();
        const left = box.left + whole.indexOf(text) * (box.width / whole.length);
        return { left, right: left + text.length * (box.width / whole.length) };
      };
      if (!view) {
        return false;
      }
      // The sentence's end just inside the view's right edge; its start then clears the line
      // numbers, which cover the view's left edge.
      view.scrollLeft += edges().right - (view.getBoundingClientRect().right - 24);
      const { left, right } = edges();
      const bounds = view.getBoundingClientRect();
      return left >= bounds.left + 64 && right <= bounds.right;
    }, sentence);
  expect(inView).toBe(true);
};

describe('the admin, in the Console', () => {
  it('adds Xiaomi with the guide beside the form, sees its id, and offers it on the sign-in page', async () => {
    const { context, page } = await open();
    try {
      await signInToConsole(browser, page, logto.adminEndpoint);
      await page.getByRole('link', { name: 'Connectors', exact: true }).click();
      await page.getByRole('link', { name: 'Social connectors' }).click();
      await page.getByRole('button', { name: 'Add Social Connector' }).first().click();

      const picker = page.getByRole('dialog');
      await picker.getByText(defaultMetadata.name.en ?? '', { exact: true }).waitFor();
      await picker.getByText(defaultMetadata.description.en ?? '').waitFor();
      expect(await imageLoaded(picker.locator(`img[src="${ourLogo}"]`))).toBe(true);
      await screenshot(picker, 'console-1-add-connector');
      await picker.getByText('Xiaomi', { exact: true }).click();
      await page.getByRole('button', { name: 'Next' }).click();

      // The guide pane: our admin guide, its callback step readable.
      await page.getByText('README: Xiaomi sign-in: admin guide').waitFor();
      await page.getByRole('heading', { name: '1. Prepare a Xiaomi app' }).waitFor();
      await page.getByText('Redirect URI (Callback URI)').first().waitFor();
      // The form: our settings, each with its description, and the token storage switch.
      const form = page.locator('form');
      for (const { label, description } of defaultMetadata.formItems ?? []) {
        await form.getByText(label, { exact: true }).waitFor();
        await form.getByText(description ?? '', { exact: true }).waitFor();
      }
      await form.getByText('Store tokens for persistent API access').waitFor();
      await page.locator('[name="formConfig.clientId"]').fill(connectorConfig.clientId);
      await page.locator('[name="formConfig.clientSecret"]').fill(connectorConfig.clientSecret);
      await page.locator('form label[class*="switch"]').first().click();
      // Wide enough for the Redirect URIs, and tall enough for the form from the token storage
      // switch to its last setting, with the guide from its start beside it.
      await page.setViewportSize({ width: 1600, height: 1100 });
      await form
        .getByText('Store tokens for persistent API access')
        .evaluate((label) => label.scrollIntoView({ block: 'start' }));
      await screenshot(page, 'console-2-guide-and-settings', {
        readmeName: '1-console-guide-and-settings',
      });
      await page.setViewportSize({ width: 1280, height: 800 });

      // A scope with commas is refused on save; the form stays, with the scope's description.
      await page.locator('[name="formConfig.scope"]').fill('1,4,6');
      await page.getByRole('button', { name: 'Save and Done' }).click();
      await page.getByText("The connector's config is invalid.").waitFor();
      await screenshot(page, 'console-3-scope-refused');
      expect(page.url()).toMatch(/\/connectors\/social\/guide\/xiaomi-universal$/);

      await page.locator('[name="formConfig.scope"]').fill(connectorConfig.scope);
      await page.getByRole('button', { name: 'Save and Done' }).click();
      await page.waitForURL(/\/console\/connectors\/social\/[a-z0-9]+$/);
      connectorId = new URL(page.url()).pathname.split('/').at(-1) ?? '';
      await page.getByText(connectorId, { exact: true }).waitFor();
      const callbacks = [
        `${logto.endpoint}/callback/${connectorId}`,
        `${logto.endpoint}/account/callback/social/${connectorId}`,
      ];
      for (const callback of callbacks) {
        await page.getByText(callback, { exact: true }).waitFor();
      }
      await screenshot(page, 'console-4-connector-page');
      // The admin registers the Redirect URIs the Console shows at Xiaomi.
      xiaomiApp.redirectUris.push(...callbacks);
      expect(await api('GET', `/connectors/${connectorId}`)).toMatchObject({
        connectorId: 'xiaomi-universal',
        enableTokenStorage: true,
        config: connectorConfig,
      });

      // Sign-in & account: Xiaomi among the social sign-in options.
      await page.getByRole('link', { name: 'Sign-in & account' }).click();
      await page.getByRole('button', { name: 'Get started' }).click();
      await page.getByRole('button', { name: 'Skip' }).click();
      await page.getByText('Sign-up and sign-in', { exact: true }).first().click();
      await page.getByRole('button', { name: 'Add Social Connector' }).click();
      await page.getByRole('menuitem', { name: 'Xiaomi' }).click();
      await page.getByRole('button', { name: 'Save changes' }).click();
      await page.getByRole('dialog').getByText('Xiaomi').waitFor();
      await page.getByRole('button', { name: 'Confirm' }).click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await screenshot(page, 'console-5-sign-in-experience');
      expect(
        await api<{ socialSignInConnectorTargets: string[] }>('GET', '/sign-in-exp'),
      ).toMatchObject({ socialSignInConnectorTargets: ['xiaomi'] });
    } finally {
      await context.close();
    }
  });
});

/** An app of the tenant whose redirect URI is a small server here (Logto's last hop is a 303). */
const appWithServer = async () => {
  const server = await kitBrowser.startAppServer();
  const app = await kit.createApp(api, {
    type: 'SPA',
    name: `browser-${Date.now()}`,
    redirectUri: server.redirectUri,
  });
  return { server, app };
};

type App = Awaited<ReturnType<typeof appWithServer>>;

/** Opens the app's sign-in (Logto's sign-in page), with the scope that reads stored tokens. */
const startAppSignIn = async (page: Page, { app, server }: App) => {
  const request = kitBrowser.authorizationRequest({
    endpoint: logto.endpoint,
    clientId: app.id,
    redirectUri: server.redirectUri,
    scope: 'openid profile identities',
  });
  await page.goto(request.url);
  await page.waitForURL(/\/sign-in/);
  return request;
};

/** The app's side once Logto sent the browser back: the code exchanged (PKCE) for tokens. */
const finishAppSignIn = async (
  page: Page,
  { app, server }: App,
  request: ReturnType<typeof kitBrowser.authorizationRequest>,
) => {
  await page.waitForURL((url) => url.href.startsWith(server.redirectUri), { timeout: 30_000 });
  const back = new URL(page.url());
  expect(back.searchParams.get('state')).toBe(request.state);
  const answer = await fetch(`${logto.endpoint}/oidc/token`, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: back.searchParams.get('code') ?? '',
      redirect_uri: server.redirectUri,
      code_verifier: request.verifier,
      client_id: app.id,
    }),
  });
  expect(answer.status).toBe(200);
  const tokens = (await answer.json()) as { access_token: string; id_token: string };
  return { tokens, sub: kit.decodeJwt(tokens.id_token).sub };
};

const xiaomiButton = (page: Page, label = 'Continue with Xiaomi') =>
  page.getByRole('button', { name: label });

/** The Xiaomi button clicked, Xiaomi's consent page answered. */
const throughXiaomi = async (page: Page, decision: 'Approve' | 'Deny' = 'Approve') => {
  await xiaomiButton(page).click();
  await page.waitForURL(/^https:\/\/account\.xiaomi\.com\/oauth2\/authorize/);
  await page.getByRole('button', { name: decision }).click();
};

describe('a user, on the sign-in page', () => {
  it('signs up with Xiaomi (Logto asks a username), then signs in again onto the same user', async () => {
    const target = await appWithServer();
    const first = await open(lei.unionId, 'en-US', [target.server.origin]);
    try {
      const request = await startAppSignIn(first.page, target);
      await xiaomiButton(first.page).waitFor();
      expect(await imageLoaded(xiaomiButton(first.page).locator('img'))).toBe(true);
      expect(await xiaomiButton(first.page).locator('img').getAttribute('src')).toBe(ourLogo);
      expect(await imageLoaded(first.page.locator(`main img[src="${appLogo}"]`))).toBe(true);
      await screenshot(first.page.locator('main'), 'sign-in-1-xiaomi-button', {
        readmeName: '2-sign-in-xiaomi-button',
      });

      await xiaomiButton(first.page).click();
      await first.page.waitForURL(/^https:\/\/account\.xiaomi\.com\/oauth2\/authorize/);
      await first.page
        .getByText(`${lei.nickname}, allow app ${connectorConfig.clientId} to use scope 1 4 6?`)
        .waitFor();
      await screenshot(first.page, 'sign-in-2-xiaomi-consent');
      await first.page.getByRole('button', { name: 'Approve' }).click();
      expect(authorizeRedirects.at(-1)).toBe(`${logto.endpoint}/callback/${connectorId}`);

      // Logto's default sign-up requires a username, which Xiaomi does not give.
      await first.page.waitForURL(/\/continue\/username/);
      await first.page.getByText('Set username').waitFor();
      await screenshot(first.page.locator('main'), 'sign-in-3-set-username', {
        readmeName: '4-set-username',
      });
      await first.page.locator('main input:visible').first().fill('lei_xiaomi');
      await first.page.getByRole('button', { name: 'Continue' }).click();
      const { sub } = await finishAppSignIn(first.page, target, request);
      expect(first.visited).toContainEqual(
        expect.stringMatching(new RegExp(`^${logto.endpoint}/callback/${connectorId}\\?code=`)),
      );

      const user = await api<{ username: string; identities: Record<string, unknown> }>(
        'GET',
        `/users/${sub}`,
      );
      expect(user).toMatchObject({
        username: 'lei_xiaomi',
        identities: {
          xiaomi: {
            userId: lei.unionId,
            details: {
              name: lei.nickname,
              avatar: lei.icon,
              email: lei.email,
              phone: '8613800138000',
            },
          },
        },
      });

      const again = await open(lei.unionId, 'en-US', [target.server.origin]);
      try {
        const second = await startAppSignIn(again.page, target);
        await throughXiaomi(again.page);
        expect(await finishAppSignIn(again.page, target, second)).toMatchObject({ sub });
      } finally {
        await again.context.close();
      }
    } finally {
      await first.context.close();
      await target.server.close();
    }
  });

  it('shows the Xiaomi button in Chinese to a browser in zh-CN', async () => {
    const target = await appWithServer();
    const { context, page } = await open(lei.unionId, 'zh-CN', [target.server.origin]);
    try {
      await startAppSignIn(page, target);
      const button = xiaomiButton(page, `通过 ${defaultMetadata.name['zh-CN']} 继续`);
      await button.waitFor();
      expect(await imageLoaded(button.locator('img'))).toBe(true);
      await screenshot(page.locator('main'), 'sign-in-4-xiaomi-button-zh-CN', {
        readmeName: '3-sign-in-xiaomi-button-zh-CN',
      });
    } finally {
      await context.close();
      await target.server.close();
    }
  });
});

describe('a user, in the Account Center', () => {
  it('links Xiaomi after a password check, then signs in with Xiaomi onto the same user', async () => {
    await api('PATCH', '/account-center', {
      enabled: true,
      fields: { username: 'ReadOnly', password: 'ReadOnly', social: 'Edit' },
    });
    const username = 'kenji_password';
    const password = 'Kenji-passw0rd!';
    const { id } = await api<{ id: string }>('POST', '/users', { username, password });
    const target = await appWithServer();
    const { context, page } = await open(kenji.unionId, 'en-US', [target.server.origin]);
    try {
      await page.goto(`${logto.endpoint}/account`);
      await page.waitForURL(/\/sign-in/);
      await page.locator('input[name=identifier]').fill(username);
      await page.locator('input[name=password]').fill(password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.waitForURL(`${logto.endpoint}/account/security`, { timeout: 30_000 });
      const row = page
        .locator('div', { has: page.getByText('Xiaomi', { exact: true }) })
        .filter({ has: page.getByRole('button', { name: 'Add', exact: true }) })
        .last();
      await row.getByText('Not linked').waitFor();
      expect(await imageLoaded(row.locator(`img[src="${ourLogo}"]`))).toBe(true);
      await screenshot(page, 'account-1-security');

      await row.getByRole('button', { name: 'Add', exact: true }).click();
      await page.getByText('Verify password').first().waitFor();
      await page.locator('input[name=currentPassword]').fill(password);
      await page.getByRole('button', { name: 'Continue', exact: true }).click();
      await page.waitForURL(/^https:\/\/account\.xiaomi\.com\/oauth2\/authorize/);
      expect(authorizeRedirects.at(-1)).toBe(
        `${logto.endpoint}/account/callback/social/${connectorId}`,
      );
      await page.getByRole('button', { name: 'Approve' }).click();
      await page.getByText('Update successful').waitFor();
      await page.getByRole('button', { name: 'Done' }).click();
      await page.waitForURL(`${logto.endpoint}/account/security`);
      await page.getByText(kenji.nickname, { exact: true }).waitFor();
      await screenshot(page, 'account-2-linked');

      const request = await startAppSignIn(page, target);
      await throughXiaomi(page);
      const { sub, tokens } = await finishAppSignIn(page, target, request);
      expect(sub).toBe(id);
      const stored = await fetch(
        `${logto.endpoint}/api/my-account/identities/xiaomi/access-token`,
        {
          headers: { authorization: `Bearer ${tokens.access_token}` },
        },
      );
      expect(stored.status).toBe(200);
      expect(await stored.json()).toMatchObject({ token_type: 'mac', scope: '1 4 6' });
    } finally {
      await context.close();
      await target.server.close();
    }
  });
});

describe('when it fails', () => {
  const sentence = (error: Parameters<typeof dataOf>[0]) => dataOf(error).errorDescription;
  /** What each failure shows the user, and the sentence the admin then reads in the audit log. */
  const failures: { name: string; shown: string; explained: string }[] = [];

  /** A sign-in of `ana` that goes wrong as `arrange` makes it; what the sign-in page shows. */
  const failingSignIn = async (
    name: string,
    decision: 'Approve' | 'Deny',
    arrange: (page: Page) => Promise<void> = async () => {},
  ) => {
    const target = await appWithServer();
    const { context, page } = await open(ana.unionId, 'en-US', [target.server.origin]);
    try {
      await startAppSignIn(page, target);
      await arrange(page);
      await throughXiaomi(page, decision);
      await page.waitForURL(/\/sign-in/, { timeout: 30_000 });
      const toast = page.getByRole('alert').or(page.locator('[class*=toast]')).first();
      await toast.waitFor({ timeout: 15_000 });
      await screenshot(page, `failure-${name}`);
      return (await toast.textContent())?.trim() ?? '';
    } finally {
      await context.close();
      await target.server.close();
    }
  };

  it('the user denies at Xiaomi: the sign-in page says so, the user can try again', async () => {
    const shown = await failingSignIn('deny', 'Deny');
    expect(shown).toBe("The user's authorization process is unsuccessful.");
    failures.push({
      name: 'deny',
      shown,
      explained: sentence(
        xiaomiError({ code: 'access_denied', description: 'The user refused the authorization.' }),
      ),
    });
  });

  it('the AppSecret is wrong: the user sees Logto’s config message', async () => {
    await api('PATCH', `/connectors/${connectorId}`, {
      config: { ...connectorConfig, clientSecret: 'not-the-app-secret' },
    });
    try {
      const shown = await failingSignIn('wrong-app-secret', 'Approve');
      expect(shown).toBe("The connector's config is invalid.");
      failures.push({
        name: 'wrong-app-secret',
        shown,
        explained: sentence(xiaomiError({ code: 96003, description: 'invalid client' })),
      });
    } finally {
      await api('PATCH', `/connectors/${connectorId}`, { config: connectorConfig });
    }
  });

  it('Xiaomi does not answer: after 5 s the user sees the connector’s own sentence', async () => {
    try {
      const shown = await failingSignIn('xiaomi-silent', 'Approve', async (page) => {
        // Xiaomi's consent page answers; only what comes after Logto's callback hangs.
        void page
          .waitForRequest((request) => request.url().startsWith(`${logto.endpoint}/callback/`))
          .then(() => {
            standIn.knobs.hang = true;
          });
      });
      const explained = sentence(timeoutError(new URL(tokenEndpoint), ['timeout']));
      expect(shown).toBe(`Error occurred in connector: ${explained}`);
      failures.push({ name: 'xiaomi-silent', shown, explained });
    } finally {
      standIn.reset();
    }
  });

  it('the admin reads each failure’s explanation first in Console → Audit logs', async () => {
    expect(failures.map(({ name }) => name)).toEqual(['deny', 'wrong-app-secret', 'xiaomi-silent']);
    const { context, page } = await open();
    try {
      await signInToConsole(browser, page, logto.adminEndpoint);
      // Newest first: the three failed verifications, the last failure on top.
      for (const [index, { name, explained }] of [...failures].reverse().entries()) {
        await page.getByRole('link', { name: 'Audit logs', exact: true }).click();
        await page.waitForURL(/\/console\/audit-logs$/);
        await page
          .getByText('Sign-in: Verify social authentication', { exact: true })
          .nth(index)
          .click();
        await page.getByText('Failed', { exact: true }).waitFor();
        await page.getByText('Raw data', { exact: true }).waitFor();
        const messageLine = async () =>
          // biome-ignore lint/performance/useDomNodeTextContent: Playwright's innerText keeps the code view's line breaks.
          (await page.locator('body').innerText())
            .split('\n')
            .find((text) => text.includes('ConnectorError: ')) ?? '';
        await expect.poll(messageLine).toContain('ConnectorError: ');
        const line = await messageLine();
        const expected = JSON.stringify(
          `ConnectorError: {"errorDescription":${JSON.stringify(explained)}`,
        ).slice(1, -1);
        expect(line).toContain(`"Error: ${expected}`);
        // The entry and the first lines of its raw data, the message line scrolled sideways to
        // where the sentence starts: it is longer than the view, as the READMEs say.
        await page.setViewportSize({ width: 1600, height: 660 });
        if (name === 'xiaomi-silent') {
          await scrollSentenceIntoView(page, explained);
        }
        await screenshot(page, `audit-log-${name}`, {
          readmeName: name === 'xiaomi-silent' ? '5-audit-log-sentence' : undefined,
        });
        await page.setViewportSize({ width: 1280, height: 800 });
      }
    } finally {
      await context.close();
    }
  });
});
