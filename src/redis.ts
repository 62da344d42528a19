/**
 * Logto's own Redis, where Logto has one: REDIS_URL read as Logto reads it, and node-redis (the
 * client Logto uses) loaded only then. Every call is bounded in time; when Redis is away, calls
 * fail at once and the admin is told once in Logto's log.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClientOptions, RedisClusterOptions } from '@redis/client';
import { redisCallLimit } from './constant.js';
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
 * How Logto connects for a REDIS_URL: a yes (`1`, `true`…) means Redis on localhost; `cluster=1`
 * means a cluster whose nodes are the URL's host and its `host` parameters; anything else is
 * node-redis's own URL. Commands that wait for a lost connection would hold a user, so they fail.
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
        useReplicas: true,
        defaults: {
          socket,
          username: url.username ? decode(url.username) : undefined,
          password: url.password ? decode(url.password) : undefined,
          disableOfflineQueue: true,
        },
      },
    };
  }
  return {
    cluster: false,
    options: { url: yes(redisUrl) ? undefined : redisUrl, socket, disableOfflineQueue: true },
  };
};

/** Says once, in Logto's log, that Redis is away, and once more when it is back. */
const troubleTeller = () => {
  let told = false;
  return {
    trouble: (error: unknown) => {
      if (!told) {
        told = true;
        // A socket's code (ECONNREFUSED) where there is one, else node-redis's words; never the URL.
        const { code, message } = Object(error) as { code?: unknown; message?: unknown };
        console.warn(
          `[connector-xiaomi-plus] ${logNotes.redisAway.line} (${String(typeof code === 'string' ? code : message)})`,
        );
      }
    },
    back: () => {
      if (told) {
        told = false;
        console.info(`[connector-xiaomi-plus] ${logNotes.redisBack.line}`);
      }
    },
  };
};

/**
 * Fails a call that takes longer than `redisCallLimit`, and tells of its failure. A call while the
 * connection is down fails at once: node-redis keeps no queue of commands here.
 */
const within = async <T>(call: () => Promise<T>, onTrouble: (error: unknown) => void) => {
  const limit = new AbortController();
  try {
    return await Promise.race([
      call(),
      sleep(redisCallLimit, undefined, { signal: limit.signal }).then(() => {
        throw new Error(`Redis did not answer within ${redisCallLimit} ms`);
      }),
    ]);
  } catch (error) {
    onTrouble(error);
    throw error;
  } finally {
    limit.abort();
  }
};

/** Deletes a key only while it holds the given value, so a claim is released only by its owner. */
const releaseScript =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0";

/** A node-redis client, or cluster, for REDIS_URL. */
const clientFor = async (redisUrl: string) => {
  // node-redis is CommonJS: its exports are the module's default, in Node as in lib/'s chunk.
  const { default: redis } = await import('@redis/client');
  const target = redisOptionsOf(redisUrl);
  return target.cluster ? redis.createCluster(target.options) : redis.createClient(target.options);
};

const connectStore = async (redisUrl: string): Promise<SharedStore> => {
  const client = await clientFor(redisUrl);
  const teller = troubleTeller();
  client.on('error', teller.trouble);
  client.on('ready', teller.back);
  // The first refresh waits a moment for the connection; it goes on in the background after.
  await Promise.race([client.connect().catch(teller.trouble), sleep(redisCallLimit)]);

  const run = <T>(call: () => Promise<T>) => within(call, teller.trouble);
  return {
    read: (keys) => run(() => client.mGet(keys)),
    claim: async (key, value, ttlMs) =>
      (await run(() =>
        client.set(key, value, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }),
      )) === 'OK',
    write: async (key, value, ttlMs) => {
      await run(() => client.set(key, value, { expiration: { type: 'PX', value: ttlMs } }));
    },
    release: async (key, value) => {
      await run(() => client.eval(releaseScript, { keys: [key], arguments: [value] }));
    },
  };
};

let connected: Promise<SharedStore | undefined> | undefined;

/** The store shared by every Logto process on this Redis, or `undefined` where there is none. */
export const sharedStore = async () => {
  const redisUrl = process.env.REDIS_URL;
  if (!redisUrl) {
    return undefined;
  }
  connected ??= connectStore(redisUrl).catch((error: unknown) => {
    troubleTeller().trouble(error);
    return undefined;
  });
  return connected;
};
