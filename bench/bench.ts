/**
 * `npm run bench`: this connector against the published @logto/connector-xiaomi, in one process,
 * interleaved round by round, against the Xiaomi stand-in running in a child process on 127.0.0.1.
 * Then what sharing refreshes through Redis costs: refreshes in a core process with REDIS_URL
 * beside one without.
 */
import { execFile, fork } from 'node:child_process';
import { once } from 'node:events';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CreateConnector, SocialConnector } from '@logto/connector-kit';
import official from '@logto/connector-xiaomi';
import { startCore } from '../harness/cores.js';
import { authorizationRequest as logtoRequest, packageRoot } from '../harness/logto-loader.js';
import { ensureRedisServer, startRedis } from '../harness/redis-servers.js';
import { routeXiaomiTo } from '../harness/route-xiaomi.js';
import { demoApp, type StandInKnobs } from '../harness/xiaomi-stand-in.js';
import type { StandInOrder } from './stand-in-process.js';

const rounds = 7;
const signInsPerRound = 640;
const inFlight = 64;
const urlsPerRound = 100_000;
const latencyMs = 40;
const redirectUri = demoApp.redirectUris[0] ?? '';
const config = {
  clientId: demoApp.clientId,
  clientSecret: demoApp.clientSecret,
  skipConfirm: true,
};

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[middle] ?? 0)
    : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
};

const child = fork(fileURLToPath(new URL('stand-in-process.ts', import.meta.url)), {
  execArgv: ['--import', 'tsx'],
});
const [origin] = (await once(child, 'message')) as [string];
const tellStandIn = async (order: StandInOrder) => {
  child.send(order);
  await once(child, 'message');
};
const setKnobs = (knobs: Partial<StandInKnobs>) => tellStandIn({ knobs });
const unroute = routeXiaomiTo(origin);

const ourEntry = `${packageRoot}lib/index.js`;
const { default: ours } = (await import(ourEntry)) as { default: CreateConnector<SocialConnector> };

const create = async (factory: CreateConnector<SocialConnector>, extra: object = {}) =>
  factory({ getConfig: async () => ({ ...config, ...extra }) });

const authorizationRequest = { ...logtoRequest, state: 'bench', redirectUri };

/** Codes come from the stand-in's authorize endpoint, outside the timed part. */
const freshCodes = async (connector: SocialConnector, count: number) => {
  const uri = await connector.getAuthorizationUri(authorizationRequest, async () => undefined);
  return Promise.all(
    Array.from({ length: count }, async () => {
      const answer = await fetch(uri, { redirect: 'manual' });
      return new URL(answer.headers.get('location') ?? '').searchParams.get('code') ?? '';
    }),
  );
};

const signIn = (connector: SocialConnector, code: string) =>
  connector.getUserInfo({ code, redirectUri }, async () => ({}));

const signInsPerSecond = async (connector: SocialConnector) => {
  const codes = await freshCodes(connector, signInsPerRound);
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < codes.length) {
        await signIn(connector, codes[next++] ?? '');
      }
    }),
  );
  return (signInsPerRound / (performance.now() - started)) * 1000;
};

/**
 * Authorize URLs per second of `entry`'s connector, in a fresh Node process after a warm-up. In
 * this process the figure depends on what ran before it (V8 shares Node's URL code between the
 * two connectors): measured alone it favoured ours by 1.5×, after every other measure the official
 * by 1.15×. Logto runs one Xiaomi connector, so each is measured on its own.
 */
const urlsPerSecond = async (entry: string) => {
  const script = [
    `const { default: create } = await import(${JSON.stringify(entry)});`,
    `const connector = await create({ getConfig: async () => (${JSON.stringify(config)}) });`,
    `const request = ${JSON.stringify(authorizationRequest)};`,
    'const run = async (count) => { for (let i = 0; i < count; i += 1) await connector.getAuthorizationUri(request, async () => undefined); };',
    `await run(${urlsPerRound / 5});`,
    'const started = performance.now();',
    `await run(${urlsPerRound});`,
    `console.log(${urlsPerRound} / (performance.now() - started) * 1000);`,
  ].join(' ');
  const { stdout } = await promisify(execFile)(process.execPath, [
    '--input-type=module',
    '-e',
    script,
  ]);
  return Number(stdout.trim());
};

/**
 * The median of a few sequential sign-ins while every Xiaomi answer takes `latencyMs`; with
 * `stumble`, the profile read of each meets a gateway's 502 page once.
 */
const oneSignInMs = async (connector: SocialConnector, stumble = false) => {
  const codes = await freshCodes(connector, 5);
  await setKnobs({ latencyMs });
  const times: number[] = [];
  for (const code of codes) {
    if (stumble) {
      await tellStandIn({ failNext: { endpoint: '/user/profile', fault: 502 } });
    }
    const started = performance.now();
    await signIn(connector, code);
    times.push(performance.now() - started);
  }
  await setKnobs({ latencyMs: 0 });
  return median(times);
};

/** Two bare sequential fetches to the stand-in at the same latency: the floor this machine allows. */
const transportFloorMs = async () => {
  await setKnobs({ latencyMs });
  const times: number[] = [];
  for (let run = 0; run < 5; run += 1) {
    const started = performance.now();
    for (const path of ['/oauth2/token', '/user/profile']) {
      await (await fetch(`${origin}${path}`)).text();
    }
    times.push(performance.now() - started);
  }
  await setKnobs({ latencyMs: 0 });
  return median(times);
};

const kitEntry = fileURLToPath(import.meta.resolve('@logto/connector-kit'));

/**
 * The median of three loads of `entry` as Logto's loader does it (import, then create the
 * connector), each in a fresh Node process; with `afterKit`, once connector-kit (and the zod and
 * ky it brings) is loaded, as inside Logto, whose core has loaded them before any connector.
 */
const loadMs = async (entry: string, afterKit: boolean) => {
  const script = [
    afterKit ? `await import(${JSON.stringify(kitEntry)});` : '',
    'const started = performance.now();',
    `const { default: create } = await import(${JSON.stringify(entry)});`,
    'await create({ getConfig: async () => ({}) });',
    'console.log(performance.now() - started);',
  ].join(' ');
  const times: number[] = [];
  for (let run = 0; run < 3; run += 1) {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--input-type=module',
      '-e',
      script,
    ]);
    times.push(Number(stdout.trim()));
  }
  return median(times);
};

type Contender = { name: string; connector: SocialConnector; entry: string };
const contenders: Contender[] = [
  { name: 'ours', connector: await create(ours), entry: ourEntry },
  {
    name: 'official 1.2.5',
    connector: await create(official),
    entry: fileURLToPath(import.meta.resolve('@logto/connector-xiaomi')),
  },
];
const oursWithContact = await create(ours, { scope: '1 4 6' });

type Figures = Record<string, number[]>;
const results = new Map<string, Figures>();
const record = (name: string, metric: string, value: number) => {
  const figures = results.get(name) ?? {};
  figures[metric] = [...(figures[metric] ?? []), value];
  results.set(name, figures);
};

// One untimed round each, so that neither pays for the first connections or JIT warm-up.
for (const { connector } of contenders) {
  await signInsPerSecond(connector);
}

type Measure = { metric: string; run: (contender: Contender) => Promise<number> };
const measures: Measure[] = [
  { metric: 'signIns', run: ({ connector }) => signInsPerSecond(connector) },
  { metric: 'urls', run: ({ entry }) => urlsPerSecond(entry) },
  { metric: 'oneSignIn', run: ({ connector }) => oneSignInMs(connector) },
  { metric: 'oneStumble', run: ({ connector }) => oneSignInMs(connector, true) },
  { metric: 'load', run: ({ entry }) => loadMs(entry, false) },
  { metric: 'loadAfterKit', run: ({ entry }) => loadMs(entry, true) },
];
/** Collects the garbage of the previous measure, when Node was started with --expose-gc. */
const settle = () => (globalThis as { gc?: () => void }).gc?.();

for (let round = 0; round < rounds; round += 1) {
  for (const { metric, run } of measures) {
    process.stderr.write(`round ${round + 1}/${rounds}: ${metric}\n`);
    for (const contender of round % 2 ? [...contenders].reverse() : contenders) {
      settle();
      record(contender.name, metric, await run(contender));
    }
  }
  record('ours, scope 1 4 6', 'oneSignIn', await oneSignInMs(oursWithContact));
  record('transport', 'floor', await transportFloorMs());
}

const refreshesPerCore = 30;

/** Stored refresh tokens of fresh sign-ins, outside the timed part. */
const storedRefreshTokens = async (count: number) => {
  const connector = contenders[0]?.connector as SocialConnector;
  const codes = await freshCodes(connector, count);
  return Promise.all(
    codes.map(async (code) => {
      const { tokenResponse } = await (
        connector.getTokenResponseAndUserInfo as NonNullable<
          SocialConnector['getTokenResponseAndUserInfo']
        >
      )({ code, redirectUri }, async () => ({}));
      return tokenResponse?.refresh_token ?? '';
    }),
  );
};

/**
 * A fresh core process, with REDIS_URL or without: how long its first refresh takes (with Redis,
 * node-redis is loaded and connected then), and the median of the sequential refreshes after it.
 */
const refreshesOfACore = async (redisUrl: string) => {
  const core = await startCore(redisUrl, origin, config);
  const [first = '', ...rest] = await storedRefreshTokens(1 + refreshesPerCore);
  const timed = async (stored: string) => {
    const started = performance.now();
    await core.refresh(stored);
    return performance.now() - started;
  };
  const firstMs = await timed(first);
  const times: number[] = [];
  for (const stored of rest) {
    times.push(await timed(stored));
  }
  await core.stop();
  return { firstMs, eachMs: median(times) };
};

await ensureRedisServer();
const redis = await startRedis();
const sharing = { without: '', with: `redis://127.0.0.1:${redis.port}` };
for (let round = 0; round < rounds; round += 1) {
  process.stderr.write(`round ${round + 1}/${rounds}: refreshes with and without Redis\n`);
  for (const [name, redisUrl] of Object.entries(sharing)) {
    const { firstMs, eachMs } = await refreshesOfACore(redisUrl);
    record(`refresh ${name} Redis`, 'first', firstMs);
    record(`refresh ${name} Redis`, 'each', eachMs);
  }
}
await redis.stop();

await unroute();
child.disconnect();

const medianOf = (name: string, metric: string) => median(results.get(name)?.[metric] ?? []);
const [ourName, officialName] = contenders.map(({ name }) => name) as [string, string];
/**
 * Median figures; the ratio is that of the two medians shown (> 1: ours is better), so it always
 * agrees with them, and the range is that of the per-round ratios, to show how much rounds vary.
 */
const row = (label: string, metric: string, digits: number, higherIsBetter: boolean) => {
  const ourValues = results.get(ourName)?.[metric] ?? [];
  const theirValues = results.get(officialName)?.[metric] ?? [];
  const better = (ours: number, theirs: number) => (higherIsBetter ? ours / theirs : theirs / ours);
  const perRound = ourValues.map((ourValue, index) =>
    better(ourValue, theirValues[index] ?? Number.NaN),
  );
  const [ourMedian, theirMedian] = [median(ourValues), median(theirValues)];
  const range = `${Math.min(...perRound).toFixed(2)}–${Math.max(...perRound).toFixed(2)}`;
  return `| ${label} | ${ourMedian.toFixed(digits)} | ${theirMedian.toFixed(digits)} | ${better(ourMedian, theirMedian).toFixed(2)}× | ${range} |`;
};
const withContact = medianOf('ours, scope 1 4 6', 'oneSignIn');

console.log(
  `Machine: ${cpus()[0]?.model ?? 'unknown'} × ${cpus().length}, Node ${process.version}`,
);
console.log(`Medians of ${rounds} interleaved rounds; a ratio above 1 means ours is better.\n`);
console.log('| measure | ours | official 1.2.5 | ratio of the medians | per-round ratios |');
console.log('|---|---|---|---|---|');
console.log(row(`sign-ins per second, ${inFlight} in flight`, 'signIns', 0, true));
console.log(row('authorize URLs per second', 'urls', 0, true));
console.log(row(`one sign-in, ${latencyMs} ms per Xiaomi answer (ms)`, 'oneSignIn', 1, false));
console.log(
  row(
    `one sign-in whose profile read meets a 502 page once, ${latencyMs} ms per answer (ms)`,
    'oneStumble',
    1,
    false,
  ),
);
console.log(row('import and create in a fresh process (ms)', 'load', 1, false));
console.log(row('import and create once connector-kit is loaded (ms)', 'loadAfterKit', 1, false));
const floor = 2 * latencyMs;
const transport = medianOf('transport', 'floor');
const ofFloors = (ms: number) =>
  `${ms.toFixed(1)} ms: ${(ms / floor).toFixed(3)}× the ${floor} ms floor, ` +
  `${(ms / transport).toFixed(3)}× the ${transport.toFixed(1)} ms of two bare fetches`;
console.log(`\nOne sign-in of ours with email and phone (scope 1 4 6): ${ofFloors(withContact)}.`);
console.log(`Without them: ${ofFloors(medianOf(ourName, 'oneSignIn'))}.`);

const sharingRow = (label: string, metric: string) => {
  const [without, withRedis] = [
    medianOf('refresh without Redis', metric),
    medianOf('refresh with Redis', metric),
  ];
  return `| ${label} | ${without.toFixed(2)} | ${withRedis.toFixed(2)} | +${(withRedis - without).toFixed(2)} |`;
};
console.log(
  '\nRefreshes of ours in a core process, Xiaomi answering at once; medians of the rounds.\n',
);
console.log('| refresh (ms) | without REDIS_URL | with REDIS_URL | what Redis adds |');
console.log('|---|---|---|---|');
console.log(sharingRow(`one refresh, the median of ${refreshesPerCore} in a row`, 'each'));
console.log(
  sharingRow("a process's first refresh (with Redis: node-redis loaded and connected)", 'first'),
);
