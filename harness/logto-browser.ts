/**
 * Logto's own pages (1.42.0's Console, sign-in page and Account Center, served by the kit with
 * LOGTO_UI=1) in headless Chromium, driven by playwright-core: a browser that reaches only the
 * origins a test names, with Xiaomi's authorize and consent pages answered by the stand-in, as the
 * browser of a user signed in to Xiaomi would see them.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  type Browser,
  type BrowserContext,
  chromium,
  type Locator,
  type Page,
  type Route,
} from 'playwright-core';
import { packageRoot } from './logto-loader.js';
import { installChromium, kitDir } from './logto-server.js';
import { userCookie } from './xiaomi-stand-in.js';

export const launchChromium = async (): Promise<Browser> =>
  chromium.launch({ executablePath: await installChromium() });

/** Where every journey's screenshots go. */
const screenshotDir = join(packageRoot, 'test-results', 'browser');
/** Where the README's pictures go, written only by `npm run screenshots` (DOCS_IMAGES=1). */
const docsImageDir = join(packageRoot, 'docs', 'images');

/**
 * Saves a screenshot of `target` (a page, or an element cropped to its box) under `name`; for
 * `npm run screenshots`, one of the README's pictures also goes to docs/images as `readmeName`,
 * numbered in the order the READMEs show them.
 */
export const screenshot = async (
  target: Page | Locator,
  name: string,
  { readmeName }: { readmeName?: string } = {},
) => {
  const paths = [join(screenshotDir, `${name}.png`)];
  if (readmeName && process.env.DOCS_IMAGES === '1') {
    paths.push(join(docsImageDir, `${readmeName}.png`));
  }
  for (const path of paths) {
    await mkdir(dirname(path), { recursive: true });
    await target.screenshot({ path, animations: 'disabled' });
  }
};

/** Whether an `<img>` has actually loaded a picture (a broken image has no natural width). */
export const imageLoaded = (image: Locator) =>
  image.evaluate((element) => {
    const { complete, naturalWidth } = element as unknown as {
      complete: boolean;
      naturalWidth: number;
    };
    return complete && naturalWidth > 0;
  });

/** Answers a request for account.xiaomi.com from the stand-in, as `xiaomiUser`. */
const answerFromStandIn = async (route: Route, standInOrigin: string, xiaomiUser: string) => {
  const request = route.request();
  const { pathname, search } = new URL(request.url());
  const answer = await fetch(`${standInOrigin}${pathname}${search}`, {
    method: request.method(),
    headers: {
      'content-type': request.headers()['content-type'] ?? 'text/plain',
      cookie: `${userCookie}=${xiaomiUser}`,
    },
    body: request.postData() ?? undefined,
    redirect: 'manual',
  });
  await route.fulfill({
    status: answer.status,
    headers: Object.fromEntries(answer.headers),
    body: Buffer.from(await answer.arrayBuffer()),
  });
};

type PageOptions = {
  /** Origins the pages may reach (Logto's two, the app's); every other request is aborted. */
  origins: string[];
  standInOrigin: string;
  /** The Xiaomi user the browser is signed in to Xiaomi as (the stand-in's first when empty). */
  xiaomiUser?: string;
  locale?: string;
};

/** A browser context as a person's browser, offline but for `origins` and Xiaomi's stand-in. */
export const personsBrowser = async (
  browser: Browser,
  { origins, standInOrigin, xiaomiUser = '', locale = 'en-US' }: PageOptions,
): Promise<{ context: BrowserContext; page: Page; visited: string[] }> => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale });
  const allowed = new Set(origins.map((origin) => new URL(origin).origin));
  await context.route(
    (url) => !allowed.has(url.origin),
    (route) => route.abort('internetdisconnected'),
  );
  await context.route(/^https:\/\/account\.xiaomi\.com\//, (route) =>
    answerFromStandIn(route, standInOrigin, xiaomiUser),
  );
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const visited: string[] = [];
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) {
      visited.push(frame.url());
    }
  });
  return { context, page, visited };
};

type KitBrowserExamples = {
  consoleFirstAdmin: (
    browser: Browser,
    options: { username: string; password: string },
  ) => Promise<{ created: boolean }>;
  startAppServer: () => Promise<{
    origin: string;
    redirectUri: string;
    close: () => Promise<void>;
  }>;
  authorizationRequest: (options: {
    endpoint: string;
    clientId: string;
    redirectUri: string;
    scope?: string;
  }) => { url: string; verifier: string; state: string };
};

/** The kit's browser examples, used as a library (../shared/logto/examples/browser-sign-in.mjs). */
export const kitBrowser = (await import(
  pathToFileURL(join(kitDir, 'examples', 'browser-sign-in.mjs')).href
)) as KitBrowserExamples;

const consoleAdmin = { username: 'admin', password: 'Xiaomi-plus-admin-1' };

/**
 * The Console, signed in as the first admin: created on a fresh Logto by the kit's journey
 * (Welcome → Create account), then signed in again in `page`, as an admin coming back does.
 */
export const signInToConsole = async (browser: Browser, page: Page, adminEndpoint: string) => {
  await kitBrowser.consoleFirstAdmin(browser, consoleAdmin);
  await page.goto(`${adminEndpoint}/console`);
  await page.waitForURL(/\/sign-in/);
  await page.locator('input[name=identifier]').fill(consoleAdmin.username);
  await page.locator('input[name=password]').fill(consoleAdmin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(
    (url) =>
      url.pathname.startsWith('/console/') && !/\/console\/(welcome|callback)/.test(url.pathname),
  );
};
