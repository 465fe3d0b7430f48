/**
 * Verification of signed terminal requests (docs/terminal.md, "Signed requests"): the headers' shape, the
 * ECDSA P-256 signature over the canonical text of `domain/enrollment-credential`, and the timestamp
 * window. Nonces are checked by the caller, in the database, once everything else holds, so that a
 * forged or stale request writes nothing at all.
 */
import { createHash, createPublicKey, type KeyObject, verify } from 'node:crypto';
import {
  canonicalTerminalRequest,
  noncePattern,
  publicKeyPattern,
  signaturePattern,
  terminalRequestHeaders,
  timestampPattern,
} from '../../domain/enrollment-credential.js';
import { CountersignError } from '../../domain/errors.js';
import { limits } from '../../domain/limits.js';

/** A request as the HTTP layer hands it over: the exact path, the headers and the raw body text. */
export interface SignedTerminalRequest {
  readonly method: string;
  /** Path and query exactly as received. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The body text as received (empty for none), so that its hash is the one the terminal signed. */
  readonly rawBody: string;
}

/** The parsed signature headers. */
export interface SignatureHeaders {
  /** Absent on an enrollment request. */
  readonly terminalId: string | undefined;
  readonly timestampMs: number;
  readonly nonce: string;
  readonly signature: Buffer;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function failed(): CountersignError {
  return new CountersignError('terminal_authentication_failed');
}

function header(request: SignedTerminalRequest, name: string): string | undefined {
  const value = request.headers[name];
  if (Array.isArray(value)) throw failed();
  return value;
}

/** Reads the signature headers; throws `terminal_authentication_failed` when one is missing or malformed. */
export function parseSignatureHeaders(
  request: SignedTerminalRequest,
  terminalRequired: boolean,
): SignatureHeaders {
  const terminalId = header(request, terminalRequestHeaders.terminal);
  const timestamp = header(request, terminalRequestHeaders.timestamp);
  const nonce = header(request, terminalRequestHeaders.nonce);
  const signature = header(request, terminalRequestHeaders.signature);
  if (timestamp === undefined || !timestampPattern.test(timestamp)) throw failed();
  if (nonce === undefined || !noncePattern.test(nonce)) throw failed();
  if (signature === undefined || !signaturePattern.test(signature)) throw failed();
  if (
    terminalRequired ? terminalId === undefined || !uuidPattern.test(terminalId) : terminalId !== undefined
  ) {
    throw failed();
  }
  return {
    terminalId,
    timestampMs: Number(timestamp),
    nonce,
    signature: Buffer.from(signature, 'base64url'),
  };
}

/**
 * Imports a device's public key: SubjectPublicKeyInfo (DER, base64url) of a P-256 key. Returns undefined
 * for anything else, so that a terminal can never register a weaker curve or another algorithm.
 */
export function importTerminalPublicKey(spkiBase64url: string): KeyObject | undefined {
  if (!publicKeyPattern.test(spkiBase64url)) return undefined;
  try {
    const key = createPublicKey({
      key: Buffer.from(spkiBase64url, 'base64url'),
      format: 'der',
      type: 'spki',
    });
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
      return undefined;
    return key;
  } catch {
    return undefined;
  }
}

/** True when `signature` signs the request under `keyId` with `publicKey`. */
export function signatureMatches(
  publicKey: KeyObject,
  request: SignedTerminalRequest,
  keyId: string,
  headers: SignatureHeaders,
): boolean {
  const text = canonicalTerminalRequest({
    method: request.method,
    path: request.path,
    keyId,
    timestampMs: headers.timestampMs,
    nonce: headers.nonce,
    bodySha256Hex: createHash('sha256').update(request.rawBody, 'utf8').digest('hex'),
  });
  try {
    return verify(
      'sha256',
      Buffer.from(text, 'utf8'),
      { key: publicKey, dsaEncoding: 'ieee-p1363' },
      headers.signature,
    );
  } catch {
    return false;
  }
}

/** The accepted distance between a request's timestamp and the platform's clock. */
export const terminalRequestSkewMs = limits.terminalRequestSkewSecondsMax * 1000;

/**
 * Throws `terminal_request_expired`, with the platform's time so that the terminal can correct its
 * offset, when the timestamp is outside the window.
 */
export function assertFresh(headers: SignatureHeaders, nowMs: number): void {
  if (Math.abs(headers.timestampMs - nowMs) > terminalRequestSkewMs) {
    throw new CountersignError('terminal_request_expired', { details: { serverTime: nowMs } });
  }
}

/** Until when a nonce must be remembered: as long as its timestamp would still be accepted. */
export function nonceExpiry(headers: SignatureHeaders): number {
  return headers.timestampMs + terminalRequestSkewMs;
}
