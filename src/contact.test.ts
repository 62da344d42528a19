import { describe, expect, it } from 'vitest';
import { normalizeEmail, normalizePhone } from './contact.js';

describe('normalizeEmail', () => {
  it.each([
    ['lei@example.com', 'lei@example.com'],
    ['', undefined],
    ['l***@example.com', undefined],
    ['not-an-email', undefined],
    [undefined, undefined],
  ])('%s → %s', (email, expected) => {
    expect(normalizeEmail(email)).toBe(expected);
  });
});

describe('normalizePhone', () => {
  it.each([
    ['+86 138 0013 8000', '8613800138000'],
    ['+8613800138000', '8613800138000'],
    ['+86-138-0013-8000', '8613800138000'],
    ['8613800138000', '8613800138000'],
    ['13800138000', '8613800138000'],
    [' 138 0013 8000 ', '8613800138000'],
    ['+1 650 253 0000', '16502530000'],
    ['+852 9123 4567', '85291234567'],
    ['138****8000', undefined],
    ['+86138****8000', undefined],
    ['', undefined],
    [undefined, undefined],
    ['+86 12', undefined],
    ['1380013', undefined],
    ['12345678901', undefined],
    ['+8612345678901', undefined],
    ['+86 10 1234 5678', undefined],
    ['tel:+8613800138000', undefined],
    ['Phone +8613800138000', undefined],
    ['+86 (138) 0013 8000', undefined],
    ['++8613800138000', undefined],
    ['8613800138000x', undefined],
  ])('%s → %s', async (phone, expected) => {
    expect(await normalizePhone(phone)).toBe(expected);
  });
});
