/** Plays the user's browser on the stand-in: opens the authorize URL and answers the consent page. */
import { userCookie } from './xiaomi-stand-in.js';

export type BrowserStep = { url: string; status: number; page?: string };

const readCallback = (location: string | null) => {
  if (!location) {
    throw new Error('Xiaomi did not redirect back to the app.');
  }
  return Object.fromEntries(new URL(location).searchParams);
};

/**
 * Follows an authorize URL as a signed-in Xiaomi user would, approving or denying consent when the
 * page asks, and returns the callback's query (what Logto receives) with the steps seen.
 */
export const authorizeAs = async (
  authorizationUri: string,
  { user, decision = 'approve' }: { user?: string; decision?: 'approve' | 'deny' } = {},
) => {
  const headers = user ? { cookie: `${userCookie}=${user}` } : undefined;
  const steps: BrowserStep[] = [];
  const first = await fetch(authorizationUri, { headers, redirect: 'manual' });
  const page = await first.text();
  steps.push({ url: authorizationUri, status: first.status, page });
  if (first.status !== 200) {
    return { callback: readCallback(first.headers.get('location')), steps };
  }

  const ticket = /name="ticket" value="([^"]+)"/.exec(page)?.[1];
  if (!ticket) {
    throw new Error(`The consent page has no form: ${page}`);
  }
  const consentUrl = new URL('/oauth2/authorize/consent', authorizationUri).href;
  const answer = await fetch(consentUrl, {
    method: 'POST',
    headers,
    body: new URLSearchParams({ ticket, decision }),
    redirect: 'manual',
  });
  steps.push({ url: consentUrl, status: answer.status });
  return { callback: readCallback(answer.headers.get('location')), steps };
};
