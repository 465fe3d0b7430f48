/**
 * Parsers of command-line values, run by commander as it reads the arguments: a bad value is refused with
 * exit code 2 before the data directory is opened or created, so a mistyped command leaves nothing behind
 * (no `master.key`, no database). Each applies the domain's own rule; none restates one.
 */
import { InvalidArgumentError } from 'commander';
import { limits, merchantLimits } from '../domain/limits.js';
import { isCurrency } from '../domain/money.js';
import {
  isAcceptablePassword,
  isPartyId,
  isPayeeName,
  isVerificationCode,
  partyIdRule,
} from '../domain/payer.js';
import { checkTerminalSuite } from '../domain/terminal-suite.js';

/** A whole number of minor units within the API's bound. */
export function amountOption(value: string): bigint {
  if (!/^[0-9]{1,19}$/.test(value) || BigInt(value) < 1n || BigInt(value) > BigInt(limits.apiAmountMax)) {
    throw new InvalidArgumentError(
      `Expected a whole number of minor units from 1 to ${limits.apiAmountMax}.`,
    );
  }
  return BigInt(value);
}

/** An ISO 4217 code such as EUR. */
export function currencyOption(value: string): string {
  if (!isCurrency(value)) throw new InvalidArgumentError('Expected an ISO 4217 currency code such as EUR.');
  return value;
}

/** A payer, payee or merchant id. */
export function partyIdOption(value: string): string {
  if (!isPartyId(value)) throw new InvalidArgumentError(`Expected ${partyIdRule}.`);
  return value;
}

/** A payer's password. */
export function passwordOption(value: string): string {
  if (!isAcceptablePassword(value)) {
    throw new InvalidArgumentError(
      `Expected ${limits.passwordLengthMin}–${limits.passwordLengthMax} characters.`,
    );
  }
  return value;
}

/** A payer's verification code (PIN). */
export function verificationCodeOption(value: string): string {
  if (!isVerificationCode(value))
    throw new InvalidArgumentError(
      `Expected ${limits.verificationCodeDigitsMin}–${limits.verificationCodeDigitsMax} digits.`,
    );
  return value;
}

/** A payee's or merchant's display name. */
export function nameOption(value: string): string {
  if (!isPayeeName(value.trim())) {
    throw new InvalidArgumentError(`Expected 1–${limits.payeeNameLengthMax} characters.`);
  }
  return value;
}

/** A webhook URL: its full checks (https, no private address) run in the service, these first. */
export function urlOption(value: string): string {
  if (value.length > merchantLimits.urlCharactersMax || !URL.canParse(value)) {
    throw new InvalidArgumentError(
      `Expected an absolute URL of at most ${merchantLimits.urlCharactersMax} characters.`,
    );
  }
  return value;
}

/** A whole number from `min` to `max`, as a parser for commander. */
export function integerOption(min: number, max: number): (value: string) => number {
  return (value) => {
    if (!/^[0-9]{1,15}$/.test(value) || Number(value) < min || Number(value) > max) {
      throw new InvalidArgumentError(`Expected a whole number from ${min} to ${max}.`);
    }
    return Number(value);
  };
}

/** An OCRA suite a second terminal can use. */
export function suiteOption(value: string): string {
  const checked = checkTerminalSuite(value);
  if (!checked.ok) throw new InvalidArgumentError(`Not a usable OCRA suite: ${checked.reason}.`);
  return value;
}

/** A UUID as the platform issues them (key ids, payment ids). */
export function uuidOption(value: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(value)) {
    throw new InvalidArgumentError('Expected a lower-case UUID.');
  }
  return value;
}
