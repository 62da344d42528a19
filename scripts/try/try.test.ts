/** `npm run try`: its command line, and a whole run against the stand-in with a real callback server. */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../harness/free-port.js';
import { packageRoot } from '../../harness/logto-loader.js';
import { routeXiaomiTo } from '../../harness/route-xiaomi.js';
import { authorizeAs } from '../../harness/xiaomi-browser.js';
import { demoApp, startXiaomiStandIn, type XiaomiStandIn } from '../../harness/xiaomi-stand-in.js';
import type { XiaomiErrorData } from '../../src/errors.js';
import { defaultPort, parseTryArguments, promptSecret, TryUsageError } from './options.js';
import { describeWait, otherSignIn, runTry, terminalNote } from './sign-in.js';

/** Runs scripts/try/main.ts as `npm run try` does, with no terminal attached. */
const tryCommand = async (args: string[], env: Record<string, string> = {}) => {
  const { XIAOMI_CLIENT_SECRET, ...inherited } = process.env;
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/try/main.ts', ...args],
      { cwd: packageRoot, env: { ...inherited, ...env }, timeout: 20_000 },
    );
    return { exitCode: 0, stdout, stderr };
  } catch (error) {
    const { code, stdout, stderr } = error as { code: number; stdout: string; stderr: string };
    return { exitCode: code, stdout, stderr };
  }
};

describe.concurrent('the try command line', () => {
  it.each([['--help'], ['-h']])('%s prints the usage and exits 0', async (flag) => {
    const { exitCode, stdout } = await tryCommand([flag]);
    expect(exitCode).toBe(0);
    expect(stdout).toMatch(/^Usage: npm run try -- --client-id <AppID>/);
    expect(stdout).toContain('XIAOMI_CLIENT_SECRET');
    expect(stdout).toContain(`--port ${defaultPort}`);
  });

  it.each([
    ['a typo', ['--clientid', 'x'], 'Unknown option --clientid; did you mean --client-id?'],
    [
      'the AppSecret as a flag',
      ['--client-id', 'x', '--client-secret', 's'],
      'No option takes the AppSecret, so that it stays out of your shell history: set XIAOMI_CLIENT_SECRET, or type it at the prompt.',
    ],
    ['no AppID', [], '--client-id is required: the AppID of your Xiaomi app.'],
    [
      'a port out of range',
      ['--client-id', 'x', '--port', '99999'],
      '--port must be a whole number from 1 to 65535, not "99999".',
    ],
    [
      'a port that is no number',
      ['--client-id', 'x', '--port', 'http'],
      '--port must be a whole number from 1 to 65535, not "http".',
    ],
    [
      'an option without its value',
      ['--client-id', 'x', '--port'],
      'The option --port needs a value.',
    ],
    [
      'a stray argument',
      ['--client-id', 'x', 'extra'],
      'Unexpected argument extra; every value follows its option.',
    ],
    [
      'a wait of no time',
      ['--client-id', 'x', '--wait', '0'],
      '--wait must be a number of minutes above 0 and up to 1440, not "0".',
    ],
    [
      'a wait past a day',
      ['--client-id', 'x', '--wait', 'Infinity'],
      '--wait must be a number of minutes above 0 and up to 1440, not "Infinity".',
    ],
    [
      'a value for a switch',
      ['--client-id', 'x', '--skip-confirm=yes'],
      'The option --skip-confirm takes no value.',
    ],
    [
      'no AppSecret and no terminal',
      ['--client-id', 'x'],
      'Set XIAOMI_CLIENT_SECRET to the AppSecret: there is no terminal to ask for it.',
    ],
  ])('refuses %s in one sentence with the usage, exit 2', async (_, args, sentence) => {
    const { exitCode, stdout, stderr } = await tryCommand(args);
    expect(exitCode).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')[0]).toBe(sentence);
    expect(stderr).toContain('Usage: npm run try');
    expect(stderr).not.toMatch(/^\s+at |ERR_/m);
  });

  it('refuses a port in use in one sentence with the usage, exit 2', async () => {
    const busy = createServer().listen(0, '127.0.0.1');
    await once(busy, 'listening');
    const { port } = busy.address() as AddressInfo;
    try {
      const { exitCode, stderr } = await tryCommand(['--client-id', 'x', '--port', String(port)], {
        XIAOMI_CLIENT_SECRET: 'secret-from-env',
      });
      expect(exitCode).toBe(2);
      expect(stderr.split('\n')[0]).toBe(
        `Port ${port} is already in use; choose another with --port.`,
      );
      expect(stderr).not.toMatch(/^\s+at |EADDRINUSE/m);
    } finally {
      busy.close();
    }
  });
});

describe('parseTryArguments', () => {
  const refusal = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    try {
      parseTryArguments(args, env);
    } catch (error) {
      expect(error).toBeInstanceOf(TryUsageError);
      return (error as TryUsageError).message;
    }
    throw new Error('The arguments were accepted.');
  };

  it.each([
    [['--scop', '1'], 'Unknown option --scop; did you mean --scope?'],
    [['--skipconfirm'], 'Unknown option --skipconfirm; did you mean --skip-confirm?'],
    [['--colour'], 'Unknown option --colour.'],
    [['-x'], 'Unknown option -x.'],
    [['-client-id', 'x'], 'Unknown option -client-id; did you mean --client-id?'],
    [['-scope=1'], 'Unknown option -scope; did you mean --scope?'],
    [['--clientSecret=s'], expect.stringMatching(/^No option takes the AppSecret/)],
  ])('refuses %j: %s', (args, sentence) => {
    expect(refusal(args)).toEqual(sentence);
  });

  it.each(['client_id', 'skip_confirm', 'port', 'wait', 'client_secret'])(
    'says npm kept the options when npm_config_%s shows the -- was forgotten',
    (name) => {
      expect(refusal(['x'], { [`npm_config_${name}`]: 'true' })).toBe(
        `npm kept --${name.replaceAll('_', '-')} for itself: put -- between "npm run try" and the options.`,
      );
    },
  );

  it('ignores npm’s own settings', () => {
    expect(
      parseTryArguments(['--client-id', '1'], {
        npm_config_scope: '@mine',
        npm_config_cache: '/c',
      }),
    ).toMatchObject({ help: false });
  });

  it('fills the defaults: Logto-free port, five minutes, no consent skip', () => {
    expect(parseTryArguments(['--client-id', ' 123 '])).toEqual({
      help: false,
      options: { clientId: '123', skipConfirm: false, port: 3100, waitMs: 300_000 },
    });
  });

  it('takes every option', () => {
    expect(
      parseTryArguments([
        '--client-id=1',
        '--scope',
        '1 3',
        '--skip-confirm',
        '--port',
        '8080',
        '--wait',
        '0.5',
      ]),
    ).toEqual({
      help: false,
      options: { clientId: '1', scope: '1 3', skipConfirm: true, port: 8080, waitMs: 30_000 },
    });
  });
});

describe('promptSecret', () => {
  it('reads the AppSecret from the terminal without writing it back', async () => {
    const input = Object.assign(new PassThrough(), { isTTY: true, setRawMode: () => input });
    const output = new PassThrough();
    const written: string[] = [];
    output.on('data', (chunk: Buffer) => written.push(chunk.toString()));
    const secret = promptSecret(input, output);
    input.write('  typed-secret \n');
    expect(await secret).toBe('typed-secret');
    expect(written.join('')).toBe('AppSecret (not shown): \n');
  });
});

describe('what try tells the terminal', () => {
  const callbackUrl = 'http://127.0.0.1:3100/xiaomi-plus-try/callback';
  const said = { errorDescription: '…' };

  it.each<[XiaomiErrorData, string | undefined]>([
    [
      { ...said, reason: 'xiaomi_error', code: 96010, name: 'N', hint: 'Register <origin>…' },
      `In this run the callback URL is ${callbackUrl} (printed above): register it in the Xiaomi console.`,
    ],
    [
      {
        ...said,
        reason: 'network',
        endpoint: '/oauth2/token',
        attempts: ['ECONNREFUSED'],
        hint: 'Check that the Logto…',
      },
      'In this run, this machine is the Logto server: check its network connection, DNS and proxy.',
    ],
    [
      {
        ...said,
        reason: 'timeout',
        endpoint: '/oauth2/token',
        attempts: ['timeout'],
        hint: 'Xiaomi is slow…',
      },
      'In this run, this machine is the Logto server: check its network connection, DNS and proxy.',
    ],
    [{ ...said, reason: 'xiaomi_error', code: 96003, name: 'N', hint: 'Check…' }, undefined],
  ])('adds to the connector’s hint for %o: %s', (data, expected) => {
    expect(terminalNote(data, callbackUrl)).toBe(expected);
  });

  it.each([
    [300_000, '5 minutes'],
    [60_000, '1 minute'],
    [90_000, '1.5 minutes'],
    [30_000, '30 seconds'],
    [1000, '1 second'],
  ])('says a wait of %i ms as %s', (ms, words) => {
    expect(describeWait(ms)).toBe(words);
  });
});

describe('a whole run against the stand-in', () => {
  let port: number;
  let standIn: XiaomiStandIn;
  let unroute: () => Promise<void>;

  beforeAll(async () => {
    port = await freePort();
    standIn = await startXiaomiStandIn({
      apps: [{ ...demoApp, redirectUris: [`http://127.0.0.1:${port}/xiaomi-plus-try/callback`] }],
    });
    unroute = routeXiaomiTo(standIn.origin);
  });

  afterAll(async () => {
    await unroute();
    await standIn.close();
  });

  /**
   * Runs `try`, plays the browser once it prints the authorize URL (first opening the callback
   * URL with `stray` query parameters, as a stray tab would, when given), and returns what it
   * printed and what the stray tab was answered.
   */
  const tryWith = async (clientSecret: string, stray?: Record<string, string>) => {
    const lines: string[] = [];
    let authorizeUrl: (url: string) => void = () => {};
    const printed = new Promise<string>((resolve) => {
      authorizeUrl = resolve;
    });
    const exitCode = runTry(
      {
        clientId: demoApp.clientId,
        clientSecret,
        scope: '1 6',
        skipConfirm: false,
        port,
        waitMs: 10_000,
      },
      (line) => {
        lines.push(line);
        const url = /https:\/\/account\.xiaomi\.com\/oauth2\/authorize\S+/.exec(line)?.[0];
        if (url) {
          authorizeUrl(url);
        }
      },
    );
    const { callback } = await authorizeAs(await printed, { decision: 'approve' });
    const callbackUrl = (query: Record<string, string>) =>
      `http://127.0.0.1:${port}/xiaomi-plus-try/callback?${new URLSearchParams(query)}`;
    const strayAnswer = stray
      ? await fetch(callbackUrl({ ...callback, ...stray })).then(async (answer) => ({
          status: answer.status,
          text: await answer.text(),
        }))
      : undefined;
    await fetch(callbackUrl(callback));
    return { exitCode: await exitCode, output: lines.join('\n'), strayAnswer };
  };

  it('prints the callback URL, how long it waits, and the signed-in user', async () => {
    const { exitCode, output } = await tryWith(demoApp.clientSecret);
    expect(exitCode).toBe(0);
    expect(output).toContain(
      `Callback URL to register in the Xiaomi console for this check: http://127.0.0.1:${port}/xiaomi-plus-try/callback`,
    );
    expect(output).toContain('Redirect URIs its Console shows on the connector');
    expect(output).toContain(
      'Waiting up to 10 seconds for Xiaomi to send the browser back; Ctrl-C stops.',
    );
    expect(output).toContain('"id": "u-mi-10001"');
    expect(output).toContain('"email": "xiaomi.user@example.com"');
    expect(output).toContain('"access_token": "[redacted]"');
    expect(output).not.toContain(demoApp.clientSecret);
  });

  it('sends a random state, tells a tab with another state so, and keeps waiting for its own', async () => {
    const first = await tryWith(demoApp.clientSecret);
    const second = await tryWith(demoApp.clientSecret, { state: 'guessed' });
    const stateOf = (output: string) => /[?&]state=([^&\s]+)/.exec(output)?.[1] ?? '';
    expect(stateOf(first.output)).toMatch(/^[\w-]{22}$/);
    expect(stateOf(second.output)).not.toBe(stateOf(first.output));
    expect(second.strayAnswer).toEqual({ status: 400, text: otherSignIn });
    expect(second.output).toContain('A callback of another sign-in arrived');
    expect(second).toMatchObject({ exitCode: 0 });
    expect(second.output).toContain('"id": "u-mi-10001"');
  });

  it('names the cause and what to check when the AppSecret is wrong', async () => {
    const { exitCode, output } = await tryWith('wrong-secret');
    expect(exitCode).toBe(1);
    expect(output).toContain('ConnectorError invalid_config');
    expect(output).toContain('OA_INVALID_CLIENT');
    expect(output).toContain('What to check: Check that clientSecret is the AppSecret');
    expect(output).not.toContain('wrong-secret');
  });

  it('gives up when no callback arrives in time', async () => {
    const lines: string[] = [];
    const exitCode = await runTry(
      { clientId: demoApp.clientId, clientSecret: 's', skipConfirm: false, port: 0, waitMs: 200 },
      (line) => lines.push(line),
    );
    expect(exitCode).toBe(1);
    expect(lines.at(-1)).toBe('No callback arrived within 0.2 seconds.');
  });
});
