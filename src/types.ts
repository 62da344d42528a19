import type { SocialUserInfo } from '@logto/connector-kit';
import { z } from 'zod';

/** Said when a scope is refused on save, and in the error of a sign-in with such a scope. */
export const scopeFormat =
  'The scope setting takes Xiaomi scope ids separated by spaces, e.g. "1 4 6".';

/**
 * The settings. Keys of no use here, such as the `redirectUri` that the official connector's
 * guard accepts, are dropped rather than refused, so that its saved configs keep loading.
 */
export const xiaomiConfigGuard = z.object({
  clientId: z.string().min(1),
  clientSecret: z.string().min(1),
  scope: z
    .string()
    .regex(/^\s*(\d+(\s+\d+)*)?\s*$/, scopeFormat)
    .optional(),
  skipConfirm: z.boolean().optional(),
});

export type XiaomiConfig = z.infer<typeof xiaomiConfigGuard>;

/** Optional fields Xiaomi may omit or fill oddly: anything but a non-empty string counts as absent. */
const optionalText = z.string().min(1).optional().catch(undefined);

export const callbackGuard = z.object({
  code: z.string().min(1),
  redirectUri: z.string().min(1),
});

/** Xiaomi's own error codes arrive as numbers in JSON and as numeric strings in a callback. */
const xiaomiErrorCode = z.union([z.number(), z.string().min(1)]);

/** An OAuth error, as sent to the callback and by the token endpoint. */
export const oauthErrorGuard = z.object({
  error: xiaomiErrorCode,
  error_description: optionalText,
});

export const tokenResponseGuard = z.object({
  access_token: z.string().min(1),
  refresh_token: optionalText,
  expires_in: z.union([z.number(), z.string()]).optional().catch(undefined),
  scope: optionalText,
  token_type: optionalText,
});

export type XiaomiTokenResponse = z.infer<typeof tokenResponseGuard>;

export const openApiErrorGuard = z.object({
  result: z.literal('error'),
  code: xiaomiErrorCode.optional().catch(undefined),
  description: optionalText,
});

const profileGuard = z.object({
  result: z.literal('ok'),
  data: z.object({
    unionId: z.string().regex(/\S/),
    miliaoNick: optionalText,
    miliaoIcon: optionalText,
  }),
});

/**
 * Responses reach the guards only as `JSON.parse` output, which is JSON by construction; checking it
 * again with connector-kit's recursive `jsonGuard` would cost more than the rest of a sign-in.
 */
const parsedJson = z.custom<NonNullable<SocialUserInfo['rawData']>>(() => true);

/** Reads the profile and keeps Xiaomi's response exactly as received, for `rawData`. */
export const profileResponseGuard = parsedJson.transform((rawData, context) => {
  const profile = profileGuard.safeParse(rawData);
  if (!profile.success) {
    for (const issue of profile.error.issues) {
      context.addIssue(issue);
    }
    return z.NEVER;
  }
  return { profile: profile.data, rawData };
});

export const phoneAndEmailResponseGuard = z.object({
  result: z.literal('ok'),
  data: z.object({ phone: optionalText, email: optionalText }),
});
