/**
 * The credential a second terminal registers when it redeems its enrollment, and the signature scheme of
 * its requests (docs/terminal.md, "Signed requests").
 *
 * The terminal generates an ECDSA P-256 key pair on the device; the platform stores only the public key
 * (SubjectPublicKeyInfo, DER, base64url). Every later request of the terminal carries four headers and is
 * signed over a canonical text that binds the method, the path with its query, the terminal, a timestamp,
 * a one-time nonce and the SHA-256 of the exact body bytes. Signatures are IEEE P1363 (r || s, 64 bytes),
 * the format WebCrypto produces, as base64url.
 *
 * Pure and WebCrypto-only, like `ocra.ts`: the browser authenticator and the command line sign with this
 * module, and the platform builds the same canonical text to verify.
 */
import { bytesToHex } from './hex.js';
import { limits } from './limits.js';

/** Header names of a signed terminal request (lowercase, as Node.js presents them). */
export const terminalRequestHeaders = Object.freeze({
  terminal: 'countersign-terminal',
  timestamp: 'countersign-timestamp',
  nonce: 'countersign-nonce',
  signature: 'countersign-signature',
});

/** The first line of every canonical text: names the scheme and its version. */
export const terminalRequestScheme = 'countersign-terminal-request-v1';

/** A nonce: 16 to 48 random bytes as base64url (22 to 64 characters). */
export const noncePattern = /^[A-Za-z0-9_-]{22,64}$/;
/** A timestamp: milliseconds since the epoch, decimal. */
export const timestampPattern = /^[0-9]{1,15}$/;
/** A P-256 signature in P1363 form: 64 bytes, 86 base64url characters. */
export const signaturePattern = /^[A-Za-z0-9_-]{86}$/;
/** A P-256 SubjectPublicKeyInfo is 91 bytes (122 base64url characters); a little room for other encodings. */
export const publicKeyPattern = new RegExp(`^[A-Za-z0-9_-]{100,${limits.terminalPublicKeyLengthMax}}$`);

/** Everything the signature covers. */
export interface TerminalRequestParts {
  readonly method: string;
  /** The path and query exactly as sent, e.g. `/v1/terminal/challenges`. */
  readonly path: string;
  /** The terminal id; for redeeming an enrollment, `enrollmentKeyId(enrollmentId)`. */
  readonly keyId: string;
  readonly timestampMs: number;
  readonly nonce: string;
  /** SHA-256 of the body bytes as lowercase hex (of no bytes for a request without body). */
  readonly bodySha256Hex: string;
}

/** The key id that stands in for the terminal id while a new terminal redeems its enrollment. */
export function enrollmentKeyId(enrollmentId: string): string {
  return `enrollment:${enrollmentId}`;
}

/** The text a terminal signs, one field a line. */
export function canonicalTerminalRequest(parts: TerminalRequestParts): string {
  for (const field of [parts.method, parts.path, parts.keyId, parts.nonce, parts.bodySha256Hex]) {
    if (field.includes('\n')) throw new RangeError('a signed request field contains a line break');
  }
  return [
    terminalRequestScheme,
    parts.method.toUpperCase(),
    parts.path,
    parts.keyId,
    String(parts.timestampMs),
    parts.nonce,
    parts.bodySha256Hex,
  ].join('\n');
}

const textEncoder = new TextEncoder();

/** Base64url without padding, without Buffer. */
export function bytesToBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Decodes base64url (padding optional); throws RangeError on any other character. */
export function base64urlToBytes(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) throw new RangeError('not base64url');
  const binary = atob(text.replace(/=+$/, '').replaceAll('-', '+').replaceAll('_', '/'));
  const bytes = new Uint8Array(binary.length);
  for (let index = 0; index < binary.length; index += 1) bytes[index] = binary.charCodeAt(index);
  return bytes;
}

/** SHA-256 of a UTF-8 text, as lowercase hex. */
export async function sha256Hex(text: string): Promise<string> {
  return bytesToHex(
    new Uint8Array(await globalThis.crypto.subtle.digest('SHA-256', textEncoder.encode(text))),
  );
}

/** A fresh nonce of 16 random bytes. */
export function newNonce(): string {
  return bytesToBase64url(globalThis.crypto.getRandomValues(new Uint8Array(16)));
}

const signingAlgorithm = { name: 'ECDSA', hash: 'SHA-256' } as const;

/** A new P-256 key pair (extractable, so that the terminal can store the private key encrypted). */
export async function generateTerminalKeyPair(): Promise<{ privateKey: CryptoKey; publicKeySpki: string }> {
  const pair = await globalThis.crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
    'sign',
    'verify',
  ]);
  const spki = new Uint8Array(await globalThis.crypto.subtle.exportKey('spki', pair.publicKey));
  return { privateKey: pair.privateKey, publicKeySpki: bytesToBase64url(spki) };
}

/** Exports a private key as PKCS #8 bytes (to be encrypted before it is stored). */
export async function exportPrivateKey(privateKey: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await globalThis.crypto.subtle.exportKey('pkcs8', privateKey));
}

/** Imports a stored PKCS #8 private key for signing only, not extractable again. */
export function importPrivateKey(pkcs8: Uint8Array): Promise<CryptoKey> {
  return globalThis.crypto.subtle.importKey(
    'pkcs8',
    pkcs8 as Uint8Array<ArrayBuffer>,
    { name: 'ECDSA', namedCurve: 'P-256' },
    false,
    ['sign'],
  );
}

/** A request to sign: the body is the exact text that will be sent (empty for none). */
export interface TerminalRequestToSign {
  readonly method: string;
  readonly path: string;
  readonly keyId: string;
  readonly body: string;
  readonly timestampMs: number;
  readonly nonce?: string;
}

/**
 * Signs a request and returns the headers to send with it. For an enrollment the terminal header is left
 * out: the platform takes the key id from the enrollment in the body.
 */
export async function signTerminalRequest(
  privateKey: CryptoKey,
  request: TerminalRequestToSign,
): Promise<Record<string, string>> {
  const nonce = request.nonce ?? newNonce();
  const text = canonicalTerminalRequest({
    method: request.method,
    path: request.path,
    keyId: request.keyId,
    timestampMs: request.timestampMs,
    nonce,
    bodySha256Hex: await sha256Hex(request.body),
  });
  const signature = new Uint8Array(
    await globalThis.crypto.subtle.sign(signingAlgorithm, privateKey, textEncoder.encode(text)),
  );
  const headers: Record<string, string> = {
    [terminalRequestHeaders.timestamp]: String(request.timestampMs),
    [terminalRequestHeaders.nonce]: nonce,
    [terminalRequestHeaders.signature]: bytesToBase64url(signature),
  };
  if (!request.keyId.startsWith('enrollment:')) headers[terminalRequestHeaders.terminal] = request.keyId;
  return headers;
}
