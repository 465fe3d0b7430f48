/**
 * The vault of a second terminal: how its OCRA key and its P-256 signing key are sealed under the payer's
 * verification code, written once for the command line (a JSON file) and the browser authenticator (an
 * IndexedDB record). Both seal the secrets as JSON with AES-256-GCM; the terminal, payer, platform and
 * suite stay in clear (they are shown before unlocking) and are bound to the ciphertext as associated
 * data, so that they cannot be swapped. The two vaults differ only where their hosts differ:
 *
 * - the file (`countersign-terminal/1`) derives its key with Argon2id (64 MiB, 3 passes, 1 lane), so that
 *   each guess of a stolen file costs memory; WebCrypto has no Argon2id, so the caller passes it in;
 * - the browser record (`countersign-browser-terminal/1`) derives its key with PBKDF2-SHA256 (600,000
 *   iterations, OWASP's figure for it), the best WebCrypto offers, and keeps the GCM tag at the end of the
 *   ciphertext, as WebCrypto returns it, where the file keeps it in a field of its own.
 *
 * Both formats are fixed: a vault written by an earlier release must open (the fixtures in
 * `test/fixtures/terminal-vault/` keep that true). Pure and WebCrypto-only: no I/O, no Node.js module.
 */
import { base64urlToBytes, bytesToBase64url } from '../domain/enrollment-credential.js';
import { limits } from '../domain/limits.js';

/** The format tags, each bound into the associated data of its vaults. */
export const vaultFormats = Object.freeze({
  file: 'countersign-terminal/1',
  browser: 'countersign-browser-terminal/1',
} as const);

/** What a vault says in clear. */
export interface TerminalIdentity {
  readonly terminalId: string;
  readonly payerId: string;
  readonly platformUrl: string;
  readonly suite: string;
  readonly label: string | null;
}

/** What a vault keeps sealed. */
export interface TerminalSecrets {
  readonly ocraKeyHex: string;
  /** PKCS #8 of the P-256 signing key, base64url. */
  readonly signingKeyPkcs8: string;
}

/** Argon2id parameters of a file; the salt is base64url. */
export interface Argon2idParameters {
  readonly name: 'argon2id';
  readonly memoryKibibytes: number;
  readonly iterations: number;
  readonly parallelism: number;
  readonly salt: string;
}

/** PBKDF2 parameters of a browser record; the salt is base64url. */
export interface Pbkdf2Parameters {
  readonly name: 'PBKDF2-SHA256';
  readonly iterations: number;
  readonly salt: string;
}

/** The command line's vault, as its file holds it. */
export interface TerminalFileVault extends TerminalIdentity {
  readonly format: typeof vaultFormats.file;
  readonly kdf: Argon2idParameters;
  readonly cipher: {
    readonly name: 'AES-256-GCM';
    readonly iv: string;
    readonly ciphertext: string;
    readonly tag: string;
  };
}

/** The browser authenticator's vault, as IndexedDB holds it. */
export interface BrowserVault extends TerminalIdentity {
  readonly format: typeof vaultFormats.browser;
  readonly kdf: Pbkdf2Parameters;
  /** The ciphertext ends with the 16-byte GCM tag. */
  readonly cipher: { readonly name: 'AES-256-GCM'; readonly iv: string; readonly ciphertext: string };
}

/** Either vault. */
export type TerminalVault = TerminalFileVault | BrowserVault;

/**
 * Argon2id as the host offers it: the 32 raw key bytes for the code and the parameters. WebCrypto has no
 * memory-hard function, so the command line passes in its native implementation.
 */
export type Argon2idHash = (verificationCode: string, parameters: Argon2idParameters) => Promise<Uint8Array>;

/** Argon2id parameters of new files: 64 MiB, 3 passes, 1 lane. */
export const argon2idDefaults = Object.freeze({ memoryKibibytes: 65536, iterations: 3, parallelism: 1 });

/** PBKDF2 iterations of new browser records. */
export const pbkdf2IterationsDefault = 600_000;

const saltBytes = 16;
const ivBytes = 12;
const tagBytes = 16;
const encoder = new TextEncoder();

function randomBytes(length: number): Uint8Array<ArrayBuffer> {
  return globalThis.crypto.getRandomValues(new Uint8Array(length));
}

/** The clear part a vault binds: its format and who the terminal is (the label is not bound). */
function associatedData(format: string, identity: TerminalIdentity): Uint8Array<ArrayBuffer> {
  return encoder.encode(
    JSON.stringify([format, identity.terminalId, identity.payerId, identity.platformUrl, identity.suite]),
  );
}

/** The identity fields alone, in their written order, whatever else the object carries. */
function identityOf(identity: TerminalIdentity): TerminalIdentity {
  return {
    terminalId: identity.terminalId,
    payerId: identity.payerId,
    platformUrl: identity.platformUrl,
    suite: identity.suite,
    label: identity.label,
  };
}

async function pbkdf2Key(
  verificationCode: string,
  parameters: Pbkdf2Parameters,
  salt: Uint8Array,
): Promise<CryptoKey> {
  const material = await globalThis.crypto.subtle.importKey(
    'raw',
    encoder.encode(verificationCode),
    'PBKDF2',
    false,
    ['deriveKey'],
  );
  return globalThis.crypto.subtle.deriveKey(
    {
      name: 'PBKDF2',
      hash: 'SHA-256',
      salt: salt as Uint8Array<ArrayBuffer>,
      iterations: parameters.iterations,
    },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

async function argon2idKey(
  verificationCode: string,
  parameters: Argon2idParameters,
  argon2id: Argon2idHash,
): Promise<CryptoKey> {
  const raw = await argon2id(verificationCode, parameters);
  return globalThis.crypto.subtle.importKey('raw', raw as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
}

/** AES-256-GCM over the secrets as JSON; the result ends with the tag, as WebCrypto gives it. */
async function seal(
  key: CryptoKey,
  iv: Uint8Array<ArrayBuffer>,
  format: string,
  identity: TerminalIdentity,
  secrets: TerminalSecrets,
): Promise<Uint8Array> {
  const plaintext = encoder.encode(
    JSON.stringify({ ocraKeyHex: secrets.ocraKeyHex, signingKeyPkcs8: secrets.signingKeyPkcs8 }),
  );
  const sealed = await globalThis.crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: associatedData(format, identity) },
    key,
    plaintext,
  );
  return new Uint8Array(sealed);
}

/** Seals the secrets into a new file vault, with a fresh salt and IV. */
export async function sealTerminalFile(
  identity: TerminalIdentity,
  secrets: TerminalSecrets,
  verificationCode: string,
  argon2id: Argon2idHash,
): Promise<TerminalFileVault> {
  const kdf: Argon2idParameters = {
    name: 'argon2id',
    ...argon2idDefaults,
    salt: bytesToBase64url(randomBytes(saltBytes)),
  };
  const iv = randomBytes(ivBytes);
  const key = await argon2idKey(verificationCode, kdf, argon2id);
  const sealed = await seal(key, iv, vaultFormats.file, identity, secrets);
  return {
    format: vaultFormats.file,
    ...identityOf(identity),
    kdf,
    cipher: {
      name: 'AES-256-GCM',
      iv: bytesToBase64url(iv),
      ciphertext: bytesToBase64url(sealed.subarray(0, sealed.length - tagBytes)),
      tag: bytesToBase64url(sealed.subarray(sealed.length - tagBytes)),
    },
  };
}

/** Seals the secrets into a new browser vault, with a fresh salt and IV. */
export async function sealBrowserVault(
  identity: TerminalIdentity,
  secrets: TerminalSecrets,
  verificationCode: string,
): Promise<BrowserVault> {
  const kdf: Pbkdf2Parameters = {
    name: 'PBKDF2-SHA256',
    iterations: pbkdf2IterationsDefault,
    salt: bytesToBase64url(randomBytes(saltBytes)),
  };
  const iv = randomBytes(ivBytes);
  const key = await pbkdf2Key(verificationCode, kdf, base64urlToBytes(kdf.salt));
  const sealed = await seal(key, iv, vaultFormats.browser, identity, secrets);
  return {
    format: vaultFormats.browser,
    ...identityOf(identity),
    kdf,
    cipher: { name: 'AES-256-GCM', iv: bytesToBase64url(iv), ciphertext: bytesToBase64url(sealed) },
  };
}

/** The vault's ciphertext with its tag at the end, whichever way the vault keeps the tag. */
function sealedBytes(vault: TerminalVault): Uint8Array<ArrayBuffer> {
  const ciphertext = base64urlToBytes(vault.cipher.ciphertext);
  if (vault.format === vaultFormats.browser) return ciphertext as Uint8Array<ArrayBuffer>;
  const tag = base64urlToBytes(vault.cipher.tag);
  const joined = new Uint8Array(ciphertext.length + tag.length);
  joined.set(ciphertext);
  joined.set(tag, ciphertext.length);
  return joined;
}

/** Whether a count a vault names is a whole number from 1 to `max`. */
function withinCost(value: unknown, max: number): boolean {
  return Number.isSafeInteger(value) && (value as number) >= 1 && (value as number) <= max;
}

/** Whether the key derivation a vault asks for stays within the costs `limits` allows an opener to pay. */
function affordable(vault: TerminalVault): boolean {
  if (vault.format === vaultFormats.browser) {
    return withinCost(vault.kdf.iterations, limits.vaultPbkdf2IterationsMax);
  }
  return (
    withinCost(vault.kdf.memoryKibibytes, limits.vaultArgon2idMemoryKibibytesMax) &&
    withinCost(vault.kdf.iterations, limits.vaultArgon2idIterationsMax) &&
    withinCost(vault.kdf.parallelism, limits.vaultArgon2idParallelismMax)
  );
}

/**
 * Opens a vault with the verification code: its secrets, or undefined when the code does not open it (a
 * wrong code and an altered vault look the same, and so does a vault that asks its key derivation for more
 * than `limits` allows, which is refused before any of it runs). A file vault needs `argon2id`; without
 * it, it throws.
 */
export async function openTerminalVault(
  vault: TerminalVault,
  verificationCode: string,
  argon2id?: Argon2idHash,
): Promise<TerminalSecrets | undefined> {
  if (!affordable(vault)) return undefined;
  let key: CryptoKey;
  if (vault.format === vaultFormats.browser) {
    let salt: Uint8Array;
    try {
      salt = base64urlToBytes(vault.kdf.salt);
    } catch {
      return undefined;
    }
    key = await pbkdf2Key(verificationCode, vault.kdf, salt);
  } else {
    if (argon2id === undefined) throw new TypeError('a terminal file needs Argon2id to open');
    key = await argon2idKey(verificationCode, vault.kdf, argon2id);
  }
  try {
    const plaintext = await globalThis.crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: base64urlToBytes(vault.cipher.iv) as Uint8Array<ArrayBuffer>,
        additionalData: associatedData(vault.format, vault),
      },
      key,
      sealedBytes(vault),
    );
    return JSON.parse(new TextDecoder().decode(plaintext)) as TerminalSecrets;
  } catch {
    return undefined;
  }
}

/** Whether a value read from a file is a file vault of this version (its fields are checked on opening). */
export function isTerminalFileVault(value: unknown): value is TerminalFileVault {
  const vault = value as Partial<TerminalFileVault> | null;
  return vault?.format === vaultFormats.file && vault.kdf?.name === 'argon2id';
}

/** Whether a value read from IndexedDB is a browser vault of this version. */
export function isBrowserVault(value: unknown): value is BrowserVault {
  return (value as Partial<BrowserVault> | null)?.format === vaultFormats.browser;
}
