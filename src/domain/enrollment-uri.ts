/**
 * The enrollment URI: everything a second terminal needs to join a payer, in one line that fits a QR code.
 *
 *     countersign://enroll?v=1&platform=<url>&payer=<id>&enrollment=<uuid>&secret=<43 base64url>
 *       &suite=<OCRA suite>&key=<hex>&expires=<unix seconds>
 *
 * `key` and `suite` are the terminal's OCRA key and suite (any RFC 6287 token could use them); `platform`,
 * `enrollment` and `secret` let a software terminal redeem the enrollment once, before `expires`, and
 * register its own signing key. docs/terminal.md documents the scheme. The module is pure and free of Node
 * APIs, because the browser authenticator parses the same URIs with it.
 */
import { hexToBytes } from './hex.js';
import { limits, ocraLimits } from './limits.js';
import { isPartyId } from './payer.js';
import { checkTerminalSuite } from './terminal-suite.js';

/** The scheme and the fixed part every enrollment URI starts with. */
export const enrollmentUriPrefix = 'countersign://enroll?';

/** The version of the URI format this module writes and reads. */
export const enrollmentUriVersion = 1;

/** Characters of the one-time secret: 32 random bytes as base64url without padding. */
export const enrollmentSecretLength = 43;

/** Digits of the question a terminal answers to confirm the verification code at enrollment. */
export const enrollmentConfirmationQuestionDigits = 8;

/** An enrollment as its URI carries it. */
export interface EnrollmentUri {
  readonly version: number;
  /** The platform's base URL (http or https, no trailing slash). */
  readonly platformUrl: string;
  readonly payerId: string;
  readonly enrollmentId: string;
  /** The one-time secret that proves the holder received this URI. */
  readonly secret: string;
  readonly suite: string;
  /** The OCRA key of the terminal, as lowercase hex. */
  readonly keyHex: string;
  /** When the enrollment can no longer be redeemed, in milliseconds since the epoch (a whole second). */
  readonly expiresAtMs: number;
}

/** Thrown for a URI that is not a well-formed enrollment URI; `reason` is a sentence safe to show. */
export class EnrollmentUriError extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(`Invalid enrollment URI: ${reason}`);
    this.name = 'EnrollmentUriError';
    this.reason = reason;
  }
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const secretPattern = new RegExp(`^[A-Za-z0-9_-]{${enrollmentSecretLength}}$`);
const secondsPattern = /^[0-9]{1,12}$/;
const parameterNames = ['v', 'platform', 'payer', 'enrollment', 'secret', 'suite', 'key', 'expires'] as const;

/** True when `text` is an enrollment id (a lowercase UUID). */
export function isEnrollmentId(text: string): boolean {
  return uuidPattern.test(text);
}

/** True when `text` has the shape of an enrollment secret. */
export function isEnrollmentSecret(text: string): boolean {
  return secretPattern.test(text);
}

/** The platform URL as a URI carries it: http(s), no credentials, query or fragment, no trailing slash. */
function normalizedPlatformUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new EnrollmentUriError('the platform is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new EnrollmentUriError('the platform URL must use http or https');
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new EnrollmentUriError('the platform URL must not carry credentials, a query or a fragment');
  }
  return url.href.replace(/\/+$/, '');
}

function assertFields(enrollment: Omit<EnrollmentUri, 'version'>): void {
  if (!isPartyId(enrollment.payerId)) throw new EnrollmentUriError('the payer id is malformed');
  if (!isEnrollmentId(enrollment.enrollmentId))
    throw new EnrollmentUriError('the enrollment id is malformed');
  if (!isEnrollmentSecret(enrollment.secret)) throw new EnrollmentUriError('the secret is malformed');
  const suite = checkTerminalSuite(enrollment.suite);
  if (!suite.ok) throw new EnrollmentUriError(`the suite is not usable: ${suite.reason}`);
  let keyBytes: number;
  try {
    keyBytes = hexToBytes(enrollment.keyHex).length;
  } catch {
    throw new EnrollmentUriError('the key is not hexadecimal');
  }
  if (keyBytes < ocraLimits.keyBytesMin || keyBytes > ocraLimits.keyBytesMax) {
    throw new EnrollmentUriError(
      `the key must be ${ocraLimits.keyBytesMin} to ${ocraLimits.keyBytesMax} bytes`,
    );
  }
  if (!Number.isSafeInteger(enrollment.expiresAtMs) || enrollment.expiresAtMs % 1000 !== 0) {
    throw new EnrollmentUriError('the expiry must be a whole number of seconds');
  }
}

/** Writes an enrollment URI. Throws `EnrollmentUriError` when a field is malformed (a bug of the caller). */
export function formatEnrollmentUri(enrollment: Omit<EnrollmentUri, 'version'>): string {
  const platformUrl = normalizedPlatformUrl(enrollment.platformUrl);
  assertFields(enrollment);
  const query = new URLSearchParams({
    v: String(enrollmentUriVersion),
    platform: platformUrl,
    payer: enrollment.payerId,
    enrollment: enrollment.enrollmentId,
    secret: enrollment.secret,
    suite: enrollment.suite,
    key: enrollment.keyHex.toLowerCase(),
    expires: String(enrollment.expiresAtMs / 1000),
  });
  return `${enrollmentUriPrefix}${query.toString()}`;
}

function onlyParameter(query: URLSearchParams, name: string): string {
  const values = query.getAll(name);
  if (values.length !== 1) {
    throw new EnrollmentUriError(values.length === 0 ? `${name} is missing` : `${name} is given twice`);
  }
  return values[0]!;
}

/**
 * Reads an enrollment URI (surrounding white space is ignored, since URIs are pasted). Throws
 * `EnrollmentUriError` naming the first defect: another scheme, an unknown version, a missing, repeated
 * or unknown parameter, or a malformed value. It does not look at the clock: whether the enrollment has
 * expired is for the caller (and in the end the platform) to decide.
 */
export function parseEnrollmentUri(text: string): EnrollmentUri {
  const uri = text.trim();
  if (uri.length > limits.enrollmentUriLengthMax) throw new EnrollmentUriError('it is too long');
  if (!uri.startsWith(enrollmentUriPrefix)) {
    throw new EnrollmentUriError(`it must start with ${enrollmentUriPrefix}`);
  }
  const query = new URLSearchParams(uri.slice(enrollmentUriPrefix.length).replace(/#.*$/, ''));
  for (const name of query.keys()) {
    if (!(parameterNames as readonly string[]).includes(name)) {
      throw new EnrollmentUriError(`the parameter ${name} is not known`);
    }
  }
  if (onlyParameter(query, 'v') !== String(enrollmentUriVersion)) {
    throw new EnrollmentUriError(`only version ${enrollmentUriVersion} is understood`);
  }
  const expires = onlyParameter(query, 'expires');
  if (!secondsPattern.test(expires)) throw new EnrollmentUriError('the expiry must be unix seconds');
  const enrollment = {
    platformUrl: normalizedPlatformUrl(onlyParameter(query, 'platform')),
    payerId: onlyParameter(query, 'payer'),
    enrollmentId: onlyParameter(query, 'enrollment'),
    secret: onlyParameter(query, 'secret'),
    suite: onlyParameter(query, 'suite'),
    keyHex: onlyParameter(query, 'key').toLowerCase(),
    expiresAtMs: Number(expires) * 1000,
  };
  assertFields(enrollment);
  return Object.freeze({ version: enrollmentUriVersion, ...enrollment });
}

/**
 * The question a terminal answers with OCRA (its key, the verification code) when it redeems an
 * enrollment, so that the platform can tell the payer at once whether the verification code the terminal
 * will encrypt its keys under is the right one. It is derived from the enrollment id, so it needs no
 * extra round trip: 8 decimal digits, valid in every question format a terminal suite may have (N, A, H).
 */
export function enrollmentConfirmationQuestion(enrollmentId: string): string {
  if (!isEnrollmentId(enrollmentId)) throw new EnrollmentUriError('the enrollment id is malformed');
  // 13 hex digits are 52 bits, exact as a JavaScript number.
  const value = Number.parseInt(enrollmentId.replaceAll('-', '').slice(0, 13), 16);
  return String(value % 10 ** enrollmentConfirmationQuestionDigits).padStart(
    enrollmentConfirmationQuestionDigits,
    '0',
  );
}
