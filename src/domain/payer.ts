/**
 * Payers and payees as the method names them: a payer identification code, a password and a payer
 * verification code; a payee with a display name. Only the rules on their shape live here.
 */
import { limits } from './limits.js';

/** The payer identification code (and payee id): 3–64 characters of A-Z a-z 0-9 . _ @ + - */
export const partyIdPattern = /^[A-Za-z0-9._@+-]{3,64}$/;

/** The payer verification code: 4–12 digits, the OCRA PIN input. */
export const verificationCodePattern = /^[0-9]{4,12}$/;

/** Password length bounds, in characters; the upper bound keeps the hash's input bounded. */
export const passwordLengthMin = 8;
export const passwordLengthMax = 128;

/** Payee display-name bounds, in characters. */
export const payeeNameLengthMax = 200;

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
  return password.length >= passwordLengthMin && password.length <= passwordLengthMax;
}

/**
 * How long after its recorded last use a payer session's use is recorded again. A session therefore ends
 * between `idleMs` minus this interval and `idleMs` after its last request: never later than the idle
 * window promises, at most a tenth of it sooner.
 */
export function sessionTouchIntervalMs(idleMs: number): number {
  return Math.max(0, Math.min(limits.sessionTouchIntervalMsMax, Math.floor(idleMs / 10)));
}

/** A payee's or merchant's display name, as stored: trimmed, 1 to `payeeNameLengthMax` characters. */
export function isPayeeName(trimmedName: string): boolean {
  return trimmedName.length > 0 && trimmedName.length <= payeeNameLengthMax;
}
