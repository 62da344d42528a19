import { z } from 'zod';

const emailGuard = z.string().email();

/** Keeps an email only when it is a whole, valid address; Logto may link accounts by it. */
export const normalizeEmail = (email: string | undefined) => emailGuard.safeParse(email).data;

/**
 * Keeps a phone only when it is a complete international number, in Logto's form (country code
 * and digits, no `+`). Masked and national-only numbers are left out rather than guessed.
 */
export const normalizePhone = async (phone: string | undefined) => {
  if (!phone?.trim().startsWith('+')) {
    return undefined;
  }
  // Loaded on demand: phone numbers are rare, and the metadata slows every cold start.
  const { parsePhoneNumberFromString } = await import('libphonenumber-js/min');
  const parsed = parsePhoneNumberFromString(phone);
  return parsed?.isValid() ? parsed.number.slice(1) : undefined;
};
