import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../harness/free-port.js';
import { startRespServer } from '../test/resp-server.js';
import { redisCallLimit, redisKeepAliveMs, redisQueueMax, redisReconnectMs } from './constant.js';
import { logNotes } from './errors.js';

/** How often this file's code imported node-redis, and the clients it made, to close them. */
const imports = vi.hoisted(() => ({
  redis: 0,
  clients: [] as { destroy: () => void }[],
  clusters: 0,
}));
vi.mock('@redis/client', async (importOriginal) => {
  imports.redis += 1;
  const { default: redis } = await importOriginal<{ default: typeof import('@redis/client') }>();
  return {
    default: {
      ...redis,
      createClient: (...args: Parameters<typeof redis.createClient>) => {
        const client = redis.createClient(...args);
        imports.clients.push(client);
        return client;
      },
      createCluster: (...args: Parameters<typeof redis.createCluster>) => {
        const cluster = redis.createCluster(...args);
        imports.clusters += 1;
        imports.clients.push(cluster);
        return cluster;
      },
    },
  };
});

/** A Redis that answers MGET with one value and anything else with OK, each 50 ms late. */
const lateRedis = `
const net = require('node:net');
net.createServer((socket) => socket.on('data', (chunk) => {
  const names = [...chunk.toString().matchAll(/\\*\\d+\\r\\n\\$\\d+\\r\\n(\\w+)/g)].map((m) => m[1].toUpperCase());
  setTimeout(() => {
    for (const name of names) socket.write(name === 'MGET' ? '*1\\r\\n$1\\r\\nv\\r\\n' : '+OK\\r\\n');
  }, 50);
})).listen(0, '127.0.0.1', function () { console.log(this.address().port); });
`;

/** src/redis.ts afresh, as in a Logto process that has just started with `redisUrl`. */
const redisModuleWith = async (redisUrl: string | undefined) => {
  vi.resetModules();
  vi.stubEnv('REDIS_URL', redisUrl);
  return import('./redis.js');
};

let warn: ReturnType<typeof vi.spyOn>;
let info: ReturnType<typeof vi.spyOn>;

beforeEach(() => {
  imports.redis = 0;
  imports.clusters = 0;
  warn = vi.spyOn(console, 'warn').mockReturnValue();
  info = vi.spyOn(console, 'info').mockReturnValue();
});

afterEach(() => {
  // A client reconnects for as long as its process lives; a test's ends with the test.
  for (const client of imports.clients.splice(0)) {
    client.destroy();
  }
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe('redisOptionsOf', () => {
  it('hands node-redis a redis:// URL as it is: commands fail while disconnected, a ping keeps it open, the queue is bounded', async () => {
    const { redisOptionsOf } = await import('./redis.js');
    expect(redisOptionsOf('redis://:secret@cache.internal:6380/2')).toEqual({
      cluster: false,
      options: {
        url: 'redis://:secret@cache.internal:6380/2',
        socket: expect.objectContaining({ tls: false, rejectUnauthorized: false }),
        name: 'connector-xiaomi-plus',
        disableOfflineQueue: true,
        pingInterval: redisKeepAliveMs,
        commandsQueueMaxLength: redisQueueMax,
      },
    });
  });

  it('reads a yes as Redis on localhost, as Logto does', async () => {
    const { redisOptionsOf } = await import('./redis.js');
    for (const value of ['1', 'true', 'y', 'Yes', 'yep', 'YEAH']) {
      expect(redisOptionsOf(value)).toMatchObject({ cluster: false, options: { url: undefined } });
    }
  });

  it('takes TLS and its files from a rediss:// URL’s parameters, as Logto does', async () => {
    const { redisOptionsOf } = await import('./redis.js');
    const file = (name: string) => {
      const path = join(tmpdir(), `redis-${name}-${process.pid}.pem`);
      writeFileSync(path, `the ${name}`);
      return path;
    };
    const files = `certroot=${file('ca')}&cert=${file('cert')}&key=${file('key')}`;
    expect(
      redisOptionsOf(`rediss://cache:6380?reject_unauthorized=1&${files}`).options,
    ).toMatchObject({
      socket: {
        tls: true,
        rejectUnauthorized: true,
        ca: 'the ca',
        cert: 'the cert',
        key: 'the key',
      },
    });
  });

  it('makes a cluster of the URL’s host and its host parameters, read from its masters only', async () => {
    const { redisOptionsOf } = await import('./redis.js');
    expect(
      redisOptionsOf('redis://user:p%40ss@node1:7000?cluster=1&host=node2:7001&host=node3:7002'),
    ).toEqual({
      cluster: true,
      options: {
        rootNodes: [
          { url: 'redis://node1:7000' },
          { url: 'redis://node2:7001' },
          { url: 'redis://node3:7002' },
        ],
        useReplicas: false,
        defaults: expect.objectContaining({
          username: 'user',
          password: 'p@ss',
          name: 'connector-xiaomi-plus',
          disableOfflineQueue: true,
          pingInterval: redisKeepAliveMs,
          commandsQueueMaxLength: redisQueueMax,
        }),
      },
    });
  });

  it('takes a cluster’s nodes from its host parameters alone when the URL names no host', async () => {
    const { redisOptionsOf } = await import('./redis.js');
    expect(redisOptionsOf('redis://?cluster=1&host=node2:7001').options).toMatchObject({
      rootNodes: [{ url: 'redis://node2:7001' }],
    });
  });

  it('leaves a credential that is not percent-encoding as it is', async () => {
    const { redisOptionsOf } = await import('./redis.js');
    expect(redisOptionsOf('redis://user:100%25%ZZ@node1:7000?cluster=yes').options).toMatchObject({
      defaults: { password: '100%25%ZZ' },
    });
  });
});

describe('sharedStore', () => {
  it('is none without REDIS_URL, and node-redis is never loaded', async () => {
    const { sharedStore } = await redisModuleWith(undefined);
    await expect(sharedStore()).resolves.toBeUndefined();
    expect(imports.redis).toBe(0);
  });

  it('speaks to Redis: reads, claims only an empty key, writes with a time to live, releases its own', async () => {
    const redis = await startRespServer();
    redis.answerWith(([name]) =>
      name === 'MGET' ? '*2\r\n$-1\r\n$5\r\nvalue\r\n' : name === 'EVAL' ? ':1\r\n' : '+OK\r\n',
    );
    try {
      const { sharedStore } = await redisModuleWith(`redis://127.0.0.1:${redis.port}`);
      const store = await sharedStore();
      await expect(store?.read(['a', 'b'])).resolves.toEqual([null, 'value']);
      await expect(store?.claim('c', 'round', 8250)).resolves.toBe(true);
      await store?.write('d', 'sealed', 10_000);
      await store?.release('c', 'round');
      expect(redis.seen.slice(-4)).toEqual([
        ['MGET', 'a', 'b'],
        ['SET', 'c', 'round', 'PX', '8250', 'NX'],
        ['SET', 'd', 'sealed', 'PX', '10000'],
        ['EVAL', expect.stringContaining("redis.call('del', KEYS[1])"), '1', 'c', 'round'],
      ]);
      expect(imports.redis).toBe(1);
      expect(warn).not.toHaveBeenCalled();
      expect(info).not.toHaveBeenCalled();
    } finally {
      await redis.close();
    }
  });

  it('fails every call at once while Redis is away, and says so in Logto’s log once', async () => {
    const { sharedStore } = await redisModuleWith(`redis://127.0.0.1:${await freePort()}`);
    const store = await sharedStore();
    const started = performance.now();
    for (let call = 0; call < 3; call += 1) {
      await expect(store?.read(['a'])).rejects.toThrow();
    }
    expect(performance.now() - started).toBeLessThan(redisCallLimit);
    await sleep(500);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toBe(
      `[connector-xiaomi-plus] ${logNotes.redisAway.line} (ECONNREFUSED)`,
    );
  });

  it(`fails a call that Redis leaves unanswered after ${redisCallLimit} ms, and says it was slow once, not away`, async () => {
    const redis = await startRespServer();
    try {
      const { sharedStore } = await redisModuleWith(`redis://127.0.0.1:${redis.port}`);
      const store = await sharedStore();
      redis.answerWith(() => undefined);
      const started = performance.now();
      await expect(store?.read(['a'])).rejects.toThrow(`within ${redisCallLimit} ms`);
      expect(performance.now() - started).toBeGreaterThanOrEqual(redisCallLimit - 5);
      await expect(store?.read(['a'])).rejects.toThrow(`within ${redisCallLimit} ms`);
      expect(warn.mock.calls).toEqual([[`[connector-xiaomi-plus] ${logNotes.redisSlow.line}`]]);
      expect(info).not.toHaveBeenCalled();
    } finally {
      await redis.close();
    }
  });

  it('takes a reply that came while this process stood still past the limit', async () => {
    // A Redis in another process, which answers each command 50 ms late, whatever this one does.
    const redis = spawn(process.execPath, ['-e', lateRedis], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      const [port] = (await once(redis.stdout, 'data')) as [Buffer];
      const { sharedStore } = await redisModuleWith(`redis://127.0.0.1:${String(port).trim()}`);
      const store = await sharedStore();
      await expect(store?.read(['a'])).resolves.toEqual(['v']);
      const reading = store?.read(['a']);
      await new Promise(setImmediate);
      // A long garbage collection: the event loop stands still past the limit, the reply comes.
      const until = performance.now() + redisCallLimit + 100;
      while (performance.now() < until) {
        // busy
      }
      await expect(reading).resolves.toEqual(['v']);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      redis.kill();
    }
  });

  it('says once per kind that Redis refused a command, and never that it is away', async () => {
    const redis = await startRespServer();
    redis.answerWith(([name]) =>
      name === 'EVAL'
        ? "-NOPERM User conn has no permissions to run the 'eval' command\r\n"
        : name === 'SET'
          ? '-NOAUTH Authentication required.\r\n'
          : '+OK\r\n',
    );
    try {
      const { sharedStore } = await redisModuleWith(`redis://127.0.0.1:${redis.port}`);
      const store = await sharedStore();
      for (let twice = 0; twice < 2; twice += 1) {
        await expect(store?.release('c', 'round')).rejects.toThrow('NOPERM');
        await expect(store?.write('d', 'v', 1000)).rejects.toThrow('NOAUTH');
      }
      expect(warn.mock.calls).toEqual([
        [
          `[connector-xiaomi-plus] ${logNotes.redisRefused.line} (NOPERM User conn has no permissions to run the 'eval' command)`,
        ],
        [`[connector-xiaomi-plus] ${logNotes.redisRefused.line} (NOAUTH Authentication required.)`],
      ]);
    } finally {
      await redis.close();
    }
  });

  it('says nothing when Redis closes an idle connection and node-redis opens another at once', async () => {
    const redis = await startRespServer();
    redis.answerWith(([name]) => (name === 'MGET' ? '*1\r\n$-1\r\n' : '+OK\r\n'));
    try {
      const { sharedStore } = await redisModuleWith(`redis://127.0.0.1:${redis.port}`);
      const store = await sharedStore();
      await expect(store?.read(['a'])).resolves.toEqual([null]);
      const connections = redis.connections();
      redis.dropConnections();
      await vi.waitFor(() => expect(redis.connections()).toBeGreaterThan(connections));
      await vi.waitFor(() => expect(store?.read(['a'])).resolves.toEqual([null]));
      expect(warn).not.toHaveBeenCalled();
      expect(info).not.toHaveBeenCalled();
    } finally {
      await redis.close();
    }
  });

  it('sends Redis whole milliseconds, at least one', async () => {
    const redis = await startRespServer();
    try {
      const { sharedStore } = await redisModuleWith(`redis://127.0.0.1:${redis.port}`);
      const store = await sharedStore();
      await store?.write('a', 'v', 1234.5);
      await store?.claim('b', 'v', 0);
      expect(redis.seen.slice(-2)).toEqual([
        ['SET', 'a', 'v', 'PX', '1235'],
        ['SET', 'b', 'v', 'PX', '1', 'NX'],
      ]);
    } finally {
      await redis.close();
    }
  });

  it('reaches a cluster for a cluster URL, fails its calls while no cluster answers, and makes it anew later', async () => {
    const redis = await startRespServer();
    try {
      const { sharedStore } = await redisModuleWith(`redis://127.0.0.1:${redis.port}?cluster=1`);
      const store = await sharedStore();
      expect(imports.clusters).toBe(1);
      await expect(store?.read(['a'])).rejects.toThrow();
      await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(1));
      // node-redis's words where the error has no socket code.
      expect(warn.mock.calls[0]?.[0]).not.toContain('(undefined)');
      await expect(sharedStore()).resolves.toBe(store);
      expect(imports.clusters).toBe(1);
      vi.setSystemTime(Date.now() + redisReconnectMs);
      await sharedStore();
      expect(imports.clusters).toBe(2);
    } finally {
      vi.useRealTimers();
      await redis.close();
    }
  });

  it('is none for a REDIS_URL node-redis cannot read, and says so once', async () => {
    const { sharedStore } = await redisModuleWith('not a url');
    await expect(sharedStore()).resolves.toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toBe(
      `[connector-xiaomi-plus] ${logNotes.redisAway.line} (ERR_INVALID_URL)`,
    );
  });

  it('says once more when Redis is back, and serves again', async () => {
    const port = await freePort();
    const { sharedStore } = await redisModuleWith(`redis://127.0.0.1:${port}`);
    const store = await sharedStore();
    await expect(store?.read(['a'])).rejects.toThrow();
    const redis = await startRespServer(port);
    redis.answerWith(([name]) => (name === 'MGET' ? '*1\r\n$-1\r\n' : '+OK\r\n'));
    try {
      // Back at the first call that works, not when a connection is made.
      await vi.waitFor(() => expect(store?.read(['a'])).resolves.toEqual([null]), {
        timeout: 5000,
      });
      expect(info.mock.calls).toEqual([[`[connector-xiaomi-plus] ${logNotes.redisBack.line}`]]);
      expect(warn).toHaveBeenCalledTimes(1);
    } finally {
      await redis.close();
    }
    // Away again: told again, once.
    await vi.waitFor(() => expect(warn).toHaveBeenCalledTimes(2), { timeout: 5000 });
    expect(info).toHaveBeenCalledTimes(1);
  });
});
