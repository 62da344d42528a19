import { z } from 'zod';
import { onFirstUse } from './lazy.js';

const emailGuard = z.string().email();

/** Keeps an email only when it is a whole, valid address; Logto may link accounts by it. */
export const normalizeEmail = (email: string | undefined) => emailGuard.safeParse(email).data;

/** Digits, with or without a leading `+`, once spaces and dashes are gone: nothing masked. */
const plainNumber = /^\+?\d+$/;
/** An 11-digit mainland China mobile number, written without its country code. */
const mainlandMobile = /^1\d{10}$/;

/** Phone numbers are rare, and their metadata is the largest part of the package. */
const loadPhoneParser = onFirstUse(() => import('libphonenumber-js/mobile'));

/**
 * Keeps a phone only when it is a valid mobile number whose country is certain, in Logto's form
 * (country code and digits, no `+`). Xiaomi shows no format, so it may send `+86 138 0013 8000`,
 * `8613800138000` or, for its mainland users, `13800138000`. Masked numbers and numbers that do
 * not check out are left out rather than guessed, since Logto may link accounts by them.
 */
export const normalizePhone = async (phone: string | undefined) => {
  if (phone === undefined) {
    return undefined;
  }
  const compact = phone.replace(/[\s-]/g, '');
  if (!plainNumber.test(compact)) {
    return undefined;
  }
  const { parsePhoneNumberFromString } = await loadPhoneParser();
  const parsed = mainlandMobile.test(compact)
    ? parsePhoneNumberFromString(compact, 'CN')
    : parsePhoneNumberFromString(compact.startsWith('+') ? compact : `+${compact}`);
  return parsed?.isValid() ? parsed.number.slice(1) : undefined;
};
