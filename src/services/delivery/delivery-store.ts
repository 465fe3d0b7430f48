/**
 * What the delivery outbox needs from storage; `store/delivery-repository` implements it in SQL. The
 * outbox rows themselves are written by the payment service in the payment's own transaction.
 */
import type { PaymentStatus } from '../../domain/payment.js';
import type { SqlExecutor } from '../database.js';

/** Where a delivery stands. */
export type DeliveryStatus = 'pending' | 'delivered' | 'failed' | 'skipped';

/** An outbox row. */
export interface DeliveryRecord {
  readonly id: string;
  readonly payerId: string;
  readonly paymentId: string | null;
  /** The destination kind, e.g. `second_terminal`; it is sent through every channel configured for it. */
  readonly channel: string;
  readonly payloadSealed: string;
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAtMs: number;
  readonly lastError: string | null;
  readonly createdAtMs: number;
  readonly deliveredAtMs: number | null;
}

/** One attempt of one channel. */
export interface DeliveryAttemptRecord {
  readonly id: string;
  readonly deliveryId: string;
  readonly attempt: number;
  readonly channel: string;
  readonly succeeded: boolean;
  readonly error: string | null;
  readonly createdAtMs: number;
}

/** The outcome of an attempt, written back to the row. */
export interface DeliveryOutcome {
  readonly status: DeliveryStatus;
  readonly attempts: number;
  readonly nextAttemptAtMs: number;
  readonly lastError: string | null;
  readonly deliveredAtMs: number | null;
}

/** Filter and page of the operator's listing, newest first. */
export interface DeliveryListQuery {
  readonly status?: DeliveryStatus;
  readonly payerId?: string;
  readonly limit: number;
  /** Only rows older than this one (cursor pagination). */
  readonly startingAfter?: { readonly createdAtMs: number; readonly id: string };
}

/** A message kept in the development outbox. */
export interface DevelopmentMessageRecord {
  readonly deliveryId: string;
  readonly payerId: string;
  readonly messageSealed: string;
  readonly createdAtMs: number;
}

/** Storage of the delivery outbox. */
export interface DeliveryStore {
  /**
   * Claims due pending rows, skipping rows another process holds, and moves their next attempt to
   * `leaseUntilMs` in the same statement's transaction, so that a process dying mid-delivery leaves them
   * to be retried after the lease instead of stuck.
   */
  claimDue(tx: SqlExecutor, nowMs: number, limit: number, leaseUntilMs: number): Promise<DeliveryRecord[]>;
  /** Channels that already accepted this delivery. */
  selectSucceededChannels(tx: SqlExecutor, deliveryId: string): Promise<string[]>;
  insertAttempts(tx: SqlExecutor, attempts: readonly DeliveryAttemptRecord[]): Promise<void>;
  /** Writes an outcome to a row that is still pending; false when it no longer is. */
  completeDelivery(tx: SqlExecutor, id: string, outcome: DeliveryOutcome): Promise<boolean>;
  /** Status and expiry of payments, for deciding whether their challenge is still worth sending. */
  selectPaymentStates(
    tx: SqlExecutor,
    paymentIds: readonly string[],
  ): Promise<Map<string, { status: PaymentStatus; expiresAtMs: number }>>;
  listDeliveries(tx: SqlExecutor, query: DeliveryListQuery): Promise<DeliveryRecord[]>;
  selectDelivery(tx: SqlExecutor, id: string, lock: boolean): Promise<DeliveryRecord | undefined>;
  listAttempts(tx: SqlExecutor, deliveryId: string, limit: number): Promise<DeliveryAttemptRecord[]>;
  /** Makes a failed row pending again, due at `nowMs`, with its attempt count reset. */
  retryDelivery(tx: SqlExecutor, id: string, nowMs: number): Promise<boolean>;
  insertDevelopmentMessage(tx: SqlExecutor, message: DevelopmentMessageRecord): Promise<void>;
  listDevelopmentMessages(tx: SqlExecutor, limit: number): Promise<DevelopmentMessageRecord[]>;
  purgeDevelopmentMessages(tx: SqlExecutor, createdBeforeMs: number, limit: number): Promise<number>;
}
