/**
 * RFC 6238 TOTP, the operators' second factor: the HOTP value (RFC 4226, `hotp` in `ocra.ts`) of the number
 * of 30-second steps since the Unix epoch. Authenticator apps import the key from an `otpauth://` URI, read
 * as a QR code, with the key in RFC 4648 base32.
 *
 * Verification accepts the step of the verifier's clock and one step either side (RFC 6238 §5.2 recommends
 * at most one step of network delay), and never a step at or before the last one accepted: a code seen once,
 * by a shoulder or a proxy, cannot be replayed (RFC 6238 §5.2: "the verifier MUST NOT accept the second
 * attempt of the same OTP"). The caller stores the step returned and passes it back as `lastAcceptedStep`.
 */
import { timingSafeEqualString } from './constant-time.js';
import { hotp, type OtpHash } from './ocra.js';

/** The parameters the platform issues: SHA-1, 6 digits and 30 s, the only ones every authenticator app reads. */
export const totpParameters = Object.freeze({
  stepSeconds: 30,
  digits: 6,
  hash: 'SHA-1' as OtpHash,
  /** Steps accepted either side of the verifier's own. */
  window: 1,
  /** Key length: 160 bits, the HMAC-SHA-1 block's recommended key size (RFC 4226 §4 R6). */
  keyBytes: 20,
});

/** The time step of a Unix time in milliseconds. */
export function totpStep(unixMs: number, stepSeconds: number = totpParameters.stepSeconds): number {
  if (!Number.isFinite(unixMs) || unixMs < 0) throw new RangeError('a TOTP time is a non-negative Unix time');
  return Math.floor(unixMs / 1000 / stepSeconds);
}

/** The TOTP value of `key` at time step `step`. */
export function totpAt(
  key: Uint8Array,
  step: number,
  digits: number = totpParameters.digits,
  hash: OtpHash = totpParameters.hash,
): Promise<string> {
  return hotp(key, step, digits, hash);
}

/**
 * The step whose value is `code`, among the verifier's step and `window` steps either side that come after
 * `lastAcceptedStep`; undefined when none matches. Every candidate is computed and compared in constant
 * time, so the answer's timing does not tell which step, if any, was close.
 */
export async function matchTotp(
  key: Uint8Array,
  code: string,
  unixMs: number,
  lastAcceptedStep: number,
): Promise<number | undefined> {
  const current = totpStep(unixMs);
  let matched: number | undefined;
  for (let step = current - totpParameters.window; step <= current + totpParameters.window; step += 1) {
    if (step < 0) continue;
    const value = await totpAt(key, step);
    const equal = timingSafeEqualString(value, code);
    if (equal && step > lastAcceptedStep && matched === undefined) matched = step;
  }
  return matched;
}

const base32Alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding, as `otpauth://` URIs carry keys. */
export function base32Encode(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let text = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      text += base32Alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  if (bits > 0) text += base32Alphabet[(value << (5 - bits)) & 31];
  return text;
}

/** RFC 4648 base32 (padding and lower case allowed); throws on any other character. */
export function base32Decode(text: string): Uint8Array {
  const clean = text.replace(/=+$/, '').toUpperCase();
  const bytes: number[] = [];
  let bits = 0;
  let value = 0;
  for (const char of clean) {
    const index = base32Alphabet.indexOf(char);
    if (index < 0) throw new RangeError('not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      bytes.push((value >>> (bits - 8)) & 255);
      bits -= 8;
      value &= (1 << bits) - 1;
    }
  }
  return Uint8Array.from(bytes);
}

/**
 * The Key Uri Format authenticator apps import: `otpauth://totp/<issuer>:<account>?secret=…&issuer=…`,
 * with the platform's parameters spelled out so that an app never assumes others.
 */
export function totpUri(issuer: string, account: string, key: Uint8Array): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const query = new URLSearchParams({
    secret: base32Encode(key),
    issuer,
    algorithm: 'SHA1',
    digits: String(totpParameters.digits),
    period: String(totpParameters.stepSeconds),
  });
  return `otpauth://totp/${label}?${query.toString()}`;
}
