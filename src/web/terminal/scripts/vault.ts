/**
 * Page script module: where the browser authenticator keeps its vault. The vault itself — the OCRA key
 * and the P-256 signing key sealed with AES-256-GCM under a key derived from the payer's verification code
 * by PBKDF2-SHA256, the terminal, payer, platform and suite in clear and bound as associated data — is
 * `src/terminal-core/terminal-vault.ts`, shared with the command line; this module keeps it in IndexedDB.
 *
 * A short verification code is guessable offline by whoever copies this browser profile: the encryption
 * keeps the keys from anyone reading the storage casually, not from a determined thief of the device.
 */
import {
  type BrowserVault,
  isBrowserVault,
  openTerminalVault,
  sealBrowserVault,
  type TerminalIdentity,
  type TerminalSecrets,
} from '../../../terminal-core/terminal-vault.js';

/** The record in IndexedDB. */
export type StoredTerminal = BrowserVault;

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

/** Encrypts and stores the terminal, replacing any earlier one. */
export async function saveTerminal(
  identity: TerminalIdentity,
  secrets: TerminalSecrets,
  verificationCode: string,
): Promise<StoredTerminal> {
  const record = await sealBrowserVault(identity, secrets, verificationCode);
  await withStore('readwrite', (store) => store.put(record, recordKey));
  return record;
}

/** The stored terminal, or undefined when this browser has none. */
export async function loadTerminal(): Promise<StoredTerminal | undefined> {
  const record: unknown = await withStore('readonly', (store) => store.get(recordKey));
  return isBrowserVault(record) ? record : undefined;
}

/** Decrypts the keys with the verification code; throws WrongCodeError when it does not open them. */
export async function openSecrets(
  record: StoredTerminal,
  verificationCode: string,
): Promise<TerminalSecrets> {
  const secrets = await openTerminalVault(record, verificationCode);
  if (secrets === undefined) throw new WrongCodeError();
  return secrets;
}

/** Deletes the stored terminal from this browser. */
export async function forgetTerminal(): Promise<void> {
  await withStore('readwrite', (store) => store.delete(recordKey));
}
