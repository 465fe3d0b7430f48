// Proves that HOTP values equal the ten published RFC 4226 Appendix D values, and that out-of-range inputs are refused.
import { describe, expect, it } from 'vitest';
import { hotp, OcraInputError } from './ocra.js';

// RFC 4226 Appendix D: secret "12345678901234567890" (ASCII), 6 digits, counters 0 to 9.
const secret = new TextEncoder().encode('12345678901234567890');
const appendixD = [
  '755224',
  '287082',
  '359152',
  '969429',
  '338314',
  '254676',
  '287922',
  '162583',
  '399871',
  '520489',
];

describe('RFC 4226 Appendix D', () => {
  it.each(appendixD.map((value, counter) => [counter, value] as const))(
    'counter %i gives %s',
    async (counter, value) => {
      await expect(hotp(secret, counter, 6)).resolves.toBe(value);
      await expect(hotp(secret, BigInt(counter), 6, 'SHA-1')).resolves.toBe(value);
    },
  );
});

describe('hotp input validation', () => {
  it('accepts the largest 64-bit counter and returns the requested number of digits', async () => {
    await expect(hotp(secret, 2n ** 64n - 1n, 10)).resolves.toMatch(/^[0-9]{10}$/);
  });

  it.each([
    ['a negative counter', () => hotp(secret, -1, 6), /whole number/],
    ['a fractional counter', () => hotp(secret, 0.5, 6), /whole number/],
    ['a counter of 2^64', () => hotp(secret, 2n ** 64n, 6), /2\^64 - 1/],
    ['5 digits', () => hotp(secret, 0, 5), /6 to 10/],
    ['11 digits', () => hotp(secret, 0, 11), /6 to 10/],
    ['a key shorter than 128 bits', () => hotp(secret.subarray(0, 15), 0, 6), /16 to 256 bytes/],
    ['an unknown hash', () => hotp(secret, 0, 6, 'MD5' as 'SHA-1'), /SHA-1, SHA-256 or SHA-512/],
  ])('rejects %s with a reason', async (_name, call, reason) => {
    const error = await call().then(
      () => undefined,
      (rejection: unknown) => rejection,
    );
    expect(error).toBeInstanceOf(OcraInputError);
    expect((error as OcraInputError).reason).toMatch(reason);
  });
});
