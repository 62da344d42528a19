/** The command line of `npm run try`: its options, its usage and the AppSecret prompt. */
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { type TryOptions, TryUsageError } from './try-app.js';

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

/** The option Node names in a parse error, e.g. `--clientid`. */
const quotedOption = (message: string) => /'([^']+)'/.exec(message)?.[1] ?? 'an option';

/** Node's parse error, said as one sentence for this command. */
const describeParseError = ({ code, message }: NodeJS.ErrnoException) => {
  const option = quotedOption(message).split(' ')[0];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    return `Unknown option ${option}.`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    return message.includes('does not take')
      ? `The option ${option} takes no value.`
      : `The option ${option} needs a value.`;
  }
  return `Unexpected argument ${option}; every value follows its option.`;
};

const readOptions = (args: string[]) => {
  try {
    return parseArgs({ args, options: optionSpec, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new TryUsageError(describeParseError(error as NodeJS.ErrnoException));
  }
};

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

export type TryCommand =
  | { help: true }
  | { help: false; options: Omit<TryOptions, 'clientSecret'> };

/** Reads the arguments after `npm run try --`; throws TryUsageError for what it cannot take. */
export const parseTryArguments = (args: string[]): TryCommand => {
  const values = readOptions(args);
  if (values.help) {
    return { help: true };
  }
  const clientId = values['client-id']?.trim();
  if (!clientId) {
    throw new TryUsageError('--client-id is required: the AppID of your Xiaomi app.');
  }
  return {
    help: false,
    options: {
      clientId,
      scope: values.scope,
      skipConfirm: values['skip-confirm'] ?? false,
      port: readPort(values.port),
      waitMs: readWaitMs(values.wait),
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
