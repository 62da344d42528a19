/** The command line of `npm run try`: its options, its usage and the AppSecret prompt. */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { closestMatch } from 'leven';

/** A mistake in how `try` was called: shown as one sentence with the usage, exit code 2. */
export class TryUsageError extends Error {}

/** Not 3001 or 3002, which Logto itself listens on. */
export const defaultPort = 3100;
const defaultWaitMinutes = 5;
/** A day: longer waits overflow Node's timers, which then fire at once. */
const longestWaitMinutes = 1440;

export const usage = `Usage: npm run try -- --client-id <AppID> [--scope "1 3"] [--skip-confirm] [--port ${defaultPort}] [--wait <minutes>]

Signs in once with your Xiaomi app from this terminal, the way Logto would, and prints the user
Logto would store or what to check. The AppSecret is read from XIAOMI_CLIENT_SECRET, or asked for
without echo when none is set. Register the callback URL it prints (http://127.0.0.1:<port>/...)
in the Xiaomi console first.

  --client-id     the AppID of the Xiaomi app (required)
  --scope         Xiaomi scope ids separated by spaces; 1 is always added (default: 1)
  --skip-confirm  ask Xiaomi to skip its consent page for a user already signed in
  --port          port of the callback server on 127.0.0.1 (default: ${defaultPort})
  --wait          minutes to wait for the browser to come back, up to ${longestWaitMinutes} (default: ${defaultWaitMinutes})
  -h, --help      this text`;

const optionSpec = {
  'client-id': { type: 'string' },
  scope: { type: 'string' },
  'skip-confirm': { type: 'boolean' },
  port: { type: 'string' },
  wait: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type OptionName = keyof typeof optionSpec;

const isOptionName = (name: string): name is OptionName => Object.hasOwn(optionSpec, name);

const secretInArguments =
  'No option takes the AppSecret, so that it stays out of your shell history: set XIAOMI_CLIENT_SECRET, or type it at the prompt.';

/** What npm does with the options when `--` is missing: it keeps them as its own settings. */
const takenByNpm = (env: NodeJS.ProcessEnv) =>
  ['client-id', 'skip-confirm', 'port', 'wait', 'client-secret'].find(
    (name) => env[`npm_config_${name.replaceAll('-', '_')}`] !== undefined,
  );

const unknownOption = (rawName: string) => {
  if (/^--?client-?secret$/i.test(rawName)) {
    return secretInArguments;
  }
  const known = Object.keys(optionSpec).map((name) => `--${name}`);
  const nearest = closestMatch(rawName, known, { maxDistance: 3 });
  return `Unknown option ${rawName}${nearest ? `; did you mean ${nearest}?` : '.'}`;
};

/**
 * The values of the options, checked token by token: Node's own strict mode throws errors whose
 * only detail is in their English message.
 */
const readOptions = (args: string[]) => {
  const { values, tokens } = parseArgs({
    args,
    options: optionSpec,
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  for (const token of tokens) {
    if (token.kind === 'positional') {
      throw new TryUsageError(
        `Unexpected argument ${token.value}; every value follows its option.`,
      );
    }
    if (token.kind !== 'option') {
      continue;
    }
    if (!isOptionName(token.name)) {
      // `-client-id` reaches here as `-c`: name the option as it was typed.
      throw new TryUsageError(unknownOption(args[token.index]?.split('=')[0] ?? token.rawName));
    }
    const takesValue = optionSpec[token.name].type === 'string';
    if (takesValue && token.value === undefined) {
      throw new TryUsageError(`The option ${token.rawName} needs a value.`);
    }
    if (!takesValue && token.value !== undefined) {
      throw new TryUsageError(`The option ${token.rawName} takes no value.`);
    }
  }
  return values;
};

/** An option's text; after `readOptions`, a string option holds nothing else. */
const text = (value: string | boolean | undefined) =>
  typeof value === 'string' ? value : undefined;

const readPort = (text: string | undefined) => {
  const port = Number(text ?? defaultPort);
  if (!Number.isInteger(port) || port < 1 || port > 65_535) {
    throw new TryUsageError(`--port must be a whole number from 1 to 65535, not "${text}".`);
  }
  return port;
};

const readWaitMs = (text: string | undefined) => {
  const waitMinutes = Number(text ?? defaultWaitMinutes);
  if (!(waitMinutes > 0 && waitMinutes <= longestWaitMinutes)) {
    throw new TryUsageError(
      `--wait must be a number of minutes above 0 and up to ${longestWaitMinutes}, not "${text}".`,
    );
  }
  return waitMinutes * 60_000;
};

export type TryOptions = {
  clientId: string;
  scope?: string;
  skipConfirm: boolean;
  /** 0 picks a free port. */
  port: number;
  /** How long to wait for the browser to come back. */
  waitMs: number;
};

export type TryCommand = { help: true } | { help: false; options: TryOptions };

/**
 * Reads the arguments after `npm run try --` (and npm's environment, to tell when the `--` was
 * forgotten); throws TryUsageError for what it cannot take.
 */
export const parseTryArguments = (args: string[], env: NodeJS.ProcessEnv = {}): TryCommand => {
  const lost = takenByNpm(env);
  if (lost) {
    throw new TryUsageError(
      `npm kept --${lost} for itself: put -- between "npm run try" and the options.`,
    );
  }
  const values = readOptions(args);
  if (values.help === true) {
    return { help: true };
  }
  const clientId = text(values['client-id'])?.trim();
  if (!clientId) {
    throw new TryUsageError('--client-id is required: the AppID of your Xiaomi app.');
  }
  return {
    help: false,
    options: {
      clientId,
      scope: text(values.scope),
      skipConfirm: values['skip-confirm'] === true,
      port: readPort(text(values.port)),
      waitMs: readWaitMs(text(values.wait)),
    },
  };
};

type Terminal = NodeJS.ReadableStream & { isTTY?: boolean };

/**
 * Asks for the AppSecret on a terminal without showing what is typed: readline takes the terminal
 * into raw mode and echoes into a stream that drops everything.
 */
export const promptSecret = async (input: Terminal, output: NodeJS.WritableStream) => {
  output.write('AppSecret (not shown): ');
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const reader = createInterface({ input, output: silent, terminal: true });
  reader.on('SIGINT', () => {
    reader.close();
    output.write('\n');
    process.exit(130);
  });
  try {
    return (await reader.question('')).trim();
  } finally {
    reader.close();
    output.write('\n');
  }
};

/** The AppSecret from XIAOMI_CLIENT_SECRET, else from a prompt when a terminal is attached. */
export const readClientSecret = async (
  env: NodeJS.ProcessEnv,
  input: Terminal,
  output: NodeJS.WritableStream,
) => {
  const secret =
    env.XIAOMI_CLIENT_SECRET?.trim() || (input.isTTY ? await promptSecret(input, output) : '');
  if (!secret) {
    throw new TryUsageError(
      input.isTTY
        ? 'No AppSecret was given.'
        : 'Set XIAOMI_CLIENT_SECRET to the AppSecret: there is no terminal to ask for it.',
    );
  }
  return secret;
};
