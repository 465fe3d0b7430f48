// Proves that amounts typed in major units convert exactly to minor units with each currency's exponent, and that anything else is refused.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { limits } from '../domain/limits.js';
import { formatMajorUnits, parseMajorUnits } from './amount.js';

const minor = (text: string, currency: string) => {
  const parsed = parseMajorUnits(text, currency);
  return parsed.ok ? parsed.minorUnits : parsed.reason;
};

describe('parseMajorUnits', () => {
  it('converts with the currency exponent, by digits, never floats', () => {
    expect(minor('12.50', 'EUR')).toBe(1250n);
    expect(minor('12.5', 'EUR')).toBe(1250n);
    expect(minor('12,05', 'EUR')).toBe(1205n);
    expect(minor(' 7 ', 'EUR')).toBe(700n);
    expect(minor('0.29', 'EUR')).toBe(29n);
    expect(minor('1.005', 'BHD')).toBe(1005n);
    expect(minor('500', 'JPY')).toBe(500n);
    // 0.1 + 0.2 style traps do not exist here: 1.10 is 110 exactly.
    expect(minor('1.10', 'USD')).toBe(110n);
  });

  it('refuses more decimals than the currency has, and says so', () => {
    expect(minor('12.505', 'EUR')).toBe('EUR amounts have at most 2 decimals.');
    expect(minor('1.5', 'JPY')).toBe('JPY amounts have no decimals.');
  });

  it('refuses what is not a positive amount within the limit', () => {
    for (const text of ['', 'abc', '-1', '1e3', '1.2.3', '12.', '.5', '0', '0.00', '１２']) {
      expect(parseMajorUnits(text, 'EUR').ok, text).toBe(false);
    }
    expect(minor('90071992547409.91', 'EUR')).toBe(BigInt(limits.apiAmountMax));
    expect(minor('90071992547409.92', 'EUR')).toBe('This amount is too large.');
    expect(minor('99999999999999999999', 'EUR')).toBe('Enter an amount such as 12.50.');
    expect(minor('1', 'XXX')).toBe('Choose a currency such as EUR.');
  });

  it('round-trips every amount through formatting', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 1n, max: BigInt(limits.apiAmountMax) }),
        fc.constantFrom('EUR', 'JPY', 'BHD'),
        (amount, currency) => {
          const text = formatMajorUnits(amount, currency).replaceAll(',', '');
          expect(parseMajorUnits(text, currency)).toEqual({ ok: true, minorUnits: amount });
        },
      ),
    );
  });
});

describe('formatMajorUnits', () => {
  it('groups thousands and pads minor digits', () => {
    expect(formatMajorUnits(123456789n, 'EUR')).toBe('1,234,567.89');
    expect(formatMajorUnits(5n, 'EUR')).toBe('0.05');
    expect(formatMajorUnits(5n, 'JPY')).toBe('5');
    expect(formatMajorUnits(-1005n, 'BHD')).toBe('-1.005');
  });
});
