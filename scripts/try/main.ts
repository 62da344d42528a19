/**
 * `npm run try -- --client-id <AppID> [...]`: checks a Xiaomi app (AppID, AppSecret, callback URL)
 * from a terminal before it goes into Logto. `--help` tells the rest.
 */
import { parseTryArguments, readClientSecret, TryUsageError, usage } from './options.js';
import { runTry } from './sign-in.js';

const main = async () => {
  const command = parseTryArguments(process.argv.slice(2), process.env);
  if (command.help) {
    console.log(usage);
    return 0;
  }
  const clientSecret = await readClientSecret(process.env, process.stdin, process.stderr);
  return runTry({ ...command.options, clientSecret });
};

try {
  process.exitCode = await main();
} catch (error) {
  if (!(error instanceof TryUsageError)) {
    throw error;
  }
  console.error(`${error.message}\n\n${usage}`);
  process.exitCode = 2;
}
