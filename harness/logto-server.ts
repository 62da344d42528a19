/**
 * Drives real Logto servers through the Logto test kit of ../shared/logto (Logto OSS core built
 * from vendored source, with PostgreSQL; see its README), and runs commands in the instance
 * folder an admin works in.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { packageRoot } from './logto-loader.js';

/** The Logto versions `npm run test:logto` runs, one after the other; LOGTO_VERSIONS narrows them. */
export const logtoVersions = (process.env.LOGTO_VERSIONS ?? '1.37.1 1.42.0')
  .split(/\s+/)
  .filter(Boolean);

export const kitDir = resolve(process.env.LOGTO_KIT ?? join(packageRoot, '..', 'shared', 'logto'));
const script = join(kitDir, 'logto.sh');

/** The kit's preload that routes hosts to a stand-in inside core (fetch, node:http/https). */
export const routeHostsPreload = join(kitDir, 'examples', 'route-hosts.mjs');

/** What `logto.sh start` exports that the tests use: endpoints, core logs, the M2M secret. */
export type RunningLogto = {
  endpoint: string;
  adminEndpoint: string;
  coreLog: string;
  /** One log per core (LOGTO_CORES), the first being `coreLog`. */
  coreLogs: string[];
  /** The process id of each core, in the order of `coreLogs`. */
  corePids: number[];
  m2mAppId: string;
  m2mSecret: string;
  /** The kit's state folder, where its Redis keeps its PID file. */
  home: string;
  /** Every core's REDIS_URL, when the kit runs Redis (LOGTO_REDIS). */
  redisUrl?: string;
  /** host:port of each Redis replica, when the kit runs a cluster (LOGTO_REDIS=cluster). */
  redisReplicas: string[];
};

const run = promisify(execFile);

/** This process's environment without a version-check override: Logto runs its real check. */
const kitEnv = (extra: Record<string, string> = {}) => {
  const { IGNORE_CONNECTOR_VERSION_CHECK, LOGTO_IGNORE_CONNECTOR_VERSION_CHECK, ...env } =
    process.env;
  return { ...env, ...extra };
};

const runKit = async (args: string[], extra?: Record<string, string>) => {
  if (!existsSync(script)) {
    throw new Error(`The Logto kit is missing: ${script} (set LOGTO_KIT to its folder).`);
  }
  const { stdout } = await run('bash', [script, ...args], {
    env: kitEnv(extra),
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout.trim();
};

/** Builds the version once (cached by the kit) and returns the instance folder. */
export const prepareLogto = async (version: string) =>
  (await runKit(['prepare', version])).split('\n').at(-1) ?? '';

const readExports = (text: string) =>
  Object.fromEntries(
    [...text.matchAll(/^export (\w+)=(.*)$/gm)].map(([, key, value]) => [key, value ?? '']),
  );

/**
 * A fresh database and core; `extra` reaches core (e.g. LOGTO_NODE_OPTIONS, SECRET_VAULT_KEK).
 * Rejects with the kit's error, whose text ends with core's last log lines, when core does not
 * start.
 */
export const startLogto = async (
  version: string,
  extra: Record<string, string>,
): Promise<RunningLogto> => {
  const exported = readExports(await runKit(['start', version], extra));
  const value = (key: string) => {
    const found = exported[key];
    if (!found) {
      throw new Error(`logto.sh start did not export ${key}.`);
    }
    return found;
  };
  return {
    endpoint: value('LOGTO_ENDPOINT'),
    adminEndpoint: value('LOGTO_ADMIN_ENDPOINT'),
    coreLog: value('LOGTO_CORE_LOG'),
    // Written by the kit's printf %q: the paths apart by spaces that are escaped.
    coreLogs: value('LOGTO_CORE_LOGS').split('\\ '),
    corePids: value('LOGTO_CORE_PIDS').split(/\\? /).map(Number),
    m2mAppId: value('LOGTO_M2M_APP_ID'),
    m2mSecret: value('LOGTO_M2M_SECRET'),
    home: value('LOGTO_HOME'),
    // Written by the kit's printf %q, which escapes `?` and `&`.
    redisUrl: exported.LOGTO_REDIS_URL?.replace(/\\(.)/g, '$1'),
    redisReplicas: (exported.LOGTO_REDIS_REPLICAS ?? '').split(/\\? /).filter(Boolean),
  };
};

const redisPid = ({ home }: RunningLogto) =>
  Number(readFileSync(join(home, 'run', 'redis.pid'), 'utf8'));

/** Stops the kit's Redis, as when its server goes down. */
export const stopRedis = (logto: RunningLogto) => {
  process.kill(redisPid(logto), 'SIGTERM');
};

/** Freezes (or thaws) the kit's Redis: connections stay open, nothing is answered. */
export const freezeRedis = (logto: RunningLogto, frozen: boolean) => {
  process.kill(redisPid(logto), frozen ? 'SIGSTOP' : 'SIGCONT');
};

/** Makes each replica of the kit's cluster stop applying its master's writes for `ms`: it lags. */
export const lagReplicas = async ({ redisReplicas }: RunningLogto, ms: number) => {
  for (const node of redisReplicas) {
    const port = node.split(':').at(-1) ?? '';
    await promisify(execFile)('redis-cli', ['-p', port, 'CLIENT', 'PAUSE', String(ms), 'WRITE']);
  }
};

/** How many connections of the connector the kit's plain Redis has: one a core when all are up. */
export const connectorClients = async ({ redisUrl }: RunningLogto) => {
  const { port } = new URL(redisUrl ?? '');
  const { stdout } = await promisify(execFile)('redis-cli', ['-p', port, 'CLIENT', 'LIST']);
  return stdout.split('\n').filter((line) => line.includes('name=connector-xiaomi-plus')).length;
};

/** Starts Redis again where the kit ran it, empty, as after a restart. */
export const startRedisAgain = async (logto: RunningLogto) => {
  const { port } = new URL(logto.redisUrl ?? '');
  const run = join(logto.home, 'run');
  await promisify(execFile)('redis-server', [
    ...['--bind', '127.0.0.1', '--port', port, '--save', '', '--appendonly', 'no'],
    ...['--daemonize', 'yes', '--pidfile', join(run, 'redis.pid'), '--dir', run],
    ...['--logfile', join(run, 'redis.log')],
  ]);
};

export const stopLogto = () => runKit(['stop']);

/** Chromium for Logto's pages (Debian's, installed by the kit once); its executable. */
export const installChromium = async () =>
  readExports(await runKit(['browser'])).LOGTO_CHROMIUM ?? '/usr/bin/chromium';

/** Our preload after the kit's, which refuses the connections `refuseNextConnections` asks for. */
const refusalsPreload = join(packageRoot, 'harness', 'refuse-connections.mjs');
const refusalsFile = join(tmpdir(), `xiaomi-refusals-${process.pid}.json`);

/** The next `count` requests core sends to Xiaomi's `path` find their connection refused. */
export const refuseNextConnections = (path: string, count: number) => {
  writeFileSync(refusalsFile, JSON.stringify({ [path]: count }));
};

/**
 * Core's environment with Xiaomi's hosts routed to the stand-in at `origin` by the kit's preload
 * (and refused on demand by ours), and a key for the secret vault that token storage needs.
 */
export const routedToStandIn = (origin: string) => {
  writeFileSync(refusalsFile, '{}');
  return {
    LOGTO_NODE_OPTIONS: `--import ${routeHostsPreload} --import ${refusalsPreload}`,
    LOGTO_ROUTE_HOSTS: `account.xiaomi.com=${origin},open.account.xiaomi.com=${origin}`,
    XIAOMI_REFUSALS: refusalsFile,
    SECRET_VAULT_KEK: randomBytes(32).toString('base64'),
  };
};

/** A shell command in the instance folder, as an admin types it there. */
export const inInstance = (
  instance: string,
  command: string,
  env: NodeJS.ProcessEnv = process.env,
) => run('sh', ['-c', command], { cwd: instance, env, maxBuffer: 16 * 1024 * 1024 });

export const connectorsDir = (instance: string) => join(instance, 'packages/core/connectors');
