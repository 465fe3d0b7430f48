/**
 * Secrets at rest. Everything the platform must read back in clear (a payer's verification code, a
 * terminal's OCRA key, a delivery payload) is sealed with AES-256-GCM; everything it only has to
 * recognise again (first codes, second codes, session tokens, API keys) is stored as a keyed hash.
 *
 * Both keys are derived from one 32-byte master key with HKDF-SHA256 under distinct `info` labels, so
 * that a key is never used for two purposes and a leak of one derived key does not reveal the other.
 *
 * A sealed value is compact text: `v1.<keyId>.<iv>.<ciphertext>.<tag>` (the last three base64url).
 * The associated data given by the caller (e.g. `payer:<id>:verification_code`) is authenticated but not
 * stored, so a sealed value copied into another row or column no longer opens.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { hexToBytes } from '../../domain/hex.js';
import { limits } from '../../domain/limits.js';

/** Keys by id; `currentKeyId` seals, every key opens (older keys stay until their values are resealed). */
export interface Keyring {
  readonly currentKeyId: string;
  readonly keys: ReadonlyMap<string, Buffer>;
}

/** Why a sealed value did not open. */
export type SecretOpenFailure = 'malformed' | 'unknown_key' | 'authentication_failed';

/**
 * A sealed value that cannot be opened: not in the sealed format, sealed under a key this keyring does
 * not hold, or altered (ciphertext, IV, tag or associated data). The message never repeats the value.
 */
export class SecretOpenError extends Error {
  readonly reason: SecretOpenFailure;

  constructor(reason: SecretOpenFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SecretOpenError';
    this.reason = reason;
  }
}

const formatVersion = 'v1';
const keyBytes = 32;
const ivBytes = 12;
const tagBytes = 16;
const keyIdPattern = /^[A-Za-z0-9_-]{1,64}$/;
// Base64url of the largest plaintext, plus IV, tag and header, rounded up generously.
const sealedCharactersMax = Math.ceil((limits.sealPlaintextBytesMax * 4) / 3) + 256;

interface SealedParts {
  readonly keyId: string;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

/** Decodes base64url strictly: Node's decoder skips bad characters, which would hide a corrupted value. */
function strictBase64url(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

function parseSealed(sealed: string): SealedParts {
  const malformed = () =>
    new SecretOpenError('malformed', 'The sealed value is not in the v1 sealed format.');
  if (sealed.length > sealedCharactersMax) throw malformed();
  const parts = sealed.split('.');
  if (parts.length !== 5) throw malformed();
  const [version, keyId, ivText, ciphertextText, tagText] = parts as [string, string, string, string, string];
  if (version !== formatVersion || !keyIdPattern.test(keyId)) throw malformed();
  const iv = strictBase64url(ivText);
  const ciphertext = strictBase64url(ciphertextText);
  const tag = strictBase64url(tagText);
  if (iv?.length !== ivBytes || ciphertext === undefined || tag?.length !== tagBytes) throw malformed();
  return { keyId, iv, ciphertext, tag };
}

/**
 * The associated data actually authenticated: the caller's, prefixed by the format version and key id, so
 * that the header of a sealed value is covered by the tag as well.
 */
function boundAssociatedData(keyId: string, associatedData: string): Buffer {
  return Buffer.from(`${formatVersion}.${keyId}.${associatedData}`, 'utf8');
}

/** Authenticated encryption of small secrets under a keyring (AES-256-GCM, random 96-bit IV). */
export class SecretBox {
  private readonly keyring: Keyring;

  /** Checks the keyring: the current key is present, every id is a safe token, every key is 32 bytes. */
  constructor(keyring: Keyring) {
    for (const [keyId, key] of keyring.keys) {
      if (!keyIdPattern.test(keyId)) throw new RangeError(`key id ${JSON.stringify(keyId)} is not a token`);
      if (key.length !== keyBytes) throw new RangeError(`key ${keyId} is not ${keyBytes} bytes`);
    }
    if (!keyring.keys.has(keyring.currentKeyId))
      throw new RangeError('the current key id is not in the keyring');
    this.keyring = { currentKeyId: keyring.currentKeyId, keys: new Map(keyring.keys) };
  }

  /** Seals `plaintext` under the current key, bound to `associatedData` (which names where it is stored). */
  seal(plaintext: Buffer | string, associatedData: string): string {
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    if (bytes.length > limits.sealPlaintextBytesMax) {
      throw new RangeError(`a sealed plaintext holds at most ${limits.sealPlaintextBytesMax} bytes`);
    }
    const keyId = this.keyring.currentKeyId;
    const iv = randomBytes(ivBytes);
    const cipher = createCipheriv('aes-256-gcm', this.keyring.keys.get(keyId)!, iv, {
      authTagLength: tagBytes,
    });
    cipher.setAAD(boundAssociatedData(keyId, associatedData));
    const ciphertext = Buffer.concat([cipher.update(bytes), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [formatVersion, keyId, iv, ciphertext, tag]
      .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
      .join('.');
  }

  /**
   * Opens a sealed value with the same associated data it was sealed with. Throws `SecretOpenError` when
   * the value is malformed, its key is unknown, or anything about it was altered.
   */
  open(sealed: string, associatedData: string): Buffer {
    const { keyId, iv, ciphertext, tag } = parseSealed(sealed);
    const key = this.keyring.keys.get(keyId);
    if (key === undefined)
      throw new SecretOpenError('unknown_key', `No key with id ${keyId} is in the keyring.`);
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: tagBytes });
    decipher.setAAD(boundAssociatedData(keyId, associatedData));
    decipher.setAuthTag(tag);
    try {
      return Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    } catch (error) {
      throw new SecretOpenError('authentication_failed', 'The sealed value does not authenticate.', {
        cause: error,
      });
    }
  }

  /** True when `sealed` was sealed under a key that is no longer current (to reseal during rotation). */
  needsReseal(sealed: string): boolean {
    return parseSealed(sealed).keyId !== this.keyring.currentKeyId;
  }
}

/** The platform's secrets: a sealing box and a keyed hash, both from the master key. */
export interface Secrets {
  readonly box: SecretBox;
  /**
   * Hex HMAC-SHA256, under the code-hash key, of `purpose` and `parts`, each length-prefixed so that
   * `('ab', 'c')` and `('a', 'bc')` differ. `purpose` (`first_code`, `second_code`, `session_token`,
   * `api_key`, …) separates the uses, so a hash stored for one can never match a value of another.
   */
  keyedHash(purpose: string, ...parts: string[]): string;
  /** See `constantTimeEqualHex`. */
  constantTimeEqualHex(a: string, b: string): boolean;
}

const hkdfInfoSealingKey = 'countersign/v1/sealing-key';
const hkdfInfoCodeHashKey = 'countersign/v1/code-hash-key';
const hkdfInfoKeyId = 'countersign/v1/key-id';
const purposePattern = /^[a-z][a-z0-9_]{0,63}$/;
const hexPattern = /^[0-9a-f]+$/;

function deriveKey(masterKey: Uint8Array, info: string, length = keyBytes): Buffer {
  // The master key is uniformly random, so HKDF's extract step needs no salt (RFC 5869, section 3.1).
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), info, length));
}

/** Decodes a master key given as 64 hex digits; the error never repeats the key. */
export function parseMasterKeyHex(masterKeyHex: string): Uint8Array {
  const bytes = hexToBytes(masterKeyHex);
  if (bytes.length !== keyBytes)
    throw new RangeError(`the master key must be ${keyBytes} bytes (64 hex digits)`);
  return bytes;
}

/**
 * The id a master key's sealing key is filed under: derived from the key (under its own HKDF label, so it
 * reveals nothing about the key), so that a value sealed under an older master key names that key.
 */
export function masterKeyId(masterKey: Uint8Array): string {
  return deriveKey(masterKey, hkdfInfoKeyId, 6).toString('base64url');
}

function lengthPrefixed(parts: readonly string[]): Buffer {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    pieces.push(Buffer.from(`${bytes.length}:`, 'ascii'), bytes);
  }
  return Buffer.concat(pieces);
}

/**
 * Compares two hex strings (keyed hashes) with `crypto.timingSafeEqual`, so that the time taken does not
 * tell how many leading characters of a guess were right. Returns false, without throwing, when the
 * lengths differ (lengths of our hashes are public) or when either is empty or not hex.
 */
export function constantTimeEqualHex(a: string, b: string): boolean {
  // Compares the characters, not decoded bytes: Node's hex decoder stops at the first bad digit, which
  // would make two different malformed strings look equal.
  const left = Buffer.from(a.toLowerCase(), 'utf8');
  const right = Buffer.from(b.toLowerCase(), 'utf8');
  if (left.length !== right.length || left.length === 0) return false;
  return timingSafeEqual(left, right) && hexPattern.test(a.toLowerCase());
}

/**
 * The key of the keyed hashes as first derived from a master key. A platform derives it once, from the
 * master key it starts with, and keeps it sealed in the database (`platform-keys.ts`), so that a later
 * rotation of the master key re-encrypts it instead of invalidating every stored hash.
 */
export function deriveCodeHashKey(masterKeyHex: string): Buffer {
  return deriveKey(parseMasterKeyHex(masterKeyHex), hkdfInfoCodeHashKey);
}

/**
 * Builds the platform's secrets from the master key (64 hex digits). `retiredMasterKeysHex` are earlier
 * master keys whose sealed values must still open until they are resealed. `codeHashKey` is the key of the
 * keyed hashes as kept by the platform; without it the key is derived from the current master key, which
 * is what it was at the first start of a platform that has never rotated its master key.
 */
export function createSecrets(
  masterKeyHex: string,
  retiredMasterKeysHex: readonly string[] = [],
  codeHashKey?: Uint8Array,
): Secrets {
  const masterKey = parseMasterKeyHex(masterKeyHex);
  const currentKeyId = masterKeyId(masterKey);
  const keys = new Map<string, Buffer>();
  for (const retiredHex of retiredMasterKeysHex) {
    const retired = parseMasterKeyHex(retiredHex);
    keys.set(masterKeyId(retired), deriveKey(retired, hkdfInfoSealingKey));
  }
  keys.set(currentKeyId, deriveKey(masterKey, hkdfInfoSealingKey));
  if (keys.size !== retiredMasterKeysHex.length + 1) throw new RangeError('two master keys share a key id');
  if (codeHashKey !== undefined && codeHashKey.length !== keyBytes)
    throw new RangeError(`the code-hash key must be ${keyBytes} bytes`);
  const hashKey =
    codeHashKey === undefined ? deriveKey(masterKey, hkdfInfoCodeHashKey) : Buffer.from(codeHashKey);
  const box = new SecretBox({ currentKeyId, keys });
  const keyedHash = (purpose: string, ...parts: string[]): string => {
    if (!purposePattern.test(purpose)) throw new RangeError(`keyed-hash purpose ${JSON.stringify(purpose)}`);
    return createHmac('sha256', hashKey)
      .update(lengthPrefixed([purpose, ...parts]))
      .digest('hex');
  };
  return Object.freeze({ box, keyedHash, constantTimeEqualHex });
}

/** Sealing (AES-256-GCM) and keyed hashing (HMAC-SHA256) under keys derived from the master key. */
export interface MethodSecrets {
  readonly box: {
    seal(plaintext: string | Buffer, associatedData: string): string;
    open(sealed: string, associatedData: string): Buffer;
  };
  keyedHash(purpose: string, ...parts: string[]): string;
  constantTimeEqualHex(a: string, b: string): boolean;
}
