/**
 * Logto cores as separate processes (harness/core-process.mjs), each with the built package and
 * the same REDIS_URL: what one refresh per token across Logto's cores must hold up against.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { packageRoot } from './logto-loader.js';

export type CoreOutcome =
  | { ok: true; accessToken: string; refreshToken: string }
  | { ok: false; error: unknown };

export type Core = {
  process: ChildProcess;
  /** What the connector told Logto's log so far. */
  log: () => string;
  refresh: (stored: string) => Promise<CoreOutcome>;
  /** Keeps the core's event loop busy for `ms`, as a long garbage collection does. */
  stall: (ms: number) => Promise<void>;
  stop: () => Promise<void>;
};

/** A core with `redisUrl` whose Xiaomi is the stand-in at `xiaomiOrigin`; resolves once it listens. */
export const startCore = async (
  redisUrl: string,
  xiaomiOrigin: string,
  config: object,
): Promise<Core> => {
  const child = spawn(process.execPath, [join(packageRoot, 'harness/core-process.mjs')], {
    cwd: packageRoot,
    env: {
      ...process.env,
      REDIS_URL: redisUrl,
      XIAOMI_ORIGIN: xiaomiOrigin,
      CONNECTOR_CONFIG: JSON.stringify(config),
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
  });
  const waiting = new Map<number, (line: unknown) => void>();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
    const answer = JSON.parse(line) as { id: number };
    waiting.get(answer.id)?.(answer);
    waiting.delete(answer.id);
  });
  let next = 0;
  const send = (command: object) =>
    new Promise<unknown>((resolve) => {
      next += 1;
      waiting.set(next, resolve);
      child.stdin?.write(`${JSON.stringify({ id: next, ...command })}\n`);
    });
  // The first command answers once the connector is loaded.
  await send({ stall: 0 });
  return {
    process: child,
    log: () => log,
    refresh: async (stored) => (await send({ refresh: stored })) as CoreOutcome,
    stall: async (ms) => {
      await send({ stall: ms });
    },
    stop: async () => {
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise((resolve) => child.once('exit', resolve));
      }
    },
  };
};
