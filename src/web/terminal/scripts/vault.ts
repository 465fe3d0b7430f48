/**
 * Page script module: the browser authenticator's key store. The terminal's OCRA key and its P-256
 * signing key are kept in IndexedDB only encrypted, with AES-256-GCM under a key derived from the payer's
 * verification code by PBKDF2-SHA256 (600,000 iterations, OWASP's figure for it; WebCrypto offers no
 * memory-hard function). The terminal, payer, platform and suite are stored in clear — the page shows them
 * before unlocking — and bound to the ciphertext as associated data, so that they cannot be swapped.
 *
 * A short verification code is guessable offline by whoever copies this browser profile: the encryption
 * keeps the keys from anyone reading the storage casually, not from a determined thief of the device.
 */
import { base64urlToBytes, bytesToBase64url } from '../../../domain/enrollment-credential.js';

/** What the page shows without the verification code. */
export interface TerminalIdentity {
  readonly terminalId: string;
  readonly payerId: string;
  readonly platformUrl: string;
  readonly suite: string;
  readonly label: string | null;
}

/** What is encrypted. */
export interface TerminalSecrets {
  readonly ocraKeyHex: string;
  /** PKCS #8 of the signing key, base64url. */
  readonly signingKeyPkcs8: string;
}

/** The record in IndexedDB. */
export interface StoredTerminal extends TerminalIdentity {
  readonly format: 'countersign-browser-terminal/1';
  readonly kdf: { readonly name: 'PBKDF2-SHA256'; readonly iterations: number; readonly salt: string };
  readonly cipher: { readonly name: 'AES-256-GCM'; readonly iv: string; readonly ciphertext: string };
}

/** PBKDF2 iterations of new records. */
export const pbkdf2Iterations = 600_000;

/** The verification code does not open the stored keys (or the record was altered). */
export class WrongCodeError extends Error {
  constructor() {
    super('This verification code does not open the keys stored in this browser.');
    this.name = 'WrongCodeError';
  }
}

const databaseName = 'countersign-terminal';
const storeName = 'terminal';
const recordKey = 'current';
const encoder = new TextEncoder();

function openDatabase(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(databaseName, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(storeName);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function withStore<T>(
  mode: IDBTransactionMode,
  work: (store: IDBObjectStore) => IDBRequest<T>,
): Promise<T> {
  const database = await openDatabase();
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = database.transaction(storeName, mode);
      const request = work(transaction.objectStore(storeName));
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  } finally {
    database.close();
  }
}

function associatedData(identity: TerminalIdentity): Uint8Array<ArrayBuffer> {
  return encoder.encode(
    JSON.stringify([
      'countersign-browser-terminal/1',
      identity.terminalId,
      identity.payerId,
      identity.platformUrl,
      identity.suite,
    ]),
  );
}

async function deriveKey(verificationCode: string, salt: Uint8Array, iterations: number): Promise<CryptoKey> {
  const material = await crypto.subtle.importKey('raw', encoder.encode(verificationCode), 'PBKDF2', false, [
    'deriveKey',
  ]);
  return crypto.subtle.deriveKey(
    { name: 'PBKDF2', hash: 'SHA-256', salt: salt as Uint8Array<ArrayBuffer>, iterations },
    material,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  );
}

/** Encrypts and stores the terminal, replacing any earlier one. */
export async function saveTerminal(
  identity: TerminalIdentity,
  secrets: TerminalSecrets,
  verificationCode: string,
): Promise<StoredTerminal> {
  const salt = crypto.getRandomValues(new Uint8Array(16));
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const key = await deriveKey(verificationCode, salt, pbkdf2Iterations);
  const ciphertext = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: associatedData(identity) },
    key,
    encoder.encode(JSON.stringify(secrets)),
  );
  const record: StoredTerminal = {
    format: 'countersign-browser-terminal/1',
    ...identity,
    kdf: { name: 'PBKDF2-SHA256', iterations: pbkdf2Iterations, salt: bytesToBase64url(salt) },
    cipher: {
      name: 'AES-256-GCM',
      iv: bytesToBase64url(iv),
      ciphertext: bytesToBase64url(new Uint8Array(ciphertext)),
    },
  };
  await withStore('readwrite', (store) => store.put(record, recordKey));
  return record;
}

/** The stored terminal, or undefined when this browser has none. */
export async function loadTerminal(): Promise<StoredTerminal | undefined> {
  const record = (await withStore('readonly', (store) => store.get(recordKey))) as StoredTerminal | undefined;
  return record?.format === 'countersign-browser-terminal/1' ? record : undefined;
}

/** Decrypts the keys with the verification code; throws WrongCodeError when it does not open them. */
export async function openSecrets(
  record: StoredTerminal,
  verificationCode: string,
): Promise<TerminalSecrets> {
  const key = await deriveKey(verificationCode, base64urlToBytes(record.kdf.salt), record.kdf.iterations);
  try {
    const plaintext = await crypto.subtle.decrypt(
      {
        name: 'AES-GCM',
        iv: base64urlToBytes(record.cipher.iv) as Uint8Array<ArrayBuffer>,
        additionalData: associatedData(record),
      },
      key,
      base64urlToBytes(record.cipher.ciphertext) as Uint8Array<ArrayBuffer>,
    );
    return JSON.parse(new TextDecoder().decode(plaintext)) as TerminalSecrets;
  } catch {
    throw new WrongCodeError();
  }
}

/** Deletes the stored terminal from this browser. */
export async function forgetTerminal(): Promise<void> {
  await withStore('readwrite', (store) => store.delete(recordKey));
}
