/**
 * The port of group commit's set-oriented statements (`store/payment-batch-repository.ts` implements it)
 * and how group commit is set up; apart from the executor so that the method's dependencies can name them
 * without importing the executor, which imports the dependencies.
 */
import type { AttemptState } from '../../domain/attempts.js';
import type { Payment, PaymentStatus } from '../../domain/payment.js';
import type { LockedPayment } from '../../domain/payment-rules.js';
import type { SqlExecutor } from '../database.js';
import type { CommitBatcherOptions } from '../group-commit/commit-batcher.js';
import type { IdempotencyClaim } from '../idempotency/idempotency-store.js';
import type { TouchedSession } from '../parties/party-store.js';
import type { PaymentInsert } from './payment-store.js';
import type { SealedCodeMaterial } from './second-codes.js';

/** A payer's sealed verification code and active terminals (sealed keys), in terminal order. */
export type PayerCodeMaterial = SealedCodeMaterial;

/** A session to check and extend, as `PartyStore.touchSession` takes it. */
export interface SessionTouch {
  readonly tokenHash: string;
  readonly nowMs: number;
  readonly idleMs: number;
  readonly lifetimeMs: number;
}

/** A payment's new status and failed-approval count. */
export interface PaymentStatusChange {
  readonly paymentId: string;
  readonly status: PaymentStatus;
  readonly failedApprovals: number;
}

/** The set-oriented statements of the executor; `store/payment-batch-repository` implements them. */
export interface PaymentBatchStore {
  selectPayeeNames(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, string>>;
  selectCodeMaterial(tx: SqlExecutor, payerIds: readonly string[]): Promise<Map<string, PayerCodeMaterial>>;
  /** Inserts payments and their second-code hashes; returns the ids inserted (a taken first code is skipped). */
  insertPayments(tx: SqlExecutor, inserts: readonly PaymentInsert[]): Promise<Set<string>>;
  /** Payments locked in id order, with their approving hashes and payers' sealed verification codes. */
  lockPayments(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, LockedPayment>>;
  /** Payments that exist among `ids`, not locked. */
  selectPayments(tx: SqlExecutor, ids: readonly string[]): Promise<Map<string, Payment>>;
  selectAttemptStates(tx: SqlExecutor, subjects: readonly string[]): Promise<Map<string, AttemptState>>;
  updatePaymentStatuses(
    tx: SqlExecutor,
    changes: readonly PaymentStatusChange[],
    nowMs: number,
  ): Promise<void>;
  /** Ids of open payments past their expiry, oldest first, at most `limit`. */
  selectDuePaymentIds(tx: SqlExecutor, nowMs: number, limit: number): Promise<string[]>;
  /**
   * Inserts the claims of idempotency keys not claimed yet, in the batch's transaction; per claim, whether
   * it was inserted. A key claimed by a transaction not yet committed makes this wait for its end.
   */
  claimKeys(tx: SqlExecutor, claims: readonly IdempotencyClaim[]): Promise<boolean[]>;
  /** Checks and extends many sessions in one statement: per touch, the live session, or undefined. */
  touchSessions(
    executor: SqlExecutor,
    touches: readonly SessionTouch[],
  ): Promise<(TouchedSession | undefined)[]>;
}

/** How group commit is set up: the batch bounds and the store of the set-oriented statements. */
export interface CommitBatching {
  readonly options: CommitBatcherOptions;
  readonly store: PaymentBatchStore;
}
