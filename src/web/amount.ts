/**
 * Amounts typed by people, in major units ("12.50" EUR), converted exactly to integer minor units (1250n)
 * with the currency's exponent, by string arithmetic on digits: a float never touches an amount.
 */
import { limits } from '../domain/limits.js';
import { currencyExponent, isCurrency } from '../domain/money.js';

/** The result of parsing a typed amount: minor units, or why the text is not an amount. */
export type ParsedAmount =
  | { readonly ok: true; readonly minorUnits: bigint }
  | { readonly ok: false; readonly reason: string };

const majorUnitsPattern = /^([0-9]{1,19})(?:[.,]([0-9]+))?$/;

/**
 * Parses `text` ("12.50", "12,5", "12") as an amount of `currency`: at most as many decimals as the
 * currency has minor-unit digits (none for JPY), more than zero, at most the API's largest amount.
 */
export function parseMajorUnits(text: string, currency: string): ParsedAmount {
  if (!isCurrency(currency)) return { ok: false, reason: 'Choose a currency such as EUR.' };
  const exponent = currencyExponent(currency);
  const match = majorUnitsPattern.exec(text.trim());
  if (match === null) return { ok: false, reason: 'Enter an amount such as 12.50.' };
  const whole = match[1]!;
  const fraction = match[2] ?? '';
  if (fraction.length > exponent) {
    return {
      ok: false,
      reason:
        exponent === 0
          ? `${currency} amounts have no decimals.`
          : `${currency} amounts have at most ${exponent} decimals.`,
    };
  }
  const minorUnits = BigInt(whole + fraction.padEnd(exponent, '0'));
  if (minorUnits <= 0n) return { ok: false, reason: 'Enter an amount above zero.' };
  if (minorUnits > BigInt(limits.apiAmountMax)) return { ok: false, reason: 'This amount is too large.' };
  return { ok: true, minorUnits };
}

/** Minor units as major units without the currency code: 1250n EUR → "12.50"; 5n JPY → "5". */
export function formatMajorUnits(minorUnits: bigint, currency: string): string {
  const exponent = currencyExponent(currency);
  const negative = minorUnits < 0n;
  const digits = (negative ? -minorUnits : minorUnits).toString().padStart(exponent + 1, '0');
  const whole = exponent === 0 ? digits : digits.slice(0, -exponent);
  const fraction = exponent === 0 ? '' : `.${digits.slice(-exponent)}`;
  return `${negative ? '-' : ''}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${fraction}`;
}
