import {
  ConnectorConfigFormItemType,
  type ConnectorMetadata,
  ConnectorPlatform,
} from '@logto/connector-kit';

// Ref: https://dev.mi.com/xiaomihyperos/documentation/detail?pId=1708
export const authorizationEndpoint = 'https://account.xiaomi.com/oauth2/authorize';
// Ref: https://dev.mi.com/xiaomihyperos/documentation/detail?pId=1708
export const tokenEndpoint = 'https://account.xiaomi.com/oauth2/token';
// Ref: https://dev.mi.com/xiaomihyperos/documentation/detail?pId=1517
export const profileEndpoint = 'https://open.account.xiaomi.com/user/profile';
// Ref: https://dev.mi.com/docs/passport/ (Xiaomi's older pages: the current ones dropped it)
export const phoneAndEmailEndpoint = 'https://open.account.xiaomi.com/user/phoneAndEmail';

/** Xiaomi puts this literal before the JSON of every token endpoint response. */
export const xiaomiJsonPrefix = '&&&START&&&';

/** The scope of `user/profile`: without it nobody can sign in, so every request carries it. */
export const profileScope = '1';
/** Scope ids that open `user/phoneAndEmail`: 4 for the phone number, 6 for the email address. */
export const phoneScope = '4';
export const emailScope = '6';

/**
 * How long a user may wait on Xiaomi. One attempt, headers and body, gets 5 s, as long as the
 * official connector waits; one request gets 8 s in all, attempts and the waits between them
 * included, so that an attempt that hangs still leaves room for another.
 */
export const timeLimits = { attempt: 5000, request: 8000 };

/** Attempts per request at most: the first, and two more where sending again is safe. */
export const maxAttempts = 3;

/**
 * Milliseconds one call to Logto's Redis may take. Redis answers in about a millisecond; a call
 * that has not answered in a quarter of a second finds Redis in trouble, and the refresh goes on
 * without it rather than hold the user.
 */
export const redisCallLimit = 250;

/**
 * How long a Logto process may stand still between Xiaomi's response and its next step: a long
 * garbage collection, or an event loop kept busy (Logto hashes passwords on its main thread).
 */
export const pauseSlackMs = 2000;

/**
 * How refreshes are shared through Redis. A claim lives for one request to Xiaomi, one Redis call
 * to tell its outcome and a pause of the process: a process that holds it and lives never loses
 * it before it has told, and one that dies holds the others up no longer. A waiting process looks
 * every 50 ms: a millisecond of Redis's work each time, and at most 50 ms late. A claim whose
 * reply did not come is looked for as long as a pause may last: Redis holds writes for a moment
 * in a failover, and reads on.
 */
export const sharedRefreshTiming = {
  claimMs: timeLimits.request + redisCallLimit + pauseSlackMs,
  pollMs: 50,
  landMs: pauseSlackMs,
};

/**
 * A PING on an idle connection once a minute: managed Redis and proxies close connections idle
 * for five minutes or more (Azure after ten; Logto pings its own every eight for that reason).
 */
export const redisKeepAliveMs = 60_000;

/** Commands waiting for Redis's reply at most: a Redis that hangs fails the rest at once. */
export const redisQueueMax = 1000;

/** How long after a connection failed for good (a cluster never reached) the next one is made. */
export const redisReconnectMs = 5000;

export const defaultMetadata: ConnectorMetadata = {
  id: 'xiaomi-universal',
  target: 'xiaomi',
  platform: ConnectorPlatform.Universal,
  name: {
    en: 'Xiaomi',
    'zh-CN': '小米',
    'tr-TR': 'Xiaomi',
    ko: '샤오미',
    ja: 'シャオミ',
  },
  logo: './logo.svg',
  logoDark: null,
  description: {
    en: 'Sign in with a Xiaomi account (Mi Account).',
    'zh-CN': '使用小米账号登录。',
    'tr-TR': 'Xiaomi hesabıyla (Mi Hesabı) oturum açın.',
    ko: '샤오미 계정(Mi 계정)으로 로그인합니다.',
    ja: 'Xiaomi アカウント（Mi アカウント）でサインインします。',
  },
  readme: './docs/admin-guide.md',
  isTokenStorageSupported: true,
  formItems: [
    {
      key: 'clientId',
      type: ConnectorConfigFormItemType.Text,
      label: 'Client ID',
      required: true,
      placeholder: '<AppID>',
      description: 'The AppID of your app on the Xiaomi open platform.',
    },
    {
      key: 'clientSecret',
      type: ConnectorConfigFormItemType.Text,
      label: 'Client Secret',
      required: true,
      isConfidential: true,
      placeholder: '<AppSecret>',
      description: 'The AppSecret of the same app.',
    },
    {
      key: 'scope',
      type: ConnectorConfigFormItemType.MultilineText,
      label: 'Scope',
      required: false,
      placeholder: profileScope,
      description:
        'Xiaomi scope ids separated by spaces, e.g. "1 3"; anything else, such as commas, is refused on save. Scope 1 (the user profile) is always requested: it is added in front when missing.',
    },
    {
      key: 'skipConfirm',
      type: ConnectorConfigFormItemType.Switch,
      label: 'Skip Xiaomi consent page',
      required: false,
      defaultValue: false,
      description: 'Let users who are already signed in to Xiaomi skip the consent page.',
    },
  ],
};
