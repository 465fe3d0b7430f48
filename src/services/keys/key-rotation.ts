/**
 * Master-key rotation without downtime. Servers are restarted with the new key as `MASTER_KEY` and the
 * old one in `MASTER_KEYS_RETIRED`: they seal new values under the new key and still open old ones. The
 * rotation then re-encrypts every sealed value still under a retired key, in batches of bounded size, each
 * batch one short transaction, while the servers go on serving; `countersign keys rotate` runs it to the
 * end, and a server with retired keys configured also runs it in the background. When no value is left
 * under a retired key, the retired key can be removed from the configuration.
 *
 * Keyed hashes are not re-computed: their key is itself a sealed value (`platform-keys.ts`), re-encrypted
 * with the rest, so stored hashes of codes, session tokens and API keys keep matching.
 */
import { limits } from '../../domain/limits.js';
import type { Database, SqlExecutor } from '../database.js';
import type { SecretBox } from './secrets.js';

/** A value found under a key other than the current one. */
export interface StaleSealedValue {
  /** The values of the row's key columns, to update exactly that row. */
  readonly rowKey: readonly string[];
  readonly sealed: string;
  /** The associated data it was sealed with. */
  readonly associatedData: string;
}

/** Where sealed values live: one entry per sealed column of the schema. */
export interface SealedValueStore {
  /** Every sealed column, as `table.column`. */
  readonly columns: readonly string[];
  /** Up to `limit` values of `column` not sealed under `currentKeyId`, locked, skipping locked rows. */
  selectStale(
    tx: SqlExecutor,
    column: string,
    currentKeyId: string,
    limit: number,
  ): Promise<StaleSealedValue[]>;
  /** Replaces one value if it is still `oldSealed`; false when someone changed it meanwhile. */
  replace(
    tx: SqlExecutor,
    column: string,
    rowKey: readonly string[],
    oldSealed: string,
    newSealed: string,
  ): Promise<boolean>;
  /** How many values of `column` are sealed under each key id. */
  countByKeyId(tx: SqlExecutor, column: string): Promise<Map<string, number>>;
}

/** What a rotation did. */
export interface RotationReport {
  readonly resealed: number;
  readonly batches: number;
  /** Values per column and key id after the rotation. */
  readonly remaining: ReadonlyMap<string, ReadonlyMap<string, number>>;
}

/** Re-encrypts sealed values under the current master key. */
export class MasterKeyRotation {
  constructor(
    private readonly database: Database,
    private readonly box: SecretBox,
    /** The id of the current master key: every value ends up sealed under it. */
    readonly currentKeyId: string,
    private readonly store: SealedValueStore,
  ) {}

  /**
   * One pass: reseals at most `batchSize` values of each column, one transaction per column. Returns how
   * many values it resealed (0 when nothing is left under a retired key).
   */
  async resealBatch(batchSize: number = limits.resealBatchSizeMax): Promise<number> {
    const limit = Math.max(1, Math.min(batchSize, limits.resealBatchSizeMax));
    let resealed = 0;
    for (const column of this.store.columns) {
      resealed += await this.database.transaction(async (tx) => {
        const stale = await this.store.selectStale(tx, column, this.currentKeyId, limit);
        let count = 0;
        for (const value of stale) {
          // Opening fails loudly for a value under a key that is in neither MASTER_KEY nor MASTER_KEYS_RETIRED.
          const plaintext = this.box.open(value.sealed, value.associatedData);
          const fresh = this.box.seal(plaintext, value.associatedData);
          plaintext.fill(0);
          if (await this.store.replace(tx, column, value.rowKey, value.sealed, fresh)) count += 1;
        }
        return count;
      });
    }
    return resealed;
  }

  /** Runs passes until nothing is left under a retired key; `onBatch` hears of each pass. */
  async rotate(
    batchSize: number = limits.resealBatchSizeMax,
    onBatch?: (resealed: number) => void,
  ): Promise<RotationReport> {
    let resealed = 0;
    let batches = 0;
    for (;;) {
      const count = await this.resealBatch(batchSize);
      if (count === 0) break;
      resealed += count;
      batches += 1;
      onBatch?.(count);
    }
    return { resealed, batches, remaining: await this.status() };
  }

  /** Values per column and key id. */
  async status(): Promise<Map<string, Map<string, number>>> {
    const result = new Map<string, Map<string, number>>();
    for (const column of this.store.columns) {
      result.set(column, await this.store.countByKeyId(this.database, column));
    }
    return result;
  }

  /** Values still sealed under a key other than the current one. */
  async staleCount(): Promise<number> {
    let stale = 0;
    for (const counts of (await this.status()).values()) {
      for (const [keyId, count] of counts) if (keyId !== this.currentKeyId) stale += count;
    }
    return stale;
  }
}
