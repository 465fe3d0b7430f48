/**
 * The ledger as a service: batches of transfers, each batch one database transaction, per-transfer
 * results. Other services compose the `*In` functions inside their own transactions instead.
 */
import type { Clock } from '../../domain/clock.js';
import type { Account, TransferRequest, TransferResult } from '../../domain/ledger.js';
import type { LedgerVerification } from '../../domain/ledger-verification.js';
import { limits } from '../../domain/limits.js';
import type { Database, SqlExecutor } from '../database.js';
import { derivedId, type KeyedHash } from '../ids.js';

/** A new account. */
export interface AccountRequest {
  readonly id: string;
  readonly currency: string;
  readonly kind: Account['kind'];
  readonly ownerId?: string;
  readonly debitsMustNotExceedCredits: boolean;
  readonly creditsMustNotExceedDebits?: boolean;
}

/** A batch of transfers decided under its locks, not yet written. */
export interface PlannedTransfers {
  /** One result per request, in order, as they will be once written. */
  readonly results: readonly TransferResult[];
  /** Records the batch: call it once, before the transaction commits. */
  write(): Promise<void>;
}

/** What the ledger needs from storage; `store/ledger-repository` implements it in SQL. */
export interface LedgerStore {
  insertAccounts(tx: SqlExecutor, requests: readonly AccountRequest[], nowMs: number): Promise<Account[]>;
  selectAccounts(tx: SqlExecutor, ids: readonly string[], lock: boolean): Promise<Account[]>;
  createTransfersIn(
    tx: SqlExecutor,
    requests: readonly TransferRequest[],
    nowMs: number,
  ): Promise<TransferResult[]>;
  /**
   * `createTransfersIn` in two steps: the rows locked and every transfer decided, then `write()` to record
   * the decisions, which a caller may send together with statements of its own (one round trip).
   */
  planTransfersIn(
    tx: SqlExecutor,
    requests: readonly TransferRequest[],
    nowMs: number,
    alongside?: () => Promise<unknown>,
  ): Promise<PlannedTransfers>;
  selectDuePending(tx: SqlExecutor, nowMs: number, limit: number): Promise<string[]>;
  verifyLedgerIn(tx: SqlExecutor): Promise<LedgerVerification>;
}

/** The ledger's operations over one database. */
export class LedgerService {
  constructor(
    private readonly database: Database,
    private readonly clock: Clock,
    private readonly store: LedgerStore,
    /** The platform's keyed hash, under which expiry transfer ids are derived. */
    private readonly keyedHash: KeyedHash,
  ) {}

  /** Creates accounts (idempotent by id). */
  createAccounts(requests: readonly AccountRequest[]): Promise<Account[]> {
    return this.database.transaction((tx) => this.store.insertAccounts(tx, requests, this.clock.nowMs()));
  }

  /** Creates a batch of transfers in one transaction; one result per transfer, in order. */
  createTransfers(requests: readonly TransferRequest[]): Promise<TransferResult[]> {
    if (requests.length > limits.transferBatchSizeMax) {
      throw new RangeError(`a batch holds at most ${limits.transferBatchSizeMax} transfers`);
    }
    return this.database.transaction((tx) => this.store.createTransfersIn(tx, requests, this.clock.nowMs()));
  }

  /** Reads accounts by id (no lock). */
  lookupAccounts(ids: readonly string[]): Promise<Account[]> {
    return this.store.selectAccounts(this.database, ids, false);
  }

  /**
   * Expires pending transfers whose timeout has passed, at most `limit` in one transaction. The expire
   * transfer's id is derived from the hold's id, so two sweepers racing for one hold record one expiry.
   */
  async expireDue(limit: number = limits.sweepBatchSizeMax): Promise<number> {
    return this.database.transaction(async (tx) => {
      const nowMs = this.clock.nowMs();
      const due = await this.store.selectDuePending(tx, nowMs, Math.min(limit, limits.sweepBatchSizeMax));
      const results = await this.store.createTransfersIn(
        tx,
        due.map((pendingId) => ({
          id: expiryTransferId(this.keyedHash, pendingId),
          kind: 'expire' as const,
          pendingId,
        })),
        nowMs,
      );
      return results.filter((result) => result.status === 'created').length;
    });
  }

  /** Checks every invariant of the ledger; see `docs/ledger.md`. */
  verify(): Promise<LedgerVerification> {
    return this.store.verifyLedgerIn(this.database);
  }
}

/** The id of the transfer that expires hold `pendingId`, under the platform's keyed hash. */
export function expiryTransferId(keyedHash: KeyedHash, pendingId: string): string {
  return derivedId(keyedHash, 'expire', pendingId);
}
