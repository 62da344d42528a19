/**
 * `npm run soak`: Logto 1.42.0 on two cores behind the kit's balancer, with Redis; many users
 * whose Xiaomi access tokens live 2 s, so that refreshes never stop, each read by three readers at
 * once; new sign-ins whose profile read meets a gateway's page every other time; and on a
 * timeline, a core stopped 3 s, Redis paused 1 s, Redis killed and started again empty. It checks:
 * no 5xx and no read left without an answer; outside the fault windows no reader refused and no
 * refresh token presented to Xiaomi twice; at the end every user's stored token still reads. It
 * prints a report, and exits 1 when a check fails. SOAK_SECONDS (90) and SOAK_USERS (12).
 */
import { execFile } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import {
  atXiaomi,
  connectorConfig,
  setUpXiaomiSignIn,
  xiaomiAppOfConfig,
} from '../harness/logto-api.js';
import {
  holdOfficialConnector,
  installAsReadmeSays,
  packTarball,
} from '../harness/logto-install.js';
import {
  prepareLogto,
  routedToStandIn,
  startLogto,
  startRedisAgain,
  stopLogto,
  stopRedis,
} from '../harness/logto-server.js';
import { routeXiaomiTo } from '../harness/route-xiaomi.js';
import { type StandInUser, startXiaomiStandIn } from '../harness/xiaomi-stand-in.js';
import { sharedRefreshTiming } from '../src/constant.js';

// The Logto kit's example client narrates every step it takes; the report is what matters here.
const print = console.log;
console.log = (...args: unknown[]) => {
  if (!String(args[0]).startsWith('[example]')) {
    print(...args);
  }
};

const seconds = Number(process.env.SOAK_SECONDS ?? 90);
const userCount = Number(process.env.SOAK_USERS ?? 12);
const readersPerUser = 3;
const version = '1.42.0';
/** How long a fault's effects may last after it ends: a claim's life, and a little more. */
const settleMs = sharedRefreshTiming.claimMs + 2000;

const soakUser = (name: string): StandInUser => ({
  unionId: `u-soak-${name}`,
  nickname: `Soak ${name}`,
  icon: `https://cdn.example.com/avatars/soak-${name}.png`,
});
const users = Array.from({ length: userCount }, (_, index) => soakUser(String(index)));
// Users of the sign-ins alone: a sign-in replaces the stored tokens, and Logto answers a read that
// meets the replacement with its own 404, which says nothing of the connector.
const signInUsers = Array.from({ length: 4 }, (_, index) => soakUser(`sign-in-${index}`));

const xiaomiApp = xiaomiAppOfConfig();
/** Each refresh token Xiaomi was shown, with when. */
const presented = new Map<string, number[]>();
const standIn = await startXiaomiStandIn({
  apps: [xiaomiApp],
  users: [...users, ...signInUsers],
  onAnswer: ({ path, params }) => {
    if (path === '/oauth2/token' && params.grant_type === 'refresh_token') {
      const token = params.refresh_token ?? '';
      presented.set(token, [...(presented.get(token) ?? []), Date.now()]);
    }
  },
});
const unroute = routeXiaomiTo(standIn.origin);

const instance = await prepareLogto(version);
await holdOfficialConnector(instance);
await installAsReadmeSays(instance, await packTarball());
const logto = await startLogto(version, {
  ...routedToStandIn(standIn.origin),
  LOGTO_CORES: '2',
  LOGTO_REDIS: '1',
});
const tenant = await setUpXiaomiSignIn(logto, connectorConfig);
xiaomiApp.redirectUris.push(tenant.signInCallback);

standIn.knobs.accessTokenTtlSeconds = 2;
standIn.knobs.latencyMs = 50;
const userTokens = await Promise.all(
  users.map(async ({ unionId }) => (await tenant.signIn(atXiaomi(unionId))).tokens.access_token),
);

type Window = { name: string; from: number; to: number };
const windows: Window[] = [];
const started = Date.now();
const until = started + seconds * 1000;

/** Runs `fault` at `fraction` of the soak; its window lasts until its effects may have settled. */
const atFraction = async (fraction: number, name: string, fault: () => Promise<void>) => {
  await sleep(fraction * seconds * 1000);
  const from = Date.now();
  await fault();
  windows.push({ name, from, to: Date.now() + settleMs });
};

const redisCli = (...args: string[]) =>
  promisify(execFile)('redis-cli', ['-p', new URL(logto.redisUrl ?? '').port, ...args]);

const timeline = Promise.all([
  atFraction(0.2, 'a core stopped 3 s', async () => {
    process.kill(logto.corePids[1] ?? 0, 'SIGSTOP');
    await sleep(3000);
    process.kill(logto.corePids[1] ?? 0, 'SIGCONT');
  }),
  atFraction(0.45, 'Redis paused 1 s', async () => {
    await redisCli('CLIENT', 'PAUSE', '1000', 'ALL');
    await sleep(1000);
  }),
  atFraction(0.7, 'Redis killed and started again empty', async () => {
    stopRedis(logto);
    await sleep(1000);
    await startRedisAgain(logto);
  }),
]);

type Read = { at: number; ms: number; status: number };
const reads: Read[] = [];

/** One read of the stored token; no answer within 30 s counts as status 0. */
const read = async (userToken: string) => {
  const at = Date.now();
  const response = await fetch(`${logto.endpoint}/api/my-account/identities/xiaomi/access-token`, {
    headers: { authorization: `Bearer ${userToken}` },
    signal: AbortSignal.timeout(30_000),
  }).catch(() => undefined);
  await response?.arrayBuffer();
  reads.push({ at, ms: Date.now() - at, status: response?.status ?? 0 });
  return response?.status ?? 0;
};

const reader = async (userToken: string) => {
  while (Date.now() < until) {
    await read(userToken);
    await sleep(100 + Math.random() * 300);
  }
};

const signIns = { ok: 0, failed: 0 };
const signingIn = async () => {
  for (let turn = 0; Date.now() < until; turn += 1) {
    if (turn % 2 === 0) {
      standIn.failNext('/user/profile', 502);
    }
    const user = signInUsers[turn % signInUsers.length] as StandInUser;
    const signedIn = await tenant.signIn(atXiaomi(user.unionId)).then(
      () => true,
      () => false,
    );
    signIns[signedIn ? 'ok' : 'failed'] += 1;
    await sleep(3000);
  }
};

await Promise.all([
  ...userTokens.flatMap((token) => Array.from({ length: readersPerUser }, () => reader(token))),
  signingIn(),
  timeline,
]);
await sleep(settleMs);
const finalStatuses = await Promise.all(userTokens.map((token) => read(token)));

await stopLogto();
await unroute();
await standIn.close();

const windowOf = (at: number) => windows.find(({ from, to }) => at >= from && at <= to)?.name;
const phases = new Map<string, Read[]>();
for (const entry of reads) {
  const phase = windowOf(entry.at) ?? 'no fault';
  phases.set(phase, [...(phases.get(phase) ?? []), entry]);
}
const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(p * values.length))] ??
  0;
const statuses = (entries: Read[]) => {
  const counts = new Map<number, number>();
  for (const { status } of entries) {
    counts.set(status, (counts.get(status) ?? 0) + 1);
  }
  return [...counts].map(([status, count]) => `${status || 'no answer'}: ${count}`).join(', ');
};
const twice = [...presented.values()].filter((times) => times.length > 1);
const twiceOutside = twice.filter((times) => times.slice(1).some((at) => !windowOf(at)));

console.log(
  `Soak: ${seconds} s, ${userCount} users, ${readersPerUser} readers each, Logto ${version} on 2 cores with Redis`,
);
console.log(
  `Reads: ${reads.length}; Xiaomi refreshes: ${[...presented.values()].flat().length}; sign-ins: ${signIns.ok} ok, ${signIns.failed} failed`,
);
console.log('\n| phase | reads | statuses | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|');
for (const [phase, entries] of phases) {
  const ms = entries.map((entry) => entry.ms);
  console.log(
    `| ${phase} | ${entries.length} | ${statuses(entries)} | ${percentile(ms, 0.5)} | ${percentile(ms, 0.99)} | ${Math.max(...ms)} |`,
  );
}
console.log(
  `\nRefresh tokens presented twice: ${twice.length} (${twiceOutside.length} outside the fault windows)`,
);

const failures = [
  reads.some(({ status }) => status >= 500 || status === 0) && 'a 5xx or a read without an answer',
  (phases.get('no fault') ?? []).some(({ status }) => status !== 200) &&
    'a reader refused outside the fault windows',
  twiceOutside.length > 0 && 'a refresh token presented twice outside the fault windows',
  finalStatuses.some((status) => status !== 200) &&
    'a stored token that no longer reads at the end',
  signIns.failed > 0 && 'a sign-in failed',
].filter(Boolean);
console.log(failures.length ? `\nFAILED: ${failures.join('; ')}` : '\nAll checks passed.');
process.exit(failures.length ? 1 : 0);
