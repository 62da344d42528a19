/**
 * `npm run try -- --client-id <AppID> [...]`: checks a Xiaomi app (AppID, AppSecret, callback URL)
 * from a terminal before it goes into Logto. `--help` tells the rest.
 */

import { runTry, TryUsageError } from '../harness/try-app.js';
import { parseTryArguments, readClientSecret, usage } from '../harness/try-cli.js';

const main = async () => {
  const command = parseTryArguments(process.argv.slice(2));
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
