/**
 * Real Redis servers on 127.0.0.1 for the tests of the refresh sharing: one server, or a Redis
 * Cluster of three masters and three replicas, as managed services run them; each keeps nothing
 * on disk and stops with the test. redis-server comes from Debian (installed here when missing,
 * without its system service, as the Logto kit does).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './free-port.js';

const run = promisify(execFile);

/** Installs Debian's redis-server, and forbids its package scripts to start a system service. */
export const ensureRedisServer = async () => {
  if ((await run('sh', ['-c', 'command -v redis-server || true'])).stdout.trim()) {
    return;
  }
  const policy = '/usr/sbin/policy-rc.d';
  const made = !existsSync(policy);
  if (made) {
    writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  }
  try {
    await run('sh', [
      '-c',
      'apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server',
    ]);
  } finally {
    if (made) {
      await run('rm', ['-f', policy]);
    }
  }
};

export type RedisServer = {
  port: number;
  process: ChildProcess;
  /** redis-cli's answer to a command on this server. */
  cli: (...args: string[]) => Promise<string>;
  stop: () => Promise<void>;
};

/** One redis-server on 127.0.0.1, with `args` added; resolves once it answers PING. */
export const startRedis = async (args: string[] = [], port?: number): Promise<RedisServer> => {
  const at = port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'redis-'));
  const server = spawn(
    'redis-server',
    [
      '--bind',
      '127.0.0.1',
      '--port',
      String(at),
      '--save',
      '',
      '--appendonly',
      'no',
      '--dir',
      dir,
      ...args,
    ],
    { stdio: 'ignore' },
  );
  const cli = async (...command: string[]) =>
    (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(at), ...command])).stdout.trim();
  for (let tries = 0; tries < 100; tries += 1) {
    if ((await cli('PING').catch(() => '')) === 'PONG') {
      break;
    }
    await sleep(50);
  }
  return {
    port: at,
    process: server,
    cli,
    stop: async () => {
      server.kill('SIGKILL');
      if (server.exitCode === null && server.signalCode === null) {
        await new Promise((resolve) => server.once('exit', resolve));
      }
    },
  };
};

export type RedisCluster = {
  masters: RedisServer[];
  replicas: RedisServer[];
  /** The REDIS_URL Logto takes for it: a node, and the others as `host` parameters. */
  url: string;
  stop: () => Promise<void>;
};

/**
 * A Redis Cluster of three masters and a replica of each, on `ports` when given (to start it again
 * where it was); resolves once every node says `cluster_state:ok`.
 */
export const startRedisCluster = async (ports?: number[]): Promise<RedisCluster> => {
  const nodes = await Promise.all(
    Array.from({ length: 6 }, (_, index) =>
      startRedis(
        [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          'nodes.conf',
          '--cluster-node-timeout',
          '2000',
        ],
        ports?.[index],
      ),
    ),
  );
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  try {
    await run('redis-cli', [
      '--cluster',
      'create',
      ...nodes.map(({ port }) => `127.0.0.1:${port}`),
      '--cluster-replicas',
      '1',
      '--cluster-yes',
    ]);
    for (let tries = 0; tries < 100; tries += 1) {
      const states = await Promise.all(nodes.map((node) => node.cli('CLUSTER', 'INFO')));
      if (states.every((state) => state.includes('cluster_state:ok'))) {
        break;
      }
      await sleep(100);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  const roles = await Promise.all(nodes.map((node) => node.cli('ROLE')));
  const masters = nodes.filter((_, index) => roles[index]?.startsWith('master'));
  const replicas = nodes.filter((_, index) => roles[index]?.startsWith('slave'));
  const [first, ...rest] = masters.map(({ port }) => `127.0.0.1:${port}`);
  return {
    masters,
    replicas,
    url: `redis://${first}?cluster=1${rest.map((host) => `&host=${host}`).join('')}`,
    stop,
  };
};
