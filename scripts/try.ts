/**
 * `npm run try -- --client-id … [--client-secret …] [--scope "1 3"] [--skip-confirm] [--port 3001]`
 * Checks a Xiaomi app (AppID, AppSecret, callback URL) from a terminal before it goes into Logto.
 * The secret may come from XIAOMI_CLIENT_SECRET instead, to keep it out of shell history.
 */
import { parseArgs } from 'node:util';
import { runTry } from '../harness/try-app.js';

const { values } = parseArgs({
  options: {
    'client-id': { type: 'string' },
    'client-secret': { type: 'string' },
    scope: { type: 'string' },
    'skip-confirm': { type: 'boolean', default: false },
    port: { type: 'string', default: '3001' },
  },
});

const clientId = values['client-id'];
const clientSecret = values['client-secret'] ?? process.env.XIAOMI_CLIENT_SECRET;

if (!clientId || !clientSecret) {
  console.error(
    'Usage: npm run try -- --client-id <AppID> [--client-secret <AppSecret>] [--scope "1 3"] [--skip-confirm] [--port 3001]\n' +
      'The AppSecret may be given as XIAOMI_CLIENT_SECRET instead.',
  );
  process.exit(2);
}

process.exitCode = await runTry({
  clientId,
  clientSecret,
  scope: values.scope,
  skipConfirm: values['skip-confirm'],
  port: Number(values.port),
});
