/**
 * The admin guides' error tables and log table, made from src/errors.ts: every Logto error, `reason` and hint
 * in them is read from the errors the connector builds, so a changed hint or code reaches both
 * guides through `npm run docs`, and `test/admin-guides.test.ts` fails until it has. The Chinese
 * guide carries each hint in Chinese: `zhHints` holds the translation of each English hint, keyed
 * by that English sentence, so a changed sentence has no translation until one is written.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ConnectorError, ConnectorErrorCodes } from '@logto/connector-kit';
import { packageRoot } from '../harness/logto-loader.js';
import { profileEndpoint, tokenEndpoint } from '../src/constant.js';
import {
  httpStatusError,
  invalidResponseError,
  invalidSettingsError,
  isXiaomiError,
  logNotes,
  networkError,
  redirectUriUnknownError,
  timeoutError,
  unknownXiaomiError,
  unusableCallbackError,
  type XiaomiErrorData,
  xiaomiErrors,
} from '../src/errors.js';

type Language = 'en' | 'zh-CN';
type Words = Record<Language, string>;

export const zhHints: Readonly<Record<string, string>> = {
  'Check that clientId is the AppID of an existing Xiaomi app whose account service is enabled.':
    '检查 clientId 是否为一个存在的小米应用的 AppID，且该应用已开通账号服务。',
  'Xiaomi found a parameter missing or malformed; report this to the connector’s maintainers.':
    '小米认为某个参数缺失或格式不对；请反馈给本连接器的维护者。',
  'Check that clientSecret is the AppSecret of the app whose AppID is clientId. Xiaomi says the same of a secret sent without URL encoding, which this connector always applies.':
    '检查 clientSecret 是否为 AppID 等于 clientId 的那个应用的 AppSecret。未经 URL 编码发送的密钥小米也这样回答，而本连接器总会编码。',
  'The authorization was not accepted; the user should sign in again.':
    '小米没有接受这次授权；用户应重新登录。',
  'The Xiaomi app lacks this permission; apply for it in the Xiaomi console.':
    '小米应用没有这项权限；请在小米开放平台申请。',
  'Xiaomi refused the grant type; report this to the connector’s maintainers.':
    '小米拒绝了授权类型；请反馈给本连接器的维护者。',
  'Check the scope setting: space-separated scope ids that the Xiaomi app is approved for.':
    '检查 scope 配置：应是小米应用获准使用、以空格分隔的 scope 编号。',
  'The access token is invalid or expired; the user should sign in again.':
    '访问令牌无效或已过期；用户应重新登录。',
  'The refresh token is invalid, used or expired; the user should sign in again.':
    '刷新令牌无效、已用过或已过期；用户应重新登录。',
  'Register at Xiaomi each Redirect URI the Console shows, separated by ;. Keep them in lower case. Register http and https apart, and every custom domain too.':
    '在小米登记控制台列出的每个重定向 URI，多个之间用 ; 分隔。请保持小写。http 和 https 要分别登记，每个自定义域名也要登记。',
  'Xiaomi refused the response type; report this to the connector’s maintainers.':
    '小米拒绝了响应类型；请反馈给本连接器的维护者。',
  'The user (or Xiaomi) refused the authorization; the user can try again.':
    '用户（或小米）拒绝了授权；用户可以再试一次。',
  'The authorization code is invalid, used or expired; the user should sign in again.':
    '授权码无效、已用过或已过期；用户应重新登录。',
  'This connector does not know the code; look it up in Xiaomi’s account service documentation.':
    '本连接器不认识这个错误码；请在小米账号服务的文档中查找。',
  'Xiaomi is slow or unreachable from the Logto server; try again later.':
    '从 Logto 服务器访问小米很慢或无法访问；请稍后重试。',
  'Check that the Logto server can reach Xiaomi’s hosts over HTTPS (DNS, firewall, proxy).':
    '检查 Logto 服务器能否通过 HTTPS 访问小米的域名（DNS、防火墙、代理）。',
  'Xiaomi had a server error; try again later.': '小米服务器出错；请稍后重试。',
  'Xiaomi refused the request without saying why; try signing in again.':
    '小米拒绝了请求且未说明原因；请重新登录试试。',
  'Xiaomi may be having trouble; try again later, and report it if it persists.':
    '小米可能出了问题；请稍后重试，持续出现请反馈。',
  'Register at Xiaomi each Redirect URI the Console shows on the connector’s page; a sign-in page of your own must pass on Xiaomi’s whole query.':
    '在小米登记控制台中连接器页面上列出的每个重定向 URI；自建的登录页面须把小米的查询参数原样完整转交。',
  'The user signs in with Xiaomi again, which stores tokens this connector can refresh.':
    '用户再用小米登录一次，存下本连接器能刷新的令牌。',
  'Correct the settings named here on the connector’s page in the Console: clientId and clientSecret are the AppID and AppSecret, as text; scope is Xiaomi scope ids separated by spaces.':
    '在控制台中本连接器的页面上改正这里列出的配置项：clientId 和 clientSecret 是 AppID 和 AppSecret（文本）；scope 是以空格分隔的小米 scope 编号。',
};

/** When each of the connector's log lines is written, in Chinese (the lines stay English). */
export const zhLogOnce: Readonly<Record<string, string>> = {
  'Once per Logto process for each kind of refusal: each Xiaomi code, HTTP status or failure.':
    '每个 Logto 进程对每一种拒绝写一次：每个小米错误码、HTTP 状态或失败各一次。',
  'Once per Logto process when a connection to Redis cannot be made, then not again until a call works.':
    '每个 Logto 进程在连不上 Redis 时写一次，之后直到有一次调用成功前不再写。',
  'Once per Logto process.': '每个 Logto 进程写一次。',
  'Once per Logto process for each kind of refusal, such as NOPERM, READONLY or OOM.':
    '每个 Logto 进程对每一种拒绝写一次，例如 NOPERM、READONLY 或 OOM。',
  'Once per Logto process at the first call that works after that line.':
    '每个 Logto 进程在写过上一行之后、第一次调用成功时写一次。',
};

const translate = (language: Language, text: string, chinese: Readonly<Record<string, string>>) => {
  if (language === 'en') {
    return text;
  }
  const translated = chinese[text];
  if (!translated) {
    throw new Error(`scripts/error-tables.ts has no Chinese for: ${text}`);
  }
  return translated;
};

const hintIn = (language: Language, hint: string) => translate(language, hint, zhHints);

/** A cell's text as Markdown shows it: `<…>` would be read as an HTML tag, `|` as a new cell. */
const cell = (text: string) => text.replace(/[<>|]/g, (char) => `\\${char}`);
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
const table = (header: string[], rows: string[][]) =>
  [row(header), row(header.map(() => '---')), ...rows.map(row)].join('\n');

const xiaomiTable = (language: Language) => {
  const special: Record<string, Words> = {
    unknown: { en: 'another code', 'zh-CN': '其他错误码' },
    access_denied: { en: '`access_denied` in the callback', 'zh-CN': '回调中的 `access_denied`' },
  };
  const entries = [
    ...[...xiaomiErrors].filter(([key]) => /^\d+$/.test(key)),
    ['unknown', unknownXiaomiError] as const,
    ['access_denied', xiaomiErrors.get('access_denied') ?? unknownXiaomiError] as const,
  ];
  return table(
    language === 'en'
      ? ['Xiaomi code', 'name', 'Logto error', 'what to check']
      : ['小米错误码', '名称', 'Logto 错误', '检查什么'],
    entries.map(([key, { name, connectorCode, hint }]) => [
      special[key]?.[language] ?? key,
      name,
      `\`${connectorCode}\``,
      cell(hintIn(language, hint)),
    ]),
  );
};

const tokenUrl = new URL(tokenEndpoint);
const profileUrl = new URL(profileEndpoint);
const { General, SocialAuthCodeInvalid, SocialAccessTokenInvalid } = ConnectorErrorCodes;
const thrice = (attempt: string) => [attempt, attempt, attempt];

/**
 * One row for each failure without a Xiaomi code: an example of the error, and of the same error
 * with another Logto error code where the endpoint decides it. The row shows the example's own
 * sentence, as the admin reads it in Logto.
 */
export const otherFailures: ConnectorError[][] = [
  [invalidSettingsError([{ path: 'clientSecret', message: 'Required' }])],
  [unusableCallbackError('only state')],
  [timeoutError(profileUrl, ['timeout', 'timeout'])],
  [networkError(tokenUrl, 'ECONNREFUSED', thrice('ECONNREFUSED'))],
  [redirectUriUnknownError()],
  [
    httpStatusError(tokenUrl, 400, SocialAuthCodeInvalid, ['HTTP 400']),
    httpStatusError(tokenUrl, 400, SocialAccessTokenInvalid, ['HTTP 400']),
  ],
  [httpStatusError(profileUrl, 401, SocialAccessTokenInvalid, ['HTTP 401'])],
  [httpStatusError(profileUrl, 404, General, ['HTTP 404'])],
  [httpStatusError(profileUrl, 503, General, thrice('HTTP 503'))],
  [invalidResponseError(tokenUrl, 'not_json', ['HTTP 200'])],
  [invalidResponseError(tokenUrl, 'unexpected_shape', ['HTTP 200'])],
];

/** The declared data of one of this connector's errors. */
export const dataOf = (error: ConnectorError): XiaomiErrorData => {
  if (!isXiaomiError(error)) {
    throw new Error(`Not an error of this connector: ${error.message}`);
  }
  return error.data;
};

/** What an error says happened: its sentence without the hint. */
const happenedIn = ({ errorDescription, hint }: XiaomiErrorData) =>
  errorDescription.slice(0, -`: ${hint}`.length);

const otherTable = (language: Language) =>
  table(
    language === 'en'
      ? ['the error says (an example)', '`reason`', 'Logto error', 'what to check']
      : ['错误的原话（示例）', '`reason`', 'Logto 错误', '检查什么'],
    otherFailures.map((errors) => {
      const data = dataOf(errors[0] as ConnectorError);
      return [
        cell(happenedIn(data)),
        `\`${data.reason}\``,
        errors.map(({ code }) => `\`${code}\``).join(language === 'en' ? ', ' : '、'),
        cell(hintIn(language, data.hint)),
      ];
    }),
  );

/** The lines the connector writes to Logto's log, and when it writes each. */
const logTable = (language: Language) =>
  table(
    language === 'en'
      ? ['the line, after `[connector-xiaomi-plus]`', 'written']
      : ['日志行（在 `[connector-xiaomi-plus]` 之后）', '何时写'],
    Object.values(logNotes).map(({ line, once }) => [
      `"${cell(line)}"`,
      cell(translate(language, once, zhLogOnce)),
    ]),
  );

/** Each guide, and the lines its three tables follow. */
export const guides = [
  {
    language: 'en',
    file: 'docs/admin-guide.md',
    leads: [
      "Xiaomi's own errors (`reason`: `xiaomi_error`):",
      'Failures without a Xiaomi code:',
      "**Logto's log.** The connector writes only these lines there:",
    ],
  },
  {
    language: 'zh-CN',
    file: 'docs/admin-guide.zh-CN.md',
    leads: [
      '小米自己的错误（`reason` 为 `xiaomi_error`）：',
      '没有小米错误码的失败：',
      '**Logto 日志。** 连接器只在日志中写以下英文行：',
    ],
  },
] as const;

/** `text` with the table after the line `lead` replaced by `newTable`. */
const replaceTableAfter = (text: string, lead: string, newTable: string) => {
  const lines = text.split('\n');
  const start = lines.indexOf(lead) + 2;
  if (start < 2 || !lines[start]?.startsWith('|')) {
    throw new Error(`No table follows the line: ${lead}`);
  }
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('|'));
  return [...lines.slice(0, start), newTable, ...lines.slice(end)].join('\n');
};

/** A guide as it should read: its text with its tables made anew from src/errors.ts. */
export const guideWithTables = ({ language, file, leads }: (typeof guides)[number]) => {
  const text = readFileSync(join(packageRoot, file), 'utf8');
  const [xiaomiLead, otherLead, logLead] = leads;
  const tables: [string, string][] = [
    [xiaomiLead, xiaomiTable(language)],
    [otherLead, otherTable(language)],
    [logLead, logTable(language)],
  ];
  return tables.reduce((guide, [lead, newTable]) => replaceTableAfter(guide, lead, newTable), text);
};

if (process.argv[1]?.endsWith('error-tables.ts')) {
  for (const guide of guides) {
    writeFileSync(join(packageRoot, guide.file), guideWithTables(guide));
    console.log(`${guide.file}: error and log tables written from src/errors.ts`);
  }
}
