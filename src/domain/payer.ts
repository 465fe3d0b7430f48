/**
 * Payers and payees as the method names them: a payer identification code, a password and a payer
 * verification code; a payee with a display name. Only the rules on their shape live here.
 */
import { limits } from './limits.js';

const { partyIdLengthMin, partyIdLengthMax, verificationCodeDigitsMin, verificationCodeDigitsMax } = limits;

/** The characters of a party id, as a regular expression's character class (without the brackets). */
export const partyIdCharacters = 'A-Za-z0-9._@+-';

/** The payer identification code (and payee id): `partyIdRule`. */
export const partyIdPattern = new RegExp(`^[${partyIdCharacters}]{${partyIdLengthMin},${partyIdLengthMax}}$`);

/** The payer verification code: `limits.verificationCodeDigitsMin` to `Max` digits, the OCRA PIN input. */
export const verificationCodePattern = new RegExp(
  `^[0-9]{${verificationCodeDigitsMin},${verificationCodeDigitsMax}}$`,
);

/** What the id rule says, in the words the CLI and the API answer with. */
export const partyIdRule = `${partyIdLengthMin}–${partyIdLengthMax} characters of A-Z a-z 0-9 . _ @ + -`;

/** True when `id` may name a payer or payee. */
export function isPartyId(id: string): boolean {
  return partyIdPattern.test(id);
}

/** True when `code` is a well-formed verification code. */
export function isVerificationCode(code: string): boolean {
  return verificationCodePattern.test(code);
}

/** True when `password` has an acceptable length. */
export function isAcceptablePassword(password: string): boolean {
  return password.length >= limits.passwordLengthMin && password.length <= limits.passwordLengthMax;
}

/**
 * How long after its recorded last use a payer session's use is recorded again. A session therefore ends
 * between `idleMs` minus this interval and `idleMs` after its last request: never later than the idle
 * window promises, at most a tenth of it sooner.
 */
export function sessionTouchIntervalMs(idleMs: number): number {
  return Math.max(0, Math.min(limits.sessionTouchIntervalMsMax, Math.floor(idleMs / 10)));
}

/** A payee's or merchant's display name, as stored: trimmed, 1 to `limits.payeeNameLengthMax` characters. */
export function isPayeeName(trimmedName: string): boolean {
  return trimmedName.length > 0 && trimmedName.length <= limits.payeeNameLengthMax;
}
