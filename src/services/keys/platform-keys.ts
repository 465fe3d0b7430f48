/**
 * Keys the platform keeps in its database, sealed under the master key. The key of the keyed hashes is
 * one: it is derived once, from the master key the platform first starts with, and stored sealed, so that
 * a rotation of the master key re-encrypts it (like any other sealed value) and every stored hash of a
 * code, session token or API key keeps matching.
 */

import { platformKeyLabel } from '../../domain/sealed-labels.js';
import type { Database, SqlExecutor } from '../database.js';
import { createSecrets, deriveCodeHashKey, type Secrets } from './secrets.js';

/** Storage of platform keys: sealed text by name. */
export interface PlatformKeyStore {
  selectSealed(tx: SqlExecutor, name: string): Promise<string | undefined>;
  /** Inserts the key unless one of that name exists; true when this call inserted it. */
  insertSealed(tx: SqlExecutor, name: string, sealed: string, nowMs: number): Promise<boolean>;
}

/** Name of the key of the keyed hashes. */
export const codeHashKeyName = 'code_hash_key';

/**
 * The key of the keyed hashes: opened from the database, or — at the first start — derived from the
 * current master key (the key earlier versions derived at every start, so their hashes still match) and
 * stored. Two processes starting at once store one key and both use it.
 */
export async function loadOrCreateCodeHashKey(
  database: Database,
  store: PlatformKeyStore,
  secrets: Pick<Secrets, 'box'>,
  masterKeyHex: string,
  nowMs: number,
): Promise<Buffer> {
  const label = platformKeyLabel(codeHashKeyName);
  const existing = await store.selectSealed(database, codeHashKeyName);
  if (existing !== undefined) return secrets.box.open(existing, label);
  await store.insertSealed(
    database,
    codeHashKeyName,
    secrets.box.seal(deriveCodeHashKey(masterKeyHex), label),
    nowMs,
  );
  const stored = await store.selectSealed(database, codeHashKeyName);
  if (stored === undefined) throw new Error('invariant: the code-hash key vanished after it was stored');
  return secrets.box.open(stored, label);
}

/**
 * The platform's secrets as a server uses them: a keyring of the current and retired master keys, and the
 * keyed hashes under the stored code-hash key.
 */
export async function openPlatformSecrets(
  database: Database,
  store: PlatformKeyStore,
  masterKeyHex: string,
  retiredMasterKeysHex: readonly string[],
  nowMs: number,
): Promise<Secrets> {
  const keyring = createSecrets(masterKeyHex, retiredMasterKeysHex);
  const codeHashKey = await loadOrCreateCodeHashKey(database, store, keyring, masterKeyHex, nowMs);
  return createSecrets(masterKeyHex, retiredMasterKeysHex, codeHashKey);
}
