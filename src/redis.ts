/**
 * Logto's own Redis, where Logto has one: REDIS_URL read as Logto reads it, and node-redis (the
 * client Logto uses) loaded only then. Every call is bounded in time; when Redis is away, calls
 * fail at once. What the admin reads of it in Logto's log is true: an outage only when a
 * connection cannot be made, a slow call or a refused command in their own words, once each.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClientOptions, RedisClusterOptions } from '@redis/client';
import { redisCallLimit, redisKeepAliveMs, redisQueueMax, redisReconnectMs } from './constant.js';
import { logNotes } from './errors.js';

/** Redis, as the refresh sharing uses it. Each call is bounded in time and rejects when it fails. */
export type SharedStore = {
  /** The values of `keys`, `null` where there is none. */
  read: (keys: string[]) => Promise<(string | null)[]>;
  /** Stores `value` for `ttlMs` unless `key` holds one; whether it did. */
  claim: (key: string, value: string, ttlMs: number) => Promise<boolean>;
  /** Stores `value` for `ttlMs`. */
  write: (key: string, value: string, ttlMs: number) => Promise<void>;
  /** Deletes `key` if it still holds `value`. */
  release: (key: string, value: string) => Promise<void>;
};

/** Logto's test of a yes in its settings (`@silverhand/essentials`' `yes`). */
const yes = (value: string | null | undefined) =>
  Boolean(value) && ['1', 'true', 'y', 'yes', 'yep', 'yeah'].includes(String(value).toLowerCase());

const decode = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

/** TLS and certificates as Logto takes them from REDIS_URL's parameters. */
const socketOptionsOf = (url: URL | undefined) => {
  const file = (name: string) => {
    const path = url?.searchParams.get(name);
    return path ? readFileSync(path, 'utf8') : undefined;
  };
  return {
    tls: url?.protocol === 'rediss:',
    rejectUnauthorized: yes(url?.searchParams.get('reject_unauthorized')),
    cert: file('cert'),
    key: file('key'),
    ca: file('certroot'),
  };
};

/**
 * What every connection of the connector's client does: it names itself in Redis's CLIENT LIST;
 * commands that wait for a lost connection would hold a user, so they fail; a PING keeps an idle
 * connection from being closed by Redis or a proxy; what a hung Redis can pile up is bounded.
 */
const connectionOptions = {
  name: 'connector-xiaomi-plus',
  disableOfflineQueue: true,
  pingInterval: redisKeepAliveMs,
  commandsQueueMaxLength: redisQueueMax,
};

/**
 * How Logto connects for a REDIS_URL: a yes (`1`, `true`…) means Redis on localhost; `cluster=1`
 * means a cluster whose nodes are the URL's host and its `host` parameters; anything else is
 * node-redis's own URL. Unlike Logto's cache, the connector reads only from masters: a claim or
 * an answer read from a replica that lags would send a spent token to Xiaomi.
 */
export const redisOptionsOf = (
  redisUrl: string,
):
  | { cluster: false; options: RedisClientOptions }
  | { cluster: true; options: RedisClusterOptions } => {
  const url = URL.canParse(redisUrl) ? new URL(redisUrl) : undefined;
  const socket = socketOptionsOf(url) as RedisClientOptions['socket'];
  if (url && yes(url.searchParams.get('cluster'))) {
    const hosts = [url.host, ...url.searchParams.getAll('host')].filter(Boolean);
    return {
      cluster: true,
      options: {
        rootNodes: hosts.map((host) => ({ url: `redis://${host}` })),
        useReplicas: false,
        defaults: {
          socket,
          username: url.username ? decode(url.username) : undefined,
          password: url.password ? decode(url.password) : undefined,
          ...connectionOptions,
        },
      },
    };
  }
  return {
    cluster: false,
    options: { url: yes(redisUrl) ? undefined : redisUrl, socket, ...connectionOptions },
  };
};

/** A line of Logto's log, with what Redis or node-redis said in brackets. */
const logLine = (line: string, detail?: string) =>
  `[connector-xiaomi-plus] ${line}${detail === undefined ? '' : ` (${detail})`}`;

/** A socket's code (ECONNREFUSED) where there is one, else the error's words; never the URL. */
const causeOf = (error: unknown) => {
  const { code, message } = Object(error) as { code?: unknown; message?: unknown };
  return String(typeof code === 'string' ? code : message);
};

/**
 * A call that Redis did not answer within `redisCallLimit`. Its outcome is unknown, not failed:
 * Redis may carry it out later, as when it holds writes in a failover.
 */
export class UnknownOutcome extends Error {
  constructor() {
    super(`Redis did not answer within ${redisCallLimit} ms`);
  }
}

type RedisModule = typeof import('@redis/client');

/** What this process tells Logto's log about Redis, each as `logNotes` says. */
const redisTeller = ({ ErrorReply, SocketClosedUnexpectedlyError }: RedisModule) => {
  let away = false;
  let toldSlow = false;
  const toldRefusals = new Set<string>();
  return {
    /** A connection could not be made, or was lost and not made again. */
    unreachable: (error: unknown) => {
      // Redis or a proxy closed an idle connection: node-redis opens another at once.
      if (!away && !(error instanceof SocketClosedUnexpectedlyError)) {
        away = true;
        console.warn(logLine(logNotes.redisAway.line, causeOf(error)));
      }
    },
    /** A call failed: slow, or refused by Redis; a lost connection is told by `unreachable`. */
    callFailed: (error: unknown) => {
      if (error instanceof UnknownOutcome && !toldSlow) {
        toldSlow = true;
        console.warn(logLine(logNotes.redisSlow.line));
      }
      // Redis's reply names the kind of refusal first: NOPERM, READONLY, OOM…
      const kind = error instanceof ErrorReply ? error.message.split(' ')[0] : undefined;
      if (kind !== undefined && !toldRefusals.has(kind)) {
        toldRefusals.add(kind);
        console.warn(logLine(logNotes.redisRefused.line, (error as Error).message));
      }
    },
    /** A call worked: after an outage, Redis is back. */
    answered: () => {
      if (away) {
        away = false;
        console.info(logLine(logNotes.redisBack.line));
      }
    },
  };
};

/**
 * `call` within `redisCallLimit`. A process whose event loop stood still past the limit (a long
 * garbage collection) may have the reply waiting already: it is read (I/O comes before
 * `setImmediate`) before the call is given up.
 */
const within = <T>(call: Promise<T>) =>
  new Promise<T>((resolve, reject) => {
    let settled = false;
    const settle = (done: () => void) => {
      if (!settled) {
        settled = true;
        clearTimeout(timer);
        done();
      }
    };
    const timer = setTimeout(() => {
      setImmediate(() => settle(() => reject(new UnknownOutcome())));
    }, redisCallLimit);
    call.then(
      (value) => settle(() => resolve(value)),
      (error: unknown) => settle(() => reject(error)),
    );
  });

/** Deletes a key only while it holds the given value, so a claim is released only by its owner. */
const releaseScript =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/** Redis takes whole milliseconds, and at least one. */
const px = (ttlMs: number) => ({ type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) }) as const;

/** When the connection last failed for good, if it did. */
let failedAt: number | undefined;

/** One teller for the process, whichever connection it tells of: "back" follows "away". */
let teller: ReturnType<typeof redisTeller> | undefined;

/**
 * A client, or a cluster, for REDIS_URL. A client that cannot connect tries again by itself; a
 * cluster that could not be reached at first never does, so it is marked failed, and a later
 * refresh makes it anew (see `sharedStore`).
 */
const connect = async (redisUrl: string): Promise<SharedStore> => {
  // node-redis is CommonJS: its exports are the module's default, in Node as in lib/'s chunk.
  const { default: redis } = await import('@redis/client');
  teller ??= redisTeller(redis);
  const { answered, callFailed, unreachable } = teller;
  const target = redisOptionsOf(redisUrl);
  const client = target.cluster
    ? redis.createCluster(target.options)
    : redis.createClient(target.options);
  const run = async <T>(call: Promise<T>) => {
    try {
      const value = await within(call);
      answered();
      return value;
    } catch (error) {
      callFailed(error);
      throw error;
    }
  };

  client.on('error', unreachable);
  const connecting = client.connect().catch((error: unknown) => {
    unreachable(error);
    failedAt = Date.now();
    client.destroy();
  });
  // The first refresh waits a moment for the connection; it goes on in the background after.
  await Promise.race([connecting, sleep(redisCallLimit)]);
  return {
    read: (keys) => run(client.mGet(keys)),
    claim: async (key, value, ttlMs) =>
      (await run(client.set(key, value, { condition: 'NX', expiration: px(ttlMs) }))) === 'OK',
    write: async (key, value, ttlMs) => {
      await run(client.set(key, value, { expiration: px(ttlMs) }));
    },
    release: async (key, value) => {
      await run(client.eval(releaseScript, { keys: [key], arguments: [value] }));
    },
  };
};

let connection: Promise<SharedStore | undefined> | undefined;

/** The store shared by every Logto process on this Redis, or `undefined` where there is none. */
export const sharedStore = async () => {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    return undefined;
  }
  if (!connection || (failedAt !== undefined && Date.now() - failedAt >= redisReconnectMs)) {
    failedAt = undefined;
    connection = connect(redisUrl).catch((error: unknown) => {
      // A REDIS_URL node-redis cannot read: nothing to share through, and never will be.
      console.warn(logLine(logNotes.redisAway.line, causeOf(error)));
      return undefined;
    });
  }
  return connection;
};
